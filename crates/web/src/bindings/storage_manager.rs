//! The browser's storage manager: `db.persist()` asks for persistent storage
//! (`navigator.storage.persist()`), `db.storageEstimate()` reports usage and quota. Runtimes
//! without `navigator.storage` (Node, workerd) answer `false` and `null`.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::convert::prop;
use super::errors::JsResult;

/// `navigator.storage`, if this runtime has one.
fn manager() -> Option<JsValue> {
    let nav = prop(&js_sys::global(), "navigator");
    let storage = prop(&nav, "storage");
    storage.is_object().then_some(storage)
}

/// Calls `navigator.storage[method]()` and awaits it; `None` without a storage manager or
/// such a method.
async fn call(method: &str) -> JsResult<Option<JsValue>> {
    let Some(m) = manager() else { return Ok(None) };
    let Ok(f) = prop(&m, method).dyn_into::<Function>() else { return Ok(None) };
    let p = f.apply(&m, &Array::new())?;
    Ok(Some(JsFuture::from(Promise::resolve(&p)).await?))
}

/// `navigator.storage.persist()`: true when the origin's storage is (now) persistent, i.e.
/// exempt from eviction under storage pressure; false when refused or unsupported.
pub async fn persist() -> JsResult<bool> {
    Ok(call("persist").await?.and_then(|v| v.as_bool()).unwrap_or(false))
}

/// `{ usage, quota, persisted }` in bytes (`persisted`: `navigator.storage.persisted()`), or
/// `null` where the runtime has no storage manager.
pub async fn estimate() -> JsResult<JsValue> {
    let Some(est) = call("estimate").await? else { return Ok(JsValue::NULL) };
    let persisted = call("persisted").await?.and_then(|v| v.as_bool()).unwrap_or(false);
    let o = Object::new();
    for key in ["usage", "quota"] {
        let n = prop(&est, key).as_f64().map_or(JsValue::NULL, JsValue::from_f64);
        Reflect::set(&o, &JsValue::from_str(key), &n)?;
    }
    Reflect::set(&o, &"persisted".into(), &JsValue::from_bool(persisted))?;
    Ok(o.into())
}
