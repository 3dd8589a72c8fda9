//! The JS class `Collection`.

use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::auto_compact::{self, AutoCompact};
use super::convert::{self, to_js};
use super::errors::{to_js as err_of, JsResult};
use super::reports::{batch_receipt, commit_receipt, compaction_receipt, operation_status};
use super::{lean, live, options};
use akidb_core::collection::Collection;
use akidb_core::database::Database;
use akidb_core::storage::BatchReceipt;

/// A collection handle: `await db.collection('docs')`.
#[wasm_bindgen(js_name = Collection)]
pub struct JsCollection {
    pub(super) inner: Rc<Collection>,
    /// The database it was opened from (GC after compaction; kept alive by the handle and by
    /// its background compactions, so freeing the `AkiDB` object breaks neither).
    db: Rc<Database>,
    /// Automatic compaction after writes (`AkiDB.open({ autoCompact })`), if on.
    auto: Option<Rc<AutoCompact>>,
    /// The channel the database announces commits on (`subscribe`).
    channel: String,
}

impl JsCollection {
    pub(crate) fn new(c: Collection, db: Rc<Database>, auto_compact: bool, channel: String) -> Self {
        JsCollection { inner: Rc::new(c), db, auto: auto_compact.then(Rc::default), channel }
    }

    /// After a successful write: maybe schedule an automatic compaction (never awaited here).
    fn after_write(&self) {
        if let Some(a) = &self.auto {
            a.after_write(&self.inner, &self.db);
        }
    }
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
        self.after_write();
        batch_receipt(&r)
    }

    /// Deletes ids in one commit → `{ version }`.
    pub async fn delete(&self, ids: JsValue) -> JsResult<JsValue> {
        let ids = convert::strings(&ids, "ids")?;
        let r = self.inner.delete(&ids).await.map_err(err_of)?;
        self.after_write();
        commit_receipt(&r)
    }

    /// Compacts the collection: merges segments (size-tiered: the oldest segment not larger
    /// than all newer ones together is merged with them), drops records shadowed by a newer
    /// upsert or hidden by a tombstone, retires tombstones that hide nothing any more; each
    /// merge is ONE manifest commit that concurrent writes rebase onto. Options: `full`
    /// (rewrite everything within the budget), `auto` (only when the collection needs it),
    /// `maxInputBytes` (input budget of one merge), `maxRounds` (most merges), `gc` (one GC pass
    /// after a compaction that merged something) → `{ version, segmentsBefore, segmentsAfter,
    /// recordsDropped, tombstonesRetired, bytesRead, bytesWritten, merges, superseded, gc? }`
    /// (`gcError: { code, message }` instead of `gc` when that pass failed: the compaction
    /// itself is committed).
    pub async fn compact(&self, options: JsValue) -> JsResult<JsValue> {
        let args = options::compact(&options, self.inner.compact_options())?;
        let r = self.inner.compact(&args.opts).await.map_err(err_of)?;
        let gc = if args.gc && r.commits > 0 {
            let g = self.db.collect_garbage(self.inner.name()).await;
            if let Err(e) = &g {
                log::warn!("'{}': compacted, but the GC pass after it failed: {e}", self.inner.name());
            }
            Some(g)
        } else {
            None
        };
        compaction_receipt(&r, gc.as_ref())
    }

    /// Whether automatic compaction would compact this handle's snapshot now: at least 8
    /// segments or 1,000 tombstones and a merge the policy wants (no I/O). For runtimes that
    /// schedule compaction themselves (workerd: `ctx.waitUntil(c.compact({ auto: true, gc: true }))`).
    #[wasm_bindgen(js_name = needsCompaction)]
    pub fn needs_compaction(&self) -> bool {
        auto_compact::needed(&self.inner)
    }

    /// Seals a segment → `{ segmentId, version }`.
    pub async fn seal(&self, segment_id: JsValue) -> JsResult<JsValue> {
        let id = convert::string(&segment_id, "segmentId")?;
        commit_receipt(&self.inner.seal(&id).await.map_err(err_of)?)
    }

    /// Nearest neighbours: `search(query, { k, filter, includeMetadata, mode, oversample })`
    /// → `[{ id, score, metadata? }]`, best first.
    pub async fn search(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let q = convert::vector(&query, "query")?;
        let opts = options::search(&options)?;
        let hits = self.inner.search(&q, &opts).await.map_err(err_of)?;
        let out = Array::new_with_length(hits.len() as u32);
        super::keys::with_keys(|keys| {
            for (i, h) in hits.iter().enumerate() {
                let o = Object::new();
                let _ = Reflect::set(&o, &keys.id, &JsValue::from_str(&h.id));
                let _ = Reflect::set(&o, &keys.score, &JsValue::from_f64(h.score as f64));
                if opts.include_metadata {
                    let m = match &h.metadata {
                        Some(m) => to_js(m)?,
                        None => JsValue::NULL,
                    };
                    let _ = Reflect::set(&o, &keys.metadata, &m);
                }
                out.set(i as u32, o.into());
            }
            Ok::<_, JsValue>(())
        })?;
        Ok(out.into())
    }

    /// The lean search: `searchIds(query, options | k)` → `{ ids: string[], scores:
    /// Float32Array }`, best first (same hits and scores as `search`, no metadata). `options`
    /// as for `search`, or just the number `k`.
    #[wasm_bindgen(js_name = searchIds)]
    pub async fn search_ids(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let q = convert::vector(&query, "query")?;
        let opts = lean::search_options(&options)?;
        let hits = self.inner.search(&q, &opts).await.map_err(err_of)?;
        Ok(lean::ids_and_scores(&hits))
    }

    /// `searchIds`, synchronously, on the snapshot already in memory (no promise, no I/O):
    /// throws NOT_LOADED when the handle's current snapshot is not loaded yet — after
    /// `await load()` (or any search or count) it is, until the snapshot moves (a refresh, a
    /// write, a subscription seeing another tab's commit).
    #[wasm_bindgen(js_name = searchIdsSync)]
    pub fn search_ids_sync(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let q = convert::vector(&query, "query")?;
        let opts = lean::search_options(&options)?;
        Ok(lean::ids_and_scores(&self.inner.search_loaded(&q, &opts).map_err(err_of)?))
    }

    /// Loads the current snapshot into memory (segments read and decoded once, cached by id),
    /// so `searchIdsSync` can answer → the snapshot's version.
    pub async fn load(&self) -> JsResult<f64> {
        self.inner.load().await.map_err(err_of)?;
        Ok(self.inner.version() as f64)
    }

    /// The version of the snapshot this handle reads (no I/O).
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.inner.version() as f64
    }

    /// Live updates: calls `listener(version)` after commits by any handle, tab or worker of
    /// the origin on the same store (this handle's own included), once the handle's snapshot
    /// has moved to that version; never twice for a version, never backwards (a burst may
    /// arrive as one call with the latest). `BroadcastChannel` messages trigger a cheap
    /// conditional re-read of the manifest; without `BroadcastChannel` the handle polls.
    /// Options: `pollIntervalMs` (default: 0 = no polling where `BroadcastChannel` exists,
    /// 1000 elsewhere), `onError(error)` (a failed re-read; default: logged). Returns
    /// `unsubscribe()`.
    pub fn subscribe(&self, listener: JsValue, options: JsValue) -> JsResult<JsValue> {
        live::subscribe(self.inner.clone(), &self.channel, listener, &options)
    }

    /// Settles an `OUTCOME_UNKNOWN` error later: `operationStatus(error.operationId)` →
    /// `{ status: 'committed', version }` (it landed, creating that version),
    /// `{ status: 'not_committed' }` (it never will: retrying is safe) or `{ status: 'unknown' }`
    /// (still undecidable; ask again later). A token that is not an operation id is
    /// INVALID_ARGUMENT.
    #[wasm_bindgen(js_name = operationStatus)]
    pub async fn operation_status(&self, operation_id: JsValue) -> JsResult<JsValue> {
        let token = convert::string(&operation_id, "operationId")?;
        operation_status(self.inner.operation_status(&token).await.map_err(err_of)?)
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
