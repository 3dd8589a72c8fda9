//! The JS class `Collection`.

use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::convert::{self, to_js};
use super::errors::{to_js as err_of, JsResult};
use super::options;
use crate::collection::Collection;
use crate::storage::CommitReceipt;

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

#[wasm_bindgen(js_class = Collection)]
impl JsCollection {
    /// The collection name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Atomically writes `[{ id, vector, metadata }]` as one segment → `{ segmentId, version, retries }`.
    pub async fn upsert(&self, records: JsValue) -> JsResult<JsValue> {
        let records = convert::records(&records)?;
        Ok(receipt(&self.inner.upsert(&records).await.map_err(err_of)?))
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
