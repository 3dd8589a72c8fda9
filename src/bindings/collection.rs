//! The JS class `Collection`.

use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::convert::{self, to_js};
use super::errors::{to_js as err_of, JsResult};
use super::options;
use crate::collection::Collection;
use crate::storage::{BatchReceipt, CommitReceipt, OperationStatus};

/// A collection handle: `await db.collection('docs')`.
#[wasm_bindgen(js_name = Collection)]
pub struct JsCollection {
    inner: Rc<Collection>,
}

impl JsCollection {
    pub(crate) fn new(c: Collection) -> Self {
        JsCollection { inner: Rc::new(c) }
    }
}

fn receipt(r: &CommitReceipt) -> JsValue {
    let o = Object::new();
    if let Some(id) = r.segment_id {
        let _ = Reflect::set(&o, &"segmentId".into(), &JsValue::from_str(&id.to_string()));
    }
    let _ = Reflect::set(&o, &"version".into(), &JsValue::from_f64(r.version as f64));
    let _ = Reflect::set(&o, &"retries".into(), &JsValue::from_f64(r.retries as f64));
    o.into()
}

fn batch_receipt(r: &BatchReceipt) -> JsValue {
    let o = Object::new();
    if let Some(first) = r.segment_ids.first() {
        let _ = Reflect::set(&o, &"segmentId".into(), &JsValue::from_str(&first.to_string()));
    }
    let ids: Array = r.segment_ids.iter().map(|id| JsValue::from_str(&id.to_string())).collect();
    let _ = Reflect::set(&o, &"segmentIds".into(), &ids);
    let _ = Reflect::set(&o, &"version".into(), &JsValue::from_f64(r.version as f64));
    let _ = Reflect::set(&o, &"retries".into(), &JsValue::from_f64(r.retries as f64));
    o.into()
}

#[wasm_bindgen(js_class = Collection)]
impl JsCollection {
    /// The collection name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Atomically writes `[{ id, vector, metadata }]` → `{ segmentId, segmentIds, version, retries }`.
    /// Options: `segmentSize` (records per segment object, default 10,000) and
    /// `onProgress(done, total)` (called after each segment object is written). However many
    /// segments a batch needs, one manifest commit lists them all: all records or none.
    pub async fn upsert(&self, records: JsValue, options: JsValue) -> JsResult<JsValue> {
        let opts = options::upsert(&options)?;
        let records = convert::records(&records)?;
        let mut progress = |done: usize, total: usize| {
            if let Some(f) = &opts.on_progress {
                if let Err(e) =
                    f.call2(&JsValue::NULL, &JsValue::from_f64(done as f64), &JsValue::from_f64(total as f64))
                {
                    log::warn!("upsert onProgress callback threw: {e:?}");
                }
            }
        };
        // One segment's worth goes through group commit (coalesced with concurrent upserts);
        // larger batches are split into segments listed by one commit.
        let r = if records.len() <= opts.segment_size {
            let r = self.inner.upsert(&records).await.map_err(err_of)?;
            progress(records.len(), records.len());
            BatchReceipt {
                segment_ids: r.segment_id.into_iter().collect(),
                version: r.version,
                retries: r.retries,
                committed: r.committed,
            }
        } else {
            self.inner.upsert_batched(&records, opts.segment_size, &mut progress).await.map_err(err_of)?
        };
        Ok(batch_receipt(&r))
    }

    /// Deletes ids in one commit → `{ version }`.
    pub async fn delete(&self, ids: JsValue) -> JsResult<JsValue> {
        let ids = convert::strings(&ids, "ids")?;
        Ok(receipt(&self.inner.delete(&ids).await.map_err(err_of)?))
    }

    /// Seals a segment → `{ segmentId, version }`.
    pub async fn seal(&self, segment_id: JsValue) -> JsResult<JsValue> {
        let id = convert::string(&segment_id, "segmentId")?;
        Ok(receipt(&self.inner.seal(&id).await.map_err(err_of)?))
    }

    /// Nearest neighbours: `search(query, { k, filter, includeMetadata, mode, oversample })`
    /// → `[{ id, score, metadata? }]`, best first.
    pub async fn search(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let q = convert::vector(&query, "query")?;
        let opts = options::search(&options)?;
        let hits = self.inner.search(&q, &opts).await.map_err(err_of)?;
        let out = Array::new_with_length(hits.len() as u32);
        for (i, h) in hits.iter().enumerate() {
            let o = Object::new();
            let _ = Reflect::set(&o, &"id".into(), &JsValue::from_str(&h.id));
            let _ = Reflect::set(&o, &"score".into(), &JsValue::from_f64(h.score as f64));
            if opts.include_metadata {
                let m = match &h.metadata {
                    Some(m) => to_js(m)?,
                    None => JsValue::NULL,
                };
                let _ = Reflect::set(&o, &"metadata".into(), &m);
            }
            out.set(i as u32, o.into());
        }
        Ok(out.into())
    }

    /// Settles an `OUTCOME_UNKNOWN` error later: `operationStatus(error.operationId)` →
    /// `{ status: 'committed', version }` (it landed, creating that version),
    /// `{ status: 'not_committed' }` (it never will: retrying is safe) or `{ status: 'unknown' }`
    /// (still undecidable; ask again later). A token that is not an operation id is
    /// INVALID_ARGUMENT.
    #[wasm_bindgen(js_name = operationStatus)]
    pub async fn operation_status(&self, operation_id: JsValue) -> JsResult<JsValue> {
        let token = convert::string(&operation_id, "operationId")?;
        let status = self.inner.operation_status(&token).await.map_err(err_of)?;
        let o = Object::new();
        let name = match status {
            OperationStatus::Committed { version } => {
                let _ = Reflect::set(&o, &"version".into(), &JsValue::from_f64(version as f64));
                "committed"
            }
            OperationStatus::NotCommitted => "not_committed",
            OperationStatus::Unknown => "unknown",
        };
        let _ = Reflect::set(&o, &"status".into(), &JsValue::from_str(name));
        Ok(o.into())
    }

    /// The committed manifest as a plain object (re-read from the store).
    pub async fn manifest(&self) -> JsResult<JsValue> {
        to_js(&self.inner.manifest().await.map_err(err_of)?)
    }

    /// Re-reads the manifest; resolves to true when a newer version was found.
    pub async fn refresh(&self) -> JsResult<bool> {
        self.inner.refresh().await.map_err(err_of)
    }

    /// Live records in the current snapshot.
    pub async fn count(&self) -> JsResult<f64> {
        Ok(self.inner.count().await.map_err(err_of)? as f64)
    }
}
