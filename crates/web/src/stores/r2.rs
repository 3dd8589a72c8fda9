//! `AkiDB.open({ store: 'r2', bucket: env.MY_BUCKET, prefix? })`: the [`Kv`] trait over a
//! Cloudflare R2 bucket binding (the Workers API, not the S3 API: no credentials, no SigV4).
//!
//! | operation | binding call | outcome |
//! |---|---|---|
//! | `get` | `get(key)` | `R2ObjectBody` → bytes + `etag`; `null` (confirmed by `head`) → `None` |
//! | `get_if_changed` | `get(key, { onlyIf: { etagDoesNotMatch: known } })` | object without `body` → `Unchanged`; `null` → `Missing` |
//! | `put(Any)` | `put(key, bytes)` | `R2Object.etag` |
//! | `put(IfAbsent)` | `put(key, bytes, { onlyIf: { etagDoesNotMatch: '*' } })` | `null` → `PreconditionFailed` |
//! | `put(IfVersion(e))` | `put(key, bytes, { onlyIf: { etagMatches: e } })` | `null` (etag differs or key missing) → `PreconditionFailed` |
//! | `delete` | `delete(key)` | also for a missing key |
//! | `list` | `list({ prefix, cursor, limit: 1000 })` until `truncated` is false | keys in byte order |
//!
//! Version tokens are the unquoted `etag`s, content hashes like S3's (`TokenModel::ContentHash`;
//! AkiDB never writes identical bytes to a key twice). A binding call that throws is transient
//! (R2's internal errors, rate limits); a throwing `put` is ambiguous and settled by the commit
//! loop's re-read. What this relies on, and how it was checked, is in docs/EDGE.md.

use async_trait::async_trait;
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::JsValue;

use crate::js::{call, method, prop, set, thrown};
use akidb_core::kv::{GetIfChanged, Kv, KvError, PutCondition, VersionToken, Versioned};

const NAME: &str = "R2";
/// Keys per `list` page (R2's maximum).
const PAGE: f64 = 1000.0;
/// Reads retried when `get` says "missing" but `head` finds the object (see `read`).
const MISS_CONFIRMATIONS: u32 = 3;

/// A store over an R2 bucket binding.
pub struct R2Kv {
    bucket: JsValue,
}

impl R2Kv {
    /// Wraps `bucket`, checking it looks like an R2 binding (get, put, delete, list).
    pub fn new(bucket: JsValue) -> Result<Self, String> {
        let ok = bucket.is_object() && ["get", "put", "delete", "list"].iter().all(|m| method(&bucket, m).is_some());
        if !ok {
            return Err("options.bucket must be an R2 bucket binding (env.MY_BUCKET: get, put, delete, list)".into());
        }
        Ok(R2Kv { bucket })
    }

    async fn call(&self, op: &str, key: &str, args: &[JsValue], write: bool) -> Result<JsValue, KvError> {
        call(&self.bucket, op, args).await.map_err(|e| thrown(NAME, op, key, &e, write))
    }
}

fn bad(op: &str, key: &str, what: &str) -> KvError {
    KvError::Backend(format!("{NAME} {op} {key:?} returned {what}"))
}

fn etag(obj: &JsValue, op: &str, key: &str) -> Result<VersionToken, KvError> {
    match prop(obj, "etag").as_string() {
        Some(e) if !e.is_empty() => Ok(VersionToken(e)),
        _ => Err(bad(op, key, "an object without an etag")),
    }
}

/// `{ onlyIf: { <field>: value } }`
fn only_if(field: &str, value: &str) -> Object {
    let cond = Object::new();
    set(&cond, field, &JsValue::from_str(value));
    let opts = Object::new();
    set(&opts, "onlyIf", &cond);
    opts
}

impl R2Kv {
    /// Reads the body of an `R2ObjectBody` (`None` when the object has no body: a failed
    /// `onlyIf` on a get returns the bare `R2Object`).
    async fn body(&self, obj: &JsValue, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        if method(obj, "arrayBuffer").is_none() {
            return Ok(None);
        }
        let buf = call(obj, "arrayBuffer", &[]).await.map_err(|e| thrown(NAME, "get (body)", key, &e, false))?;
        Ok(Some(Uint8Array::new(&buf).to_vec()))
    }

    async fn read(&self, key: &str, known: Option<&VersionToken>) -> Result<GetIfChanged, KvError> {
        let mut args = vec![JsValue::from_str(key)];
        if let Some(t) = known {
            args.push(only_if("etagDoesNotMatch", &t.0).into());
        }
        let mut obj = self.call("get", key, &args, false).await?;
        let mut confirmations = 0;
        while obj.is_null() || obj.is_undefined() {
            // A miss is confirmed with head(): Miniflare's R2 reads the object's row, then its
            // blob, and a concurrent overwrite can delete that blob in between, so a get of an
            // existing key can resolve null (docs/EDGE.md). Real R2 reads are strongly
            // consistent; there the confirmation costs one request on genuine misses only.
            if method(&self.bucket, "head").is_none() {
                return Ok(GetIfChanged::Missing);
            }
            let k = JsValue::from_str(key);
            let head = self.call("head", key, std::slice::from_ref(&k), false).await?;
            if head.is_null() || head.is_undefined() {
                return Ok(GetIfChanged::Missing);
            }
            confirmations += 1;
            if confirmations > MISS_CONFIRMATIONS {
                return Err(KvError::Transient {
                    message: format!("{NAME} get {key:?} kept returning null while head() finds the object"),
                    ambiguous: false,
                });
            }
            obj = self.call("get", key, &args, false).await?;
        }
        let version = etag(&obj, "get", key)?;
        match self.body(&obj, key).await? {
            Some(_) if known == Some(&version) => Ok(GetIfChanged::Unchanged),
            Some(value) => Ok(GetIfChanged::Changed(Versioned { value, version })),
            None if known.is_some() => Ok(GetIfChanged::Unchanged),
            None => Err(bad("get", key, "an object without a body")),
        }
    }
}

#[async_trait(?Send)]
impl Kv for R2Kv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        match self.read(key, None).await? {
            GetIfChanged::Changed(v) => Ok(Some(v)),
            GetIfChanged::Missing => Ok(None),
            GetIfChanged::Unchanged => Err(bad("get", key, "no body for an unconditional read")),
        }
    }

    async fn get_if_changed(&self, key: &str, known: &VersionToken) -> Result<GetIfChanged, KvError> {
        self.read(key, Some(known)).await
    }

    /// `get(key, { range: { offset, length } })`: R2 reads only the range.
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>, KvError> {
        if len == 0 {
            return Ok(self.get(key).await?.map(|_| Vec::new()));
        }
        let range = Object::new();
        set(&range, "offset", &JsValue::from_f64(start as f64));
        set(&range, "length", &JsValue::from_f64(len as f64));
        let opts = Object::new();
        set(&opts, "range", &range);
        let args = [JsValue::from_str(key), opts.into()];
        let obj = self.call("get", key, &args, false).await?;
        if obj.is_null() || obj.is_undefined() {
            return Ok(None);
        }
        self.body(&obj, key).await?.map(Some).ok_or_else(|| bad("get", key, "a range read without a body"))
    }

    fn supports_ranges(&self) -> bool {
        true
    }

    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        let mut args = vec![JsValue::from_str(key), Uint8Array::from(value.as_slice()).into()];
        match &condition {
            PutCondition::Any => {}
            // The wildcard matches any existing object, so "does not match *" = "absent"
            // (HTTP If-None-Match: * semantics; docs/EDGE.md says where this was checked).
            PutCondition::IfAbsent => args.push(only_if("etagDoesNotMatch", "*").into()),
            PutCondition::IfVersion(t) => args.push(only_if("etagMatches", &t.0).into()),
        }
        let obj = self.call("put", key, &args, true).await?;
        if obj.is_null() || obj.is_undefined() {
            return match condition {
                PutCondition::Any => Err(bad("put", key, "null for an unconditional put")),
                _ => Err(KvError::PreconditionFailed),
            };
        }
        etag(&obj, "put", key)
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let k = &JsValue::from_str(key);
        self.call("delete", key, std::slice::from_ref(k), true).await?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let opts = Object::new();
            set(&opts, "prefix", &JsValue::from_str(prefix));
            set(&opts, "limit", &JsValue::from_f64(PAGE));
            if let Some(c) = &cursor {
                set(&opts, "cursor", &JsValue::from_str(c));
            }
            let opts: JsValue = opts.into();
            let page = self.call("list", prefix, std::slice::from_ref(&opts), false).await?;
            let objects = prop(&page, "objects");
            if !Array::is_array(&objects) {
                return Err(bad("list", prefix, "a page without objects"));
            }
            for o in Array::from(&objects).iter() {
                keys.push(prop(&o, "key").as_string().ok_or_else(|| bad("list", prefix, "an object without a key"))?);
            }
            if prop(&page, "truncated").as_bool() != Some(true) {
                break;
            }
            // A truncated page must move the cursor on, or the loop would never end.
            match prop(&page, "cursor").as_string() {
                Some(c) if !c.is_empty() && cursor.as_deref() != Some(c.as_str()) => cursor = Some(c),
                _ => return Err(bad("list", prefix, "a truncated page without a new cursor")),
            }
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }
}
