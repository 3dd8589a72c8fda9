//! Bulk upserts: one logical upsert split into several segment objects that are all listed by ONE
//! manifest commit, so the whole batch stays atomic however many segments it needs.

use uuid::Uuid;

use super::{check_reupload, Operation, Storage};
use crate::error::{Error, Result};
use crate::manifest::{CollectionManifest, SegmentDescriptor};
use crate::record::Record;
use crate::validate;

/// Default number of records per segment object in a bulk upsert.
pub const DEFAULT_SEGMENT_SIZE: usize = 10_000;

/// What a bulk upsert committed.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchReceipt {
    /// The segment objects written, in record order.
    pub segment_ids: Vec<Uuid>,
    /// The manifest version that lists all of them.
    pub version: u64,
    /// How many times the manifest commit was retried.
    pub retries: u32,
    /// False when every segment was already listed and no commit was needed.
    pub committed: bool,
}

impl Storage {
    /// Validates all `records` (as one batch: ids must be unique across it), writes them as segment
    /// objects of at most `segment_size` records each (create-only), calling
    /// `progress(records_written, total)` after each one, then lists every segment in ONE manifest
    /// commit through the retrying loop. All records become visible at once or not at all: a
    /// failure before the commit leaves only unreferenced objects, which GC removes.
    pub async fn write_segments_with_data(
        &self,
        name: &str,
        records: &[Record],
        segment_size: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<BatchReceipt> {
        let manifest = self.load_manifest(name).await?;
        self.write_segments_as(&manifest, records, segment_size, progress).await
    }

    /// [`Storage::write_segments_with_data`] into the collection incarnation of `manifest` (a
    /// recent manifest: its GC generation tags the uploads).
    pub async fn write_segments_as(
        &self,
        manifest: &CollectionManifest,
        records: &[Record],
        segment_size: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<BatchReceipt> {
        let name = manifest.collection.as_str();
        if segment_size == 0 {
            return Err(Error::invalid("segmentSize must be at least 1"));
        }
        validate::batch_for(records, manifest.dimension, manifest.distance)?;
        let chunks: Vec<&[Record]> = records.chunks(segment_size).collect();
        let mut descs = Vec::with_capacity(chunks.len());
        let mut done = 0;
        for chunk in &chunks {
            match self.write_segment_object(name, manifest, manifest.gc_gen, &[chunk]).await {
                Ok(d) => descs.push(d),
                Err(e) => {
                    self.remove_unlisted(manifest, &descs).await;
                    return Err(e);
                }
            }
            done += chunk.len();
            progress(done, records.len());
        }
        // Re-read after the uploads: the compare-and-swap window is only read -> put. Uploads
        // that took long enough for GC to fence them off are written again (we have the
        // records), under the same operation, so the batch still commits exactly once.
        let op = Operation::new();
        let mut rounds = 0;
        loop {
            let current = descs.clone();
            let result = self.commit_segments(manifest, &op, &|| current.clone(), || async {}).await;
            let (out, stale) = match result {
                Ok(r) => r,
                Err(e) => {
                    // Never delete what a commit of unknown outcome may list.
                    if e.code() != "OUTCOME_UNKNOWN" {
                        self.remove_unlisted(manifest, &descs).await;
                    }
                    return Err(e);
                }
            };
            let Some(gen) = stale else {
                return Ok(BatchReceipt {
                    segment_ids: descs.iter().map(|d| d.id).collect(),
                    version: out.version,
                    retries: out.retries,
                    committed: out.committed,
                });
            };
            rounds = check_reupload(rounds, name)?;
            for (i, chunk) in chunks.iter().enumerate() {
                if descs[i].gen.saturating_add(1) < gen {
                    descs[i] = self.write_segment_object(name, manifest, gen, &[chunk]).await?;
                }
            }
        }
    }

    /// Best-effort removal of segment objects this upsert wrote but never listed (a later segment
    /// failed, e.g. on quota), so a failed upsert leaves nothing behind; GC covers what remains.
    async fn remove_unlisted(&self, manifest: &CollectionManifest, descs: &[SegmentDescriptor]) {
        for d in descs {
            if let Err(e) = self.kv().delete(&self.segment_key(&manifest.collection, manifest.incarnation, d)).await {
                log::warn!("could not remove unlisted segment {} of '{}': {e}", d.id, manifest.collection);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::distance::Distance;
    use crate::kv::{Kv, KvError, MemoryKv, PutCondition};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn recs(n: usize) -> Vec<Record> {
        (0..n).map(|i| Record::new(format!("r{i}"), vec![i as f32 + 1.0, 1.0], None)).collect()
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn splits_into_segments_and_commits_once() {
        let kv = Arc::new(MemoryKv::new());
        let s = Storage::new(kv.clone() as Arc<dyn Kv>);
        run(async {
            s.create_collection("c", 2, Distance::L2).await.unwrap();
            let mut calls = Vec::new();
            let r = s.write_segments_with_data("c", &recs(25), 10, &mut |d, t| calls.push((d, t))).await.unwrap();
            assert_eq!(calls, vec![(10, 25), (20, 25), (25, 25)]);
            assert_eq!(r.segment_ids.len(), 3);
            assert_eq!(r.version, 2, "one manifest commit for the whole batch");
            let m = s.load_manifest("c").await.unwrap();
            assert_eq!(m.segments.iter().map(|d| d.record_count).collect::<Vec<_>>(), vec![10, 10, 5]);
            assert_eq!(m.total_vectors, 25);
            assert!(r.segment_ids.iter().all(|id| m.segment(id).is_some()));
        });
    }

    #[test]
    fn invalid_batches_write_nothing() {
        let kv = Arc::new(MemoryKv::new());
        let s = Storage::new(kv.clone() as Arc<dyn Kv>);
        run(async {
            s.create_collection("c", 2, Distance::L2).await.unwrap();
            let before = kv.dump();
            let mut bad = recs(25);
            bad[21].id = "r3".into();
            let e = s.write_segments_with_data("c", &bad, 10, &mut |_, _| {}).await.unwrap_err();
            assert!(e.to_string().contains("record 21") && e.to_string().contains("duplicate id"), "{e}");
            let e = s.write_segments_with_data("c", &recs(3), 0, &mut |_, _| {}).await.unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert_eq!(kv.dump(), before, "rejected batches wrote nothing");
        });
    }

    /// Fails every put of a segment object after the first `ok` ones (like a full disk).
    struct FullAfter {
        inner: MemoryKv,
        ok: AtomicUsize,
    }

    #[async_trait::async_trait(?Send)]
    impl Kv for FullAfter {
        async fn get(&self, key: &str) -> std::result::Result<Option<crate::kv::Versioned>, KvError> {
            self.inner.get(key).await
        }
        async fn put(
            &self,
            key: &str,
            value: Vec<u8>,
            condition: PutCondition,
        ) -> std::result::Result<crate::kv::VersionToken, KvError> {
            if key.ends_with(".seg") {
                if self.ok.load(Ordering::SeqCst) == 0 {
                    return Err(KvError::Backend("quota exceeded".into()));
                }
                self.ok.fetch_sub(1, Ordering::SeqCst);
            }
            self.inner.put(key, value, condition).await
        }
        async fn delete(&self, key: &str) -> std::result::Result<(), KvError> {
            self.inner.delete(key).await
        }
        async fn list(&self, prefix: &str) -> std::result::Result<Vec<String>, KvError> {
            self.inner.list(prefix).await
        }
    }

    #[test]
    fn a_failed_segment_write_removes_the_segments_already_written() {
        let kv = Arc::new(FullAfter { inner: MemoryKv::new(), ok: AtomicUsize::new(2) });
        let s = Storage::new(kv.clone() as Arc<dyn Kv>);
        run(async {
            s.create_collection("c", 2, Distance::L2).await.unwrap();
            let mut calls = 0;
            let e = s.write_segments_with_data("c", &recs(25), 10, &mut |_, _| calls += 1).await.unwrap_err();
            assert_eq!(e.code(), "STORAGE");
            assert_eq!(calls, 2, "two segments were written before the store filled up");
            assert!(kv.list("collections/c/1/").await.unwrap().is_empty(), "nothing left behind");
            assert_eq!(s.load_manifest("c").await.unwrap().version, 1);
        });
    }

    #[test]
    fn a_failed_commit_lists_no_segment() {
        use crate::kv::{ChaosConfig, ChaosKv};
        use crate::retry::RetryPolicy;
        let mem = Arc::new(MemoryKv::new());
        let chaos = ChaosKv::new(
            mem.clone(),
            ChaosConfig { max_delay: std::time::Duration::ZERO, always_conflict: true, ..Default::default() },
        );
        let policy = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
        let s = Storage::new(Arc::new(chaos) as Arc<dyn Kv>).with_retry_policy(policy);
        run(async {
            Storage::new(mem.clone() as Arc<dyn Kv>).create_collection("c", 2, Distance::L2).await.unwrap();
            let e = s.write_segments_with_data("c", &recs(25), 10, &mut |_, _| {}).await.unwrap_err();
            assert_eq!(e.code(), "CONFLICT");
            let m = Storage::new(mem.clone() as Arc<dyn Kv>).load_manifest("c").await.unwrap();
            assert!(m.segments.is_empty(), "nothing of the batch is visible");
            assert_eq!(m.version, 1);
        });
    }
}
