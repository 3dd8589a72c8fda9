//! Engine errors as JS `Error` objects carrying a stable `.code`.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use akidb_core::error::Error;

/// Converts an engine error into a JS `Error` with `name = "AkiDBError"` and `.code`; an
/// `OUTCOME_UNKNOWN` error also carries `.operationId`, the token `collection.operationStatus`
/// settles later.
pub fn to_js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("AkiDBError");
    let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(e.code()));
    if let Some(op) = e.operation() {
        let _ = Reflect::set(&err, &JsValue::from_str("operationId"), &JsValue::from_str(op));
    }
    err.into()
}

/// Shorthand: an INVALID_ARGUMENT JS error.
pub fn invalid(msg: impl Into<String>) -> JsValue {
    to_js(Error::InvalidArgument(msg.into()))
}

/// Result type of binding methods.
pub type JsResult<T> = Result<T, JsValue>;
