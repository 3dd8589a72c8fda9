//! The put of [`IndexedDbKv`]: one readwrite transaction over `kv`, `meta` and `chunks`.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use web_sys::IdbTransactionMode;

use super::events::settle;
use super::{chunks, errors, token, IndexedDbKv, COUNTER, DATA, META};
use akidb_core::kv::{KvError, PutCondition, VersionToken};

impl IndexedDbKv {
    /// One readwrite transaction: read the counter and (conditional puts) the current record,
    /// compare, write. `commit_point` picks the durability hint ([`Durability::hint`]).
    pub(super) async fn put_with(
        &self,
        key: &str,
        value: Vec<u8>,
        condition: PutCondition,
        commit_point: bool,
    ) -> Result<VersionToken, KvError> {
        let tx = self.transaction(&[DATA, META, chunks::CHUNKS], IdbTransactionMode::Readwrite, commit_point, "put")?;
        let done = settle(&tx, &["complete", "abort"])?;
        let (data, meta) = (self.store(&tx, DATA, "put")?, self.store(&tx, META, "put")?);
        let parts = self.store(&tx, chunks::CHUNKS, "put")?;
        let k = JsValue::from_str(key);
        // Both reads are queued at once; they complete in order inside this transaction.
        let counter = self.start(meta.get(&JsValue::from_str(COUNTER)), "put (read counter)")?;
        let current = match condition {
            PutCondition::Any => None,
            _ => Some(self.start(data.get(&k), "put (read current)")?),
        };
        let counter = match self.result(counter).await {
            Ok(c) if c.is_undefined() => 0.0,
            Ok(c) => c.as_f64().ok_or_else(|| self.corrupt(COUNTER, "counter is not a number"))?,
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        let current = match current {
            None => None,
            Some(p) => match self.result(p).await.and_then(|rec| self.version_of(key, &rec)) {
                Ok(v) => v,
                Err(e) => {
                    let _ = tx.abort();
                    return Err(e);
                }
            },
        };
        let allowed = match (&condition, current) {
            (PutCondition::Any, _) => true,
            (PutCondition::IfAbsent, cur) => cur.is_none(),
            (PutCondition::IfVersion(_), None) => false,
            (PutCondition::IfVersion(t), Some(cur)) => *t == token(cur),
        };
        if !allowed {
            let _ = tx.abort();
            return Err(KvError::PreconditionFailed);
        }
        let next = counter + 1.0;
        let rec = Object::new();
        let _ = Reflect::set(&rec, &JsValue::from_str("t"), &JsValue::from_f64(next));
        // Chunks of an earlier value of this key go in the same transaction.
        let writes = chunks::chunk_range(key, None).and_then(|r| parts.delete(&r)).and_then(|_| {
            if value.len() > chunks::CHUNK_BYTES {
                let n = chunks::put_chunks(&parts, key, &value)?;
                let _ = Reflect::set(&rec, &JsValue::from_str("v"), &Uint8Array::new_with_length(0));
                let _ = Reflect::set(&rec, &JsValue::from_str("n"), &JsValue::from_f64(n as f64));
                let _ = Reflect::set(&rec, &JsValue::from_str("len"), &JsValue::from_f64(value.len() as f64));
            } else {
                let _ = Reflect::set(&rec, &JsValue::from_str("v"), &Uint8Array::from(&value[..]));
            }
            meta.put_with_key(&JsValue::from_f64(next), &JsValue::from_str(COUNTER))?;
            data.put_with_key(&rec, &k)
        });
        if let Err(e) = writes {
            let _ = tx.abort();
            return Err(errors::from_js(&self.db_name, "put", &e));
        }
        self.finish(&tx, done, "put").await?;
        Ok(token(next))
    }
}
