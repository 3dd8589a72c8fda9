//! `AkiDB.open({ store: 'custom', kv })`: the [`Kv`] trait over any JS object with
//!
//! ```text
//! get(key)                        → { value: Uint8Array, version: string } | null
//! put(key, value, { ifMatch?, ifAbsent? }) → { version: string } | null   (null: condition failed)
//! delete(key)                     → anything (deleting an absent key succeeds)
//! list(prefix)                    → string[] (any order; sorted here)
//! ```
//!
//! each method sync or async. What the object must guarantee (atomic conditional puts, tokens
//! that never come back for different bytes) is in pkg/index.d.ts (`AkiDBCustomStore`); the
//! conformance suite (`runConformance`) checks it. A method that throws is a transient failure:
//! reads are retried a few times, a throwing `put` is an ambiguous write that the commit loop
//! settles by re-reading (so a store may throw after applying a put without breaking
//! exactly-once). Malformed return values are STORAGE errors naming the method.

use async_trait::async_trait;
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::JsValue;

use crate::js::{bytes, call, prop, set, thrown};
use akidb_core::kv::{Kv, KvError, PutCondition, VersionToken, Versioned};

const NAME: &str = "custom store";

/// A store backed by a user's JS object.
pub struct CustomKv {
    store: JsValue,
}

impl CustomKv {
    /// Wraps `store`, checking it has the four methods.
    pub fn new(store: JsValue) -> Result<Self, String> {
        if !store.is_object() {
            return Err("options.kv must be an object with get, put, delete and list methods".into());
        }
        for m in ["get", "put", "delete", "list"] {
            if crate::js::method(&store, m).is_none() {
                return Err(format!("options.kv.{m} must be a function (a store needs get, put, delete and list)"));
            }
        }
        Ok(CustomKv { store })
    }
}

fn bad(op: &str, what: &str) -> KvError {
    KvError::Backend(format!("{NAME} {op} returned {what}"))
}

/// The `version` of a `get` or `put` result: a non-empty string.
fn version(v: &JsValue, op: &str) -> Result<VersionToken, KvError> {
    match prop(v, "version").as_string() {
        Some(s) if !s.is_empty() => Ok(VersionToken(s)),
        _ => Err(bad(op, "no version (expected { version: non-empty string })")),
    }
}

#[async_trait(?Send)]
impl Kv for CustomKv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        let k = &JsValue::from_str(key);
        let r =
            call(&self.store, "get", std::slice::from_ref(k)).await.map_err(|e| thrown(NAME, "get", key, &e, false))?;
        if r.is_null() || r.is_undefined() {
            return Ok(None);
        }
        let value = bytes(&prop(&r, "value")).ok_or_else(|| bad("get", "no value (expected a Uint8Array)"))?;
        Ok(Some(Versioned { value, version: version(&r, "get")? }))
    }

    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        let opts = Object::new();
        match &condition {
            PutCondition::Any => {}
            PutCondition::IfAbsent => set(&opts, "ifAbsent", &JsValue::TRUE),
            PutCondition::IfVersion(t) => set(&opts, "ifMatch", &JsValue::from_str(&t.0)),
        }
        // A fresh copy out of wasm memory: the store may keep it.
        let args = [JsValue::from_str(key), Uint8Array::from(value.as_slice()).into(), opts.into()];
        let r = call(&self.store, "put", &args).await.map_err(|e| thrown(NAME, "put", key, &e, true))?;
        if r.is_null() || r.is_undefined() {
            return match condition {
                PutCondition::Any => Err(bad("put", "null for an unconditional put")),
                _ => Err(KvError::PreconditionFailed),
            };
        }
        version(&r, "put")
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let k = &JsValue::from_str(key);
        call(&self.store, "delete", std::slice::from_ref(k))
            .await
            .map_err(|e| thrown(NAME, "delete", key, &e, true))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let p = &JsValue::from_str(prefix);
        let r = call(&self.store, "list", std::slice::from_ref(p))
            .await
            .map_err(|e| thrown(NAME, "list", prefix, &e, false))?;
        if !Array::is_array(&r) {
            return Err(bad("list", "something other than an array of keys"));
        }
        let mut keys = Vec::new();
        for k in Array::from(&r).iter() {
            let k = k.as_string().ok_or_else(|| bad("list", "a key that is not a string"))?;
            // Keys outside the prefix would make AkiDB act on objects it did not ask about.
            if !k.starts_with(prefix) {
                return Err(bad("list", &format!("key {k:?} outside the prefix {prefix:?}")));
            }
            keys.push(k);
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }
}
