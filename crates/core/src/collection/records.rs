//! Reading records back: [`Collection::get`] by id and [`Collection::scan`] over every live
//! record of one snapshot. Both answer what search would see on the same snapshot: the newest
//! row of each id wins, and a tombstone hides every row older than it.
//!
//! A handle whose snapshot is in memory (or fits the snapshot budget, so the first read loads
//! it, as a search would) answers from that snapshot: `get` through an id map built once per
//! snapshot. Otherwise both stream the snapshot's segments newest first, one decoded segment
//! in memory at a time (from the shared segment cache when another snapshot holds it): `get`
//! stops as soon as every id asked for is decided, `scan` remembers only the ids it has
//! already passed (a row of an older segment with such an id is shadowed).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::Value;

use super::{Collection, SegmentCache};
use crate::error::{Error, Result};
use crate::limits::{MAX_GET_IDS, MAX_SCAN_BATCH};
use crate::manifest::{CollectionManifest, SegmentDescriptor};
use crate::record::Record;
use crate::search::exec::SnapshotView;
use crate::search::filter::Filter;
use crate::segment::Segment;
use crate::storage::Storage;
use crate::validate;

/// Records handed out per scan batch unless the caller asks otherwise.
pub const DEFAULT_SCAN_BATCH: usize = 1_000;

/// One live record: a row of a decoded segment (nothing copied until asked for).
#[derive(Clone)]
pub struct RowRef {
    /// The segment holding the record.
    pub segment: Rc<Segment>,
    /// Its row in that segment.
    pub row: usize,
}

impl RowRef {
    /// The record id.
    pub fn id(&self) -> &str {
        &self.segment.ids[self.row]
    }

    /// The stored vector.
    pub fn vector(&self) -> &[f32] {
        self.segment.vector(self.row)
    }

    /// The metadata, if any.
    pub fn metadata(&self) -> Option<Value> {
        self.segment.metadata.value(self.row)
    }

    /// A copy as a [`Record`].
    pub fn to_record(&self) -> Record {
        Record::new(self.id(), self.vector().to_vec(), self.metadata())
    }
}

/// Validates the ids of a `get` call.
fn check_ids(ids: &[String]) -> Result<()> {
    if ids.len() > MAX_GET_IDS {
        return Err(Error::invalid(format!(
            "get of {} ids; the limit is {MAX_GET_IDS} per call (split the ids into several calls)",
            ids.len()
        )));
    }
    for (i, id) in ids.iter().enumerate() {
        validate::record_id(id, &format!("ids[{i}]"))?;
    }
    Ok(())
}

/// A segment of `manifest` from the shared cache, or read and decoded (and cached weakly: it
/// stays in memory only while someone holds it).
async fn segment_of(
    storage: &Storage,
    cache: &SegmentCache,
    name: &str,
    manifest: &CollectionManifest,
    desc: &SegmentDescriptor,
) -> Result<Rc<Segment>> {
    if let Some(seg) = cache.get(name, &desc.id) {
        return Ok(seg);
    }
    let seg = Rc::new(storage.load_segment(manifest, desc).await?);
    cache.insert(name, desc.id, &seg);
    Ok(seg)
}

impl Collection {
    /// The live records with `ids` on the current snapshot, in the order asked: `None` for an
    /// id that was never written or is deleted. At most [`MAX_GET_IDS`] ids per call; an id
    /// may be asked for more than once.
    pub async fn get(&self, ids: &[String]) -> Result<Vec<Option<RowRef>>> {
        check_ids(ids)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if self.state.borrow().view.is_some() || self.keeps_snapshot() {
            let view = self.view().await?;
            return Ok(ids.iter().map(|id| located(&view, id)).collect());
        }
        match self.get_streaming(ids).await {
            // Compaction retired a segment and GC's retention for it ended: once more on the
            // latest snapshot.
            Err(Error::SegmentMissing { .. }) if self.refresh().await? => self.get_streaming(ids).await,
            other => other,
        }
    }

    /// `get` without the snapshot in memory: segments newest first, stopping once every id
    /// is decided (its newest row found, or no segment left).
    async fn get_streaming(&self, ids: &[String]) -> Result<Vec<Option<RowRef>>> {
        let manifest = self.snapshot();
        let tombs = tombstones(&manifest);
        let mut pending: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            pending.entry(id.as_str()).or_default().push(i);
        }
        let mut out = vec![None; ids.len()];
        for desc in manifest.segments.iter().rev() {
            if pending.is_empty() {
                break;
            }
            let seg = segment_of(&self.storage, &self.cache, &self.name, &manifest, desc).await?;
            // Later rows of one segment win (group commit may write an id twice).
            for row in (0..seg.len()).rev() {
                let Some(at) = pending.remove(&seg.ids[row]) else { continue };
                if is_visible(&tombs, &seg.ids[row], desc.seq) {
                    for i in at {
                        out[i] = Some(RowRef { segment: seg.clone(), row });
                    }
                }
            }
        }
        Ok(out)
    }

    /// A scan over every live record of the current snapshot (see [`Scan`]); `filter` keeps
    /// only records whose metadata matches. The snapshot is fixed when the scan starts:
    /// commits made while it runs are not seen, and nothing it returns changes under it.
    pub fn scan(&self, filter: Option<Filter>) -> Scan {
        let manifest = self.snapshot();
        let view = self.state.borrow().view.clone();
        // Ids are remembered to hide the older rows they shadow (within a segment too: group
        // commit may write an id twice); sizing the set once avoids two tables while it grows.
        let reserve = if view.is_some() { 0 } else { manifest.segments.iter().map(|d| d.record_count as usize).sum() };
        let tombs = tombstones(&manifest).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Scan {
            storage: self.storage.clone(),
            cache: self.cache.clone(),
            name: self.name.clone(),
            next: manifest.segments.len(),
            manifest,
            view,
            seen: HashSet::new(),
            reserve,
            tombs,
            filter: filter.filter(|f| !f.is_empty()),
        }
    }
}

/// The live row of `id` in `view`.
fn located(view: &SnapshotView, id: &str) -> Option<RowRef> {
    view.find_id(id).map(|(si, row)| RowRef { segment: view.segments()[si].clone(), row })
}

/// Sequence of the tombstone of every deleted id.
fn tombstones(m: &CollectionManifest) -> HashMap<&str, u64> {
    m.tombstones.iter().map(|t| (t.id.as_str(), t.seq)).collect()
}

/// Whether a row of `id` in a segment committed at `seq` survives the tombstones (one at or
/// after the segment's commit hides it).
fn is_visible<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(tombs: &HashMap<K, u64>, id: &str, seq: u64) -> bool {
    tombs.get(id).is_none_or(|t| *t < seq)
}

/// Checks a scan's `batchSize`.
pub fn check_batch_size(n: usize) -> Result<usize> {
    if n == 0 || n > MAX_SCAN_BATCH {
        return Err(Error::invalid(format!("batchSize must be 1..={MAX_SCAN_BATCH}, got {n}")));
    }
    Ok(n)
}

/// Every live record of one snapshot, one segment at a time (newest segment first; rows of a
/// segment in their stored order). Memory: the decoded segment being read, plus the ids of
/// the segments already passed (to hide the rows they shadow) when the snapshot is not in
/// memory. A segment retired by compaction stays readable for GC's retention window; a scan
/// that outlives it fails with CORRUPT naming the missing object (start it again).
pub struct Scan {
    storage: Rc<Storage>,
    cache: Rc<SegmentCache>,
    name: String,
    manifest: CollectionManifest,
    /// The handle's in-memory view of this snapshot, when it had one: liveness is known.
    view: Option<Rc<SnapshotView>>,
    /// Segments `..next` are still to be read (counting down: newest first).
    next: usize,
    /// Ids of the segments already read (streaming only).
    seen: HashSet<Box<str>>,
    /// Capacity to give `seen` on first use (rows of every segment).
    reserve: usize,
    tombs: HashMap<String, u64>,
    filter: Option<Filter>,
}

impl Scan {
    /// The version of the snapshot being scanned.
    pub fn version(&self) -> u64 {
        self.manifest.version
    }

    /// The next segment holding live (and matching) records, with those rows in order;
    /// `None` when the scan is done.
    pub async fn next_segment(&mut self) -> Result<Option<(Rc<Segment>, Vec<u32>)>> {
        while self.next > 0 {
            self.next -= 1;
            let si = self.next;
            let rows = if let Some(view) = self.view.clone() {
                let seg = view.segments()[si].clone();
                let rows = (0..seg.len())
                    .filter(|&r| view.row_is_live(si, r) && self.matches(&seg, r))
                    .map(|r| r as u32)
                    .collect();
                (seg, rows)
            } else {
                let desc = self.manifest.segments[si].clone();
                let seg = segment_of(&self.storage, &self.cache, &self.name, &self.manifest, &desc).await?;
                let mut live = Vec::new();
                if self.seen.capacity() < self.reserve {
                    self.seen.reserve(self.reserve);
                }
                for row in (0..seg.len()).rev() {
                    let id = &seg.ids[row];
                    if self.seen.contains(id) {
                        continue;
                    }
                    self.seen.insert(Box::from(id));
                    if is_visible(&self.tombs, id, desc.seq) && self.matches(&seg, row) {
                        live.push(row as u32);
                    }
                }
                live.reverse();
                (seg, live)
            };
            if !rows.1.is_empty() {
                return Ok(Some(rows));
            }
        }
        Ok(None)
    }

    fn matches(&self, seg: &Segment, row: usize) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches_view(seg.metadata.row(row)))
    }
}
