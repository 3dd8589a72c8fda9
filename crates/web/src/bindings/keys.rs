//! Property names the hot paths read and write, as JS strings created once per realm (every
//! `Reflect.get` with a fresh key would first decode the key into a new JS string).

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// JS strings of the property names the hot paths read and write.
pub struct Keys {
    pub k: JsValue,
    pub filter: JsValue,
    pub include_metadata: JsValue,
    pub mode: JsValue,
    pub oversample: JsValue,
    pub probes: JsValue,
    pub prune: JsValue,
    pub recall: JsValue,
    pub id: JsValue,
    pub score: JsValue,
    pub metadata: JsValue,
    pub vector: JsValue,
    pub ids: JsValue,
    pub scores: JsValue,
}

thread_local! {
    static KEYS: Keys = Keys {
        k: "k".into(),
        filter: "filter".into(),
        include_metadata: "includeMetadata".into(),
        mode: "mode".into(),
        oversample: "oversample".into(),
        probes: "probes".into(),
        prune: "prune".into(),
        recall: "recall".into(),
        id: "id".into(),
        score: "score".into(),
        metadata: "metadata".into(),
        vector: "vector".into(),
        ids: "ids".into(),
        scores: "scores".into(),
    };
}

/// Runs `f` with the cached property names.
pub fn with_keys<R>(f: impl FnOnce(&Keys) -> R) -> R {
    KEYS.with(f)
}

/// `obj[key]` (undefined when `obj` is not an object).
pub fn get(obj: &JsValue, key: &JsValue) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, key).unwrap_or(JsValue::UNDEFINED)
}
