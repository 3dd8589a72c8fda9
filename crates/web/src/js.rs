//! The one set of JS helpers of the crate: property get/set, global lookups, calling a method
//! and awaiting what it returns, reading bytes, and turning a thrown value into a [`KvError`]
//! (the plumbing of the stores whose backend is a JS object: an R2 bucket binding, a user's
//! own store). A store call that throws is transient: for a read it is
//! retried a few times here; for a write it is *ambiguous* (the call may have reached the
//! backend and applied before it failed), and the commit loop resolves it by re-reading.

use std::time::Duration;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use akidb_core::kv::KvError;
use akidb_core::retry::{Jitter, RetryPolicy};

/// Attempts of an idempotent read (`get`, `list`) or `delete` that throws, before giving up.
const READ_ATTEMPTS: u32 = 3;

/// Property `key` of `obj` (undefined when missing, or when `obj` is neither an object nor a
/// function: `Reflect.get` would throw on a primitive).
pub fn prop(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Property `key` of the global object (`globalThis[key]`).
pub fn global(key: &str) -> JsValue {
    prop(&js_sys::global(), key)
}

/// The global function `name` (`setTimeout`, `requestIdleCallback`...), if the runtime has it.
pub fn global_fn(name: &str) -> Option<Function> {
    global(name).dyn_into::<Function>().ok()
}

/// Method `name` of `obj`, if it is a function.
pub fn method(obj: &JsValue, name: &str) -> Option<Function> {
    prop(obj, name).dyn_into::<Function>().ok()
}

/// Sets `obj[key] = value` (a failure, e.g. a frozen object, is ignored: every object set
/// here was created by this crate).
pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    set_with(obj, &JsValue::from_str(key), value);
}

/// Sets `obj[key] = value` with a key already a JS string (hot paths cache their keys).
pub fn set_with(obj: &JsValue, key: &JsValue, value: &JsValue) {
    let _ = Reflect::set(obj, key, value);
}

/// The text of a thrown JS value: `name: message`, bounded (never the value itself when it is
/// not an error, which could be large).
pub fn message(e: &JsValue) -> String {
    let text = e
        .as_string()
        .or_else(|| prop(e, "message").as_string())
        .unwrap_or_else(|| "a non-Error value was thrown".to_string());
    let name = prop(e, "name").as_string().map(|n| format!("{n}: ")).unwrap_or_default();
    format!("{name}{text}").chars().take(400).collect()
}

/// Calls `obj.name(...args)` and awaits the result when it is a promise (a plain value is
/// taken as it is). A synchronous throw and a rejection are both `Err` with the thrown value.
pub async fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f = method(obj, name).ok_or_else(|| JsValue::from_str(&format!("the store has no method {name}()")))?;
    let argv: js_sys::Array = args.iter().collect();
    let ret = f.apply(obj, &argv)?;
    JsFuture::from(Promise::resolve(&ret)).await
}

/// Bytes of a `Uint8Array` (or any `ArrayBufferView`) or an `ArrayBuffer`, copied.
pub fn bytes(v: &JsValue) -> Option<Vec<u8>> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Some(a.to_vec());
    }
    if v.is_instance_of::<js_sys::ArrayBuffer>() {
        return Some(Uint8Array::new(v).to_vec());
    }
    if js_sys::ArrayBuffer::is_view(v) {
        let buffer = prop(v, "buffer");
        let offset = prop(v, "byteOffset").as_f64()? as u32;
        let len = prop(v, "byteLength").as_f64()? as u32;
        return Some(Uint8Array::new_with_byte_offset_and_length(&buffer, offset, len).to_vec());
    }
    None
}

/// What a thrown value means for operation `op` of store `store` on `key`: a `TypeError`
/// (wrong arguments, not a store at all) is a backend failure that retrying cannot fix;
/// anything else is transient, ambiguous for writes.
pub fn thrown(store: &str, op: &str, key: &str, e: &JsValue, write: bool) -> KvError {
    let msg = format!("{store} {op} {key:?}: {}", message(e));
    if prop(e, "name").as_string().as_deref() == Some("TypeError") {
        return KvError::Backend(msg);
    }
    KvError::Transient { message: msg, ambiguous: write }
}

/// How the JS-backed stores (R2, custom) retry an idempotent operation that throws: twice,
/// after 10 ms and 40 ms (a blip in the backend should not fail a search), through
/// [`akidb_core::kv::RetryingKv`].
pub fn read_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: READ_ATTEMPTS - 1,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        multiplier: 4.0,
        jitter: Jitter::None,
        max_elapsed: None,
    }
}
