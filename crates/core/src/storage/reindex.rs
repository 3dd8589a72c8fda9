//! Which partitioning a merge output is indexed under. A collection has one partitioning
//! (format v3): the first merge of at least [`IVF_MIN_ROWS`] rows (or [`TRAIN_MIN_ROWS`] in a
//! collection of at least [`IVF_MIN_ROWS`]) trains and calibrates it, on a sample of every
//! segment when the collection holds many more rows than the merge; every later merge output of
//! at least [`SHARED_INDEX_MIN_ROWS`] rows lists its rows under the same centroids, found in an
//! input or read from the header of a listed segment. Once the collection has grown
//! [`RETRAIN_GROWTH`]-fold past the rows the partitioning was trained for, a merge that
//! rewrites every segment retrains, or a full compaction retrains on a sample and rewrites each
//! segment under the new centroids ([`Storage::retrain_grown`]). v2 segments (their own
//! centroids) are never reused: the merge that rewrites them trains or reuses a v3
//! partitioning, converting them.

use std::rc::Rc;

use log::{debug, info};

use super::compact::{CompactionReceipt, Plan};
use super::Storage;
use crate::error::Result;
use crate::index::ivf::{self, BuildOptions};
use crate::limits::{IVF_MIN_ROWS, RETRAIN_GROWTH, SHARED_INDEX_MIN_ROWS, TRAIN_MIN_ROWS};
use crate::manifest::CollectionManifest;
use crate::search::exec::calibrate;
use crate::segment::partition::Partitioning;
use crate::segment::{v2, Segment};

/// What to do with a merge output.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// Leave it flat (too small).
    Flat,
    /// Train (and calibrate) a new partitioning on it.
    Train,
    /// List its rows under this existing partitioning.
    Reuse(Rc<Partitioning>),
}

/// The policy: see the module docs. `existing` is the collection's partitioning if it has one,
/// `rows` the output's rows, `covers_all` whether the merge rewrites every segment.
pub fn choose(m: &CollectionManifest, existing: Option<Rc<Partitioning>>, rows: usize, covers_all: bool) -> Choice {
    let existing = existing.filter(|p| p.dim == m.dimension as usize && p.partitions() > 0);
    match existing {
        Some(p) if covers_all && rows >= IVF_MIN_ROWS && rows as u64 >= RETRAIN_GROWTH * u64::from(p.trained_rows) => {
            Choice::Train
        }
        Some(p) if rows >= SHARED_INDEX_MIN_ROWS => Choice::Reuse(p),
        None if rows >= IVF_MIN_ROWS || (rows >= TRAIN_MIN_ROWS && m.total_vectors >= IVF_MIN_ROWS as u64) => {
            Choice::Train
        }
        _ => Choice::Flat,
    }
}

/// The v3 partitioning with the most training rows among decoded segments.
pub fn best_of<'a>(segs: impl IntoIterator<Item = &'a Segment>) -> Option<Rc<Partitioning>> {
    segs.into_iter()
        .filter_map(|s| s.index.as_ref().map(|i| i.shared.clone()))
        .filter(|p| p.id.is_some())
        .max_by_key(|p| p.trained_rows)
}

/// `rows` (of a collection of `collection_rows`) indexed under a new calibrated partitioning
/// trained on them, with some held out of training as the calibration's queries.
pub fn train(m: &CollectionManifest, rows: &Segment, collection_rows: usize) -> Segment {
    let held_out = calibrate::sample_rows(rows.len());
    let (seg, queries) = ivf::build_for(m.distance, rows, collection_rows, &held_out, &BuildOptions::default());
    calibrate::calibrate(m.distance, seg, &queries)
}

/// Rows a training sample may hold: the merge budget's worth of vectors (a merge already
/// holds that much), at least the rows of the output itself.
fn sample_cap(m: &CollectionManifest, budget: u64, output_rows: usize) -> usize {
    let per_row = (m.dimension as u64 * 4).max(1);
    usize::try_from(budget / per_row).unwrap_or(usize::MAX).max(output_rows)
}

impl Storage {
    /// `merged` (the output of `plan` over `m`) indexed as [`choose`] decides. A first
    /// partitioning in a collection that holds many more rows than the output is trained on a
    /// sample of every segment, not just the output's rows, so that data written in some order
    /// (names, time) does not leave it fitted to one part of the collection; the sample reads
    /// the other segments one at a time and keeps at most a merge budget of vectors.
    pub(crate) async fn index_output(
        &self,
        m: &CollectionManifest,
        plan: &Plan,
        existing: Option<Rc<Partitioning>>,
        merged: Segment,
        budget: u64,
    ) -> Result<Segment> {
        let opts = BuildOptions::default();
        let covers_all = plan.inputs.len() == m.segments.len();
        let total = usize::try_from(m.total_vectors).unwrap_or(usize::MAX).max(merged.len());
        Ok(match choose(m, existing, merged.len(), covers_all) {
            Choice::Flat => merged,
            Choice::Reuse(p) => ivf::build_with(m.distance, &merged, &p, &opts),
            Choice::Train if covers_all || total < merged.len() * 3 / 2 => {
                debug!("'{}': training a partitioning on {} rows", m.collection, merged.len());
                train(m, &merged, total)
            }
            Choice::Train => {
                let sample = self.collection_sample(m, plan, &merged, sample_cap(m, budget, merged.len())).await?;
                debug!("'{}': training a partitioning on a sample of {} of {total} rows", m.collection, sample.len());
                match train(m, &sample, total).index {
                    Some(index) => ivf::build_with(m.distance, &merged, &index.shared, &opts),
                    None => merged,
                }
            }
        })
    }

    /// After a full compaction: when the collection has outgrown its partitioning
    /// ([`RETRAIN_GROWTH`]-fold the rows it was trained for) and no merge could rewrite every
    /// segment at once (the merge budget is smaller than the collection), trains a new one on a
    /// sample of every segment and rewrites each indexed segment under it, one commit per
    /// segment (a merge with one input). Meanwhile both partitionings are searched, each as
    /// one group; a segment another compaction replaced first is skipped.
    pub(crate) async fn retrain_grown(
        &self,
        name: &str,
        incarnation: u64,
        budget: u64,
        receipt: &mut CompactionReceipt,
    ) -> Result<()> {
        let (m, _) = self.load_manifest_versioned(name).await?;
        let none = Plan { inputs: Vec::new(), retire: Vec::new() };
        if m.incarnation != incarnation {
            return Ok(());
        }
        let Some(old) = self.partitioning_for(&m, &none, &[]).await? else { return Ok(()) };
        if m.total_vectors < RETRAIN_GROWTH * u64::from(old.trained_rows) {
            return Ok(());
        }
        let targets: Vec<_> =
            m.segments.iter().filter(|d| d.record_count >= SHARED_INDEX_MIN_ROWS as u64).map(|d| d.id).collect();
        let empty = crate::segment::SegmentBuilder::new(m.dimension, 0, 0).finish();
        let total = usize::try_from(m.total_vectors).unwrap_or(usize::MAX);
        let sample = self.collection_sample(&m, &none, &empty, sample_cap(&m, budget, 0)).await?;
        let Some(index) = train(&m, &sample, total).index else { return Ok(()) };
        info!(
            "'{name}': retraining its partitioning ({} rows, trained for {}) on a sample of {}, rewriting {} segments",
            m.total_vectors,
            old.trained_rows,
            sample.len(),
            targets.len()
        );
        drop(sample);
        for id in targets {
            let (m, _) = self.load_manifest_versioned(name).await?;
            if m.incarnation != incarnation {
                return Ok(());
            }
            let Some(d) = m.segments.iter().find(|d| d.id == id) else { continue };
            let plan = Plan { inputs: vec![d.clone()], retire: Vec::new() };
            self.merge_once(&m, &plan, budget, receipt, Some(&index.shared)).await?;
        }
        Ok(())
    }

    /// About `cap` rows spread evenly over the collection: from the output `merged` and from
    /// every listed segment that is not an input of `plan`, in proportion to their rows.
    async fn collection_sample(
        &self,
        m: &CollectionManifest,
        plan: &Plan,
        merged: &Segment,
        cap: usize,
    ) -> Result<Segment> {
        let total = (m.total_vectors as usize).max(merged.len()).max(1);
        let mut b = crate::segment::SegmentBuilder::new(m.dimension, 0, cap);
        let mut take = |seg: &Segment| {
            let want = (seg.len() * cap / total).clamp(1, seg.len().max(1)).min(seg.len());
            for i in 0..want {
                b.push_row(seg, i * seg.len() / want);
            }
        };
        take(merged);
        let ids: Vec<_> = plan.inputs.iter().map(|d| d.id).collect();
        for d in m.segments.iter().filter(|d| !ids.contains(&d.id)) {
            let seg = self.load_segment(m, d).await?;
            take(&seg);
        }
        Ok(b.finish())
    }

    /// The collection's partitioning for a merge: the best among its decoded `inputs`, else
    /// read from the header of the oldest listed non-input segment that has one (one range
    /// read per segment tried; segments too small to be indexed are not tried).
    pub(crate) async fn partitioning_for(
        &self,
        m: &CollectionManifest,
        plan: &Plan,
        inputs: &[Segment],
    ) -> Result<Option<Rc<Partitioning>>> {
        if let Some(p) = best_of(inputs) {
            return Ok(Some(p));
        }
        let ids: Vec<_> = plan.inputs.iter().map(|d| d.id).collect();
        let kv = self.kv();
        for d in m.segments.iter().filter(|d| !ids.contains(&d.id) && d.record_count >= SHARED_INDEX_MIN_ROWS as u64) {
            let key = self.segment_key(&m.collection, m.incarnation, d);
            let Some(fixed) = kv.get_range(&key, 0, v2::FIXED_HEADER as u64).await? else { continue };
            if fixed.len() < v2::FIXED_HEADER || !v2::is_indexed(&fixed) || fixed[4..6] != v2::VERSION.to_le_bytes() {
                continue;
            }
            let len = v2::header_len(&fixed)?;
            let Some(bytes) = kv.get_range(&key, 0, len as u64).await? else { continue };
            let h = v2::decode_header(&bytes)?;
            return Ok(Some(crate::segment::partition::shared(h.partitioning)));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Distance, OpId};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn manifest(total: u64) -> CollectionManifest {
        let mut m = CollectionManifest::new("c", 8, Distance::L2, 0, 1, OpId::new());
        m.total_vectors = total;
        m
    }

    fn part(id: Option<uuid::Uuid>, trained: u32) -> Rc<Partitioning> {
        Rc::new(Partitioning {
            id,
            dim: 8,
            centroids: vec![0.5; 8 * 4],
            trained_rows: trained,
            calibration: Vec::new(),
        })
    }

    #[test]
    fn the_first_large_merge_trains_later_ones_reuse_and_full_ones_retrain_after_growth() {
        let p = part(Some(uuid::Uuid::from_u128(1)), 10_000);
        // No partitioning yet: train at IVF_MIN_ROWS, or at TRAIN_MIN_ROWS in a large collection.
        assert_eq!(choose(&manifest(9_000), None, IVF_MIN_ROWS, false), Choice::Train);
        assert_eq!(choose(&manifest(3_000), None, TRAIN_MIN_ROWS, false), Choice::Flat);
        assert_eq!(choose(&manifest(IVF_MIN_ROWS as u64), None, TRAIN_MIN_ROWS, false), Choice::Train);
        assert_eq!(choose(&manifest(IVF_MIN_ROWS as u64), None, TRAIN_MIN_ROWS - 1, false), Choice::Flat);
        // A partitioning exists: every output of SHARED_INDEX_MIN_ROWS rows reuses it.
        assert_eq!(choose(&manifest(50_000), Some(p.clone()), SHARED_INDEX_MIN_ROWS, false), Choice::Reuse(p.clone()));
        assert_eq!(choose(&manifest(50_000), Some(p.clone()), SHARED_INDEX_MIN_ROWS - 1, false), Choice::Flat);
        // Grown RETRAIN_GROWTH-fold: only a merge of every segment retrains.
        let grown = (RETRAIN_GROWTH * 10_000) as usize;
        assert_eq!(choose(&manifest(grown as u64), Some(p.clone()), grown, false), Choice::Reuse(p.clone()));
        assert_eq!(choose(&manifest(grown as u64), Some(p.clone()), grown, true), Choice::Train);
        assert_eq!(choose(&manifest(grown as u64), Some(p.clone()), grown - 1, true), Choice::Reuse(p.clone()));
        // A partitioning of another dimension is never reused.
        let other = Rc::new(Partitioning { dim: 4, centroids: vec![0.5; 16], ..(*p).clone() });
        assert_eq!(choose(&manifest(50_000), Some(other), 20_000, false), Choice::Train);
    }

    #[test]
    fn v2_centroids_are_never_reused_so_their_segments_convert() {
        use crate::segment::partition::PartitionIndex;
        let seg = |p: Rc<Partitioning>| {
            let mut s = Segment::from_records(&[crate::record::Record::new("a", vec![0.5; 8], None)], 8, 0);
            s.index = Some(PartitionIndex { dim: 8, shared: p, starts: vec![0, 1, 1, 1, 1], ..Default::default() });
            s
        };
        assert_eq!(best_of(&[seg(part(None, 50_000))]), None);
        let (old, new) = (part(Some(uuid::Uuid::from_u128(1)), 9_000), part(Some(uuid::Uuid::from_u128(2)), 40_000));
        let segs = [seg(part(None, 99_000)), seg(old), seg(new.clone())];
        assert_eq!(best_of(&segs), Some(new), "the partitioning trained on the most rows wins");
    }
}
