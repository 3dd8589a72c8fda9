//! Compaction: merge a contiguous run of segments into one, drop records shadowed by a newer
//! upsert or hidden by a tombstone, retire tombstones that no longer hide anything, and publish
//! the swap with ONE manifest commit, as a mutator like any other (docs/PROTOCOL.md,
//! "Compaction").
//!
//! Policy (size-tiered, Bentley–Saxe "logarithmic method"): in commit order, every segment
//! should be larger than all newer ones together; the oldest segment that is not gets merged
//! with everything newer. Each record is then rewritten O(log n) times in total, and the number
//! of segments stays O(log n). Runs are contiguous in commit order, so the output can take the
//! highest input `seq` without reordering any record against a segment that is not an input.
//!
//! Concurrency: the merge is done once, before the commit loop; the mutator re-checks on every
//! attempt that its inputs are still listed (rebasing onto appends, deletes and seals that
//! landed meanwhile) and gives up — leaving its output as an orphan for GC — only when another
//! compaction replaced an input. Replaced segments move to `retired` until GC's retention ends.

use std::cell::Cell;
use std::collections::HashMap;

use futures::StreamExt;
use log::{debug, info};

use super::commit::Operation;
use super::{check_reupload, Storage};
use crate::error::{Error, Result};
use crate::manifest::{CollectionManifest, RetiredSegment, SegmentDescriptor, SegmentState, Tombstone};
use crate::segment::{Segment, SegmentBuilder};

// Re-exported until collection.rs imports it from limits (kept while that file is being edited).
use crate::limits::MAX_PARALLEL_READS;
/// Automatic compaction starts at this many segments...
pub const AUTO_MIN_SEGMENTS: usize = 8;
/// ...or at this many tombstones.
pub const AUTO_MIN_TOMBSTONES: usize = 1_000;
pub use crate::limits::DEFAULT_MAX_INPUT_BYTES;

/// How to compact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactOptions {
    /// Rewrite every segment that fits the budget, not just what the policy asks for.
    pub full: bool,
    /// Only when the collection needs it: at least [`AUTO_MIN_SEGMENTS`] segments or
    /// [`AUTO_MIN_TOMBSTONES`] tombstones (what automatic compaction uses).
    pub auto: bool,
    /// Most bytes of input segments one merge reads; larger segments are left alone.
    pub max_input_bytes: u64,
    /// Most merges (commits) in one call.
    pub max_rounds: u32,
}

impl Default for CompactOptions {
    fn default() -> Self {
        CompactOptions { full: false, auto: false, max_input_bytes: DEFAULT_MAX_INPUT_BYTES, max_rounds: 8 }
    }
}

/// What a compaction call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReceipt {
    /// Manifest version after the last merge (the version found when nothing was done).
    pub version: u64,
    /// Segments listed before and after.
    pub segments_before: usize,
    /// Segments listed after.
    pub segments_after: usize,
    /// Records dropped (shadowed by a newer upsert or hidden by a tombstone).
    pub records_dropped: u64,
    /// Tombstones retired.
    pub tombstones_retired: usize,
    /// Bytes of input segments read.
    pub bytes_read: u64,
    /// Bytes of output segments written.
    pub bytes_written: u64,
    /// Merges committed.
    pub merges: u32,
    /// Manifest commits made (the merges, plus one when a handle retired tombstones that hide
    /// nothing): versions advanced by exactly this much.
    pub commits: u32,
    /// Merges abandoned because another compaction replaced an input first.
    pub superseded: u32,
}

/// One merge: a contiguous run of listed segments, and the tombstones it lets go.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Inputs, in commit order.
    pub inputs: Vec<SegmentDescriptor>,
    /// Tombstones that hide nothing once the inputs are merged (every segment with a lower
    /// `seq` is an input).
    pub retire: Vec<Tombstone>,
}

/// The next merge the policy asks for, if any.
pub fn plan(m: &CollectionManifest, opts: &CompactOptions) -> Option<Plan> {
    let segs = &m.segments;
    let tombstone_heavy = m.tombstones.len() >= AUTO_MIN_TOMBSTONES;
    if opts.auto && segs.len() < AUTO_MIN_SEGMENTS && !tombstone_heavy {
        return None;
    }
    // Segments over the budget are never inputs; runs start after the last of them.
    let start = segs.iter().rposition(|s| s.size_bytes > opts.max_input_bytes).map_or(0, |i| i + 1);
    let cand = &segs[start..];
    let (mut lo, mut hi) = (0, cand.len());
    if opts.full || tombstone_heavy {
        // Everything from the oldest candidate, trimmed from the newest side to the budget; a
        // candidate that fills the budget alone is passed over (without tombstones to retire,
        // rewriting it alone does nothing) so the newer ones still merge.
        loop {
            hi = cand.len();
            while hi > lo + 1 && bytes(&cand[lo..hi]) > opts.max_input_bytes {
                hi -= 1;
            }
            if hi - lo >= 2 || !m.tombstones.is_empty() || lo + 1 >= cand.len() {
                break;
            }
            lo += 1;
        }
    } else {
        // The oldest segment not larger than everything newer, merged with everything newer.
        let mut newer = 0u64;
        let mut oldest_violation = None;
        for (k, s) in cand.iter().enumerate().rev() {
            if k + 1 < cand.len() && newer >= s.size_bytes {
                oldest_violation = Some(k);
            }
            newer = newer.saturating_add(s.size_bytes);
        }
        lo = oldest_violation?;
        while hi > lo + 2 && bytes(&cand[lo..hi]) > opts.max_input_bytes {
            lo += 1;
        }
    }
    let inputs = cand[lo..hi].to_vec();
    let input_ids: Vec<_> = inputs.iter().map(|d| d.id).collect();
    let non_inputs = || segs.iter().filter(|s| !input_ids.contains(&s.id));
    let retire: Vec<Tombstone> =
        m.tombstones.iter().filter(|t| non_inputs().all(|s| s.seq >= t.seq)).cloned().collect();
    let useful =
        inputs.len() >= 2 || (!inputs.is_empty() && (opts.full || tombstone_heavy) && !m.tombstones.is_empty());
    (useful || !retire.is_empty()).then_some(Plan { inputs, retire })
}

fn bytes(segs: &[SegmentDescriptor]) -> u64 {
    segs.iter().map(|s| s.size_bytes).fold(0, u64::saturating_add)
}

/// Merges the decoded inputs (in commit order): the newest row per id, unless a tombstone of
/// `m` newer than its segment hides it. Returns the output and the number of rows dropped.
pub fn merge(m: &CollectionManifest, plan: &Plan, inputs: &[Segment]) -> (Segment, u64) {
    let tombs: HashMap<&str, u64> = m.tombstones.iter().map(|t| (t.id.as_str(), t.seq)).collect();
    let mut newest: HashMap<&str, (usize, usize)> = HashMap::new();
    for (si, seg) in inputs.iter().enumerate() {
        for (row, id) in seg.ids.iter().enumerate() {
            newest.insert(id, (si, row));
        }
    }
    let mut keep: Vec<(usize, usize)> = newest
        .into_iter()
        .filter(|(id, (si, _))| tombs.get(id).is_none_or(|t| *t < plan.inputs[*si].seq))
        .map(|(_, at)| at)
        .collect();
    keep.sort_unstable();
    let mut out = SegmentBuilder::new(m.dimension, 0, keep.len());
    for (si, row) in &keep {
        out.push_row(&inputs[*si], *row);
    }
    let out = out.finish();
    let rows: usize = inputs.iter().map(|s| s.len()).sum();
    (out, (rows - keep.len()) as u64)
}

/// Tombstones of `m` that hide nothing: no segment older than the tombstone holds its id (a
/// delete of an id never written, or whose records compaction already dropped). `segments` are
/// the decoded segments of `m`, in order. Retiring them is safe at any later version: segments
/// committed later are newer than every tombstone of `m`, and a re-delete of the id changes the
/// tombstone's `seq`, so it no longer matches.
pub fn dead_tombstones(m: &CollectionManifest, segments: &[std::rc::Rc<Segment>]) -> Vec<Tombstone> {
    if m.tombstones.is_empty() {
        return Vec::new();
    }
    let wanted: std::collections::HashSet<&str> = m.tombstones.iter().map(|t| t.id.as_str()).collect();
    let mut oldest: HashMap<&str, u64> = HashMap::new();
    for (desc, seg) in m.segments.iter().zip(segments) {
        for id in seg.ids.iter().filter(|id| wanted.contains(id)) {
            let e = oldest.entry(id).or_insert(desc.seq);
            *e = (*e).min(desc.seq);
        }
    }
    m.tombstones.iter().filter(|t| oldest.get(t.id.as_str()).is_none_or(|s| *s >= t.seq)).cloned().collect()
}

/// Why a compaction mutator changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// Another compaction replaced an input first.
    Superseded,
    /// GC fenced the output off: write it again at this generation.
    Stale(u64),
}

/// The compaction mutator: swap the inputs (still listed, contiguous) for the output.
fn apply(
    m: &mut CollectionManifest,
    plan: &Plan,
    out: Option<&SegmentDescriptor>,
    skip: &Cell<Option<Skip>>,
) -> Result<bool> {
    let n = plan.inputs.len();
    let first = plan.inputs.first().and_then(|f| m.segments.iter().position(|s| s.id == f.id));
    let listed = first.filter(|&i| {
        m.segments.get(i..i + n).is_some_and(|run| run.iter().zip(&plan.inputs).all(|(a, b)| a.id == b.id))
    });
    let Some(first) = listed.or(if n == 0 { Some(0) } else { None }) else {
        skip.set(Some(Skip::Superseded));
        return Ok(false);
    };
    if let Some(d) = out {
        if !m.accepts_generation(d.gen) {
            skip.set(Some(Skip::Stale(m.gc_gen)));
            return Ok(false);
        }
    }
    let run: Vec<SegmentDescriptor> = m.segments.splice(first..first + n, out.cloned()).collect();
    if let (Some(o), Some(last)) = (out, run.last()) {
        // The highest input seq: every non-input is older than all inputs or newer than all.
        m.segments[first] = SegmentDescriptor { seq: last.seq, ..o.clone() };
    }
    let removed: u64 = run.iter().map(|d| d.record_count).sum();
    m.total_vectors = m.total_vectors.saturating_sub(removed).saturating_add(out.map_or(0, |o| o.record_count));
    let gen = m.gc_gen;
    m.retired.extend(run.iter().map(|d| RetiredSegment { id: d.id, gen: d.gen, retired_at_gen: gen }));
    let before = m.tombstones.len();
    m.tombstones.retain(|t| !plan.retire.contains(t));
    Ok(n > 0 || m.tombstones.len() != before)
}

impl Storage {
    /// Compacts collection `name` by policy (see [`plan`]); each merge is one manifest commit.
    /// Never blocks or loses a concurrent write: writes rebase, and a merge whose input another
    /// compaction replaced first is abandoned (its output is an orphan GC removes).
    pub async fn compact(&self, name: &str, opts: &CompactOptions) -> Result<CompactionReceipt> {
        self.compact_in(name, None, opts).await
    }

    /// [`Storage::compact`] of one incarnation of the collection (a handle's): NOT_FOUND when
    /// the name now belongs to another.
    pub async fn compact_in(
        &self,
        name: &str,
        incarnation: Option<u64>,
        opts: &CompactOptions,
    ) -> Result<CompactionReceipt> {
        let (m, _) = self.load_manifest_versioned(name).await?;
        m.check_writable()?;
        if incarnation.is_some_and(|i| i != m.incarnation) {
            return Err(Error::NotFound(format!("collection '{name}' was dropped and re-created")));
        }
        let receipt_incarnation = m.incarnation;
        let mut receipt =
            CompactionReceipt { version: m.version, segments_before: m.segments.len(), ..Default::default() };
        receipt.segments_after = m.segments.len();
        for _ in 0..opts.max_rounds {
            let (m, _) = self.load_manifest_versioned(name).await?;
            if m.incarnation != receipt_incarnation {
                return Err(Error::NotFound(format!("collection '{name}' was dropped and re-created")));
            }
            receipt.version = m.version;
            receipt.segments_after = m.segments.len();
            let Some(plan) = plan(&m, opts) else { break };
            if !self.merge_once(&m, &plan, opts.max_input_bytes, &mut receipt, None).await? {
                break;
            }
        }
        if opts.full && !opts.auto {
            self.retrain_grown(name, receipt_incarnation, opts.max_input_bytes, &mut receipt).await?;
        }
        if receipt.merges > 0 {
            info!(
                "compacted '{name}': {} -> {} segments, {} records and {} tombstones dropped, {} bytes read, {} written",
                receipt.segments_before,
                receipt.segments_after,
                receipt.records_dropped,
                receipt.tombstones_retired,
                receipt.bytes_read,
                receipt.bytes_written
            );
        }
        Ok(receipt)
    }

    /// Reads the inputs (at most [`MAX_PARALLEL_READS`] at once), merges, writes the output
    /// (under partitioning `under` when given, else as `index_output` decides), commits the
    /// swap. False when superseded.
    pub(crate) async fn merge_once(
        &self,
        m: &CollectionManifest,
        plan: &Plan,
        budget: u64,
        receipt: &mut CompactionReceipt,
        under: Option<&std::rc::Rc<crate::segment::partition::Partitioning>>,
    ) -> Result<bool> {
        let inputs = self.load_segments(m, &plan.inputs).await?;
        let (merged, dropped) = merge(m, plan, &inputs);
        let merged = match under {
            Some(p) => {
                drop(inputs);
                if merged.len() < crate::limits::SHARED_INDEX_MIN_ROWS {
                    merged
                } else {
                    crate::index::ivf::build_with(m.distance, &merged, p, &Default::default())
                }
            }
            None => {
                let existing = self.partitioning_for(m, plan, &inputs).await?;
                drop(inputs);
                self.index_output(m, plan, existing, merged, budget).await?
            }
        };
        let merged = &merged;
        let write = |gen| async move {
            if merged.is_empty() {
                Ok(None)
            } else {
                self.write_segment(m, gen, merged, SegmentState::Sealed).await.map(Some)
            }
        };
        let mut out = write(m.gc_gen).await?;
        let op = Operation::bound_to(m.incarnation);
        let mut rounds = 0;
        loop {
            let skip = Cell::new(None);
            let done = self.commit_op(&m.collection, &op, |cur| apply(cur, plan, out.as_ref(), &skip)).await?;
            match skip.get() {
                None => {
                    receipt.version = done.version;
                    receipt.segments_after = done.manifest.segments.len();
                    receipt.records_dropped += dropped;
                    receipt.tombstones_retired += plan.retire.len();
                    receipt.bytes_read += bytes(&plan.inputs);
                    receipt.bytes_written += out.as_ref().map_or(0, |d| d.size_bytes);
                    receipt.merges += 1;
                    receipt.commits += 1;
                    return Ok(true);
                }
                Some(Skip::Superseded) => {
                    debug!("compaction of '{}' superseded by another; its output is left to GC", m.collection);
                    receipt.superseded += 1;
                    return Ok(false);
                }
                Some(Skip::Stale(gen)) => {
                    rounds = check_reupload(rounds, &m.collection)?;
                    out = write(gen).await?;
                }
            }
        }
    }

    /// Retires exactly these tombstones (same id and seq) where still present, as one commit of
    /// operation `op`. Returns the commit's version and how many were retired.
    pub async fn retire_tombstones(&self, name: &str, op: &Operation, dead: &[Tombstone]) -> Result<(u64, usize)> {
        let retired = Cell::new(0);
        let out = self
            .commit_op(name, op, |m| {
                let before = m.tombstones.len();
                m.tombstones.retain(|t| !dead.contains(t));
                retired.set(before - m.tombstones.len());
                Ok(retired.get() > 0)
            })
            .await?;
        Ok((out.version, retired.get()))
    }

    /// Loads listed segments of `m`, in order, at most [`MAX_PARALLEL_READS`] at a time.
    pub async fn load_segments(&self, m: &CollectionManifest, descs: &[SegmentDescriptor]) -> Result<Vec<Segment>> {
        let loads = futures::stream::iter(descs.iter().map(|d| self.load_segment(m, d))).buffered(MAX_PARALLEL_READS);
        loads.collect::<Vec<_>>().await.into_iter().collect::<Result<Vec<_>>>().map_err(|e| match e {
            Error::Corrupt(msg) => Error::Corrupt(format!("{msg} (while compacting)")),
            other => other,
        })
    }
}
