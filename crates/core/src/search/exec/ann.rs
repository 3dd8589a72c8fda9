//! Approximate search over partition-indexed segments (`crate::index`): score the centroids,
//! scan the `probes` partitions nearest the query (primary rows and spill entries) with the
//! int8 codes and their error bounds, re-score the survivors in f32. Segments without an index
//! are scanned whole, as exact search does, so recently written records are never missed.
//! With a selective filter every segment is scanned over its matching rows only: exact.
//! By default the probed partitions are pruned as the scan goes: best centroid first, stopping
//! where a centroid trails the best hits found so far by more than a margin scaled to the
//! segment's own residual spread ([`PRUNE_SIGMAS`]).

use super::*;
use crate::segment::partition::{PartitionIndex, Partitioning};

/// Partitions probed per indexed segment when the caller does not say: an eighth of them, at
/// least [`MIN_PROBES`] (recall@10 ≈ 0.99 on the real 384-d set: `cargo bench --bench ann`,
/// `node bench/ann/run.mjs`).
pub fn default_probes(partitions: usize) -> usize {
    (partitions / 8).max(MIN_PROBES).min(partitions)
}

/// Partitions scanned one by one, nearest first, before the rest are scanned in runs.
const FIRST_PROBES: usize = 4;

/// Partitions scanned per step of a pruned scan after the first few (sorted and merged into
/// runs; the stop rule is checked against the threshold at the start of each step).
const PRUNE_CHUNK: usize = 16;

/// Fewest partitions the default probes.
pub const MIN_PROBES: usize = 8;

/// Recall@10 an ANN search aims for when the caller names neither `probes` nor `recall`: the
/// probes the partitioning's calibration measured for it (`crate::search::calibrate`).
pub const DEFAULT_RECALL: f32 = 0.99;

/// Partitions to probe in a partitioning: `probes` when given; otherwise the fewest its
/// calibration measured reaching `recall` (default [`DEFAULT_RECALL`]), every partition when
/// the calibration never reached it, and [`default_probes`] for an uncalibrated (v2) one.
pub fn probes_for(p: &Partitioning, probes: Option<usize>, recall: Option<f32>) -> usize {
    if let Some(n) = probes {
        return n;
    }
    let parts = p.partitions();
    if p.calibration.is_empty() {
        return default_probes(parts);
    }
    p.probes_for(recall.unwrap_or(DEFAULT_RECALL)).unwrap_or(parts).min(parts)
}

/// int8 codes an ANN search needs besides the segment's own: the spill entries in spill order,
/// so each partition's spill list is one contiguous block to scan rather than a gather.
struct AnnCodes {
    spills: QuantizedMatrix,
    /// The segment's residual spread along query directions (`crate::index::spread`): the
    /// unit of the pruning margin.
    sigma: f32,
}

/// Pruning margin in units of the segment's residual spread σ (`crate::index::spread`): a
/// row can beat a partition's centroid score by about `q·e`, whose spread along query
/// directions is σ; a partition is skipped when even `PRUNE_SIGMAS`·σ would not lift its
/// centroid's score to the k-th best hit so far. Chosen on the real 384-d set (σ = 0.089 there:
/// a margin of 0.26 in cosine similarity; `examples/probe_study.rs` holds the study of policies,
/// `node bench/ann/run.mjs` the measurement): ~40 % fewer rows than fixed probes at recall@10
/// 0.99.
pub const PRUNE_SIGMAS: f32 = 2.9;

/// How far below the k-th best score a partition whose centroid scores `score` may still hold
/// a hit: dot products move by `‖q‖·(q̂·e)`, cosine similarities (unit queries) by `q̂·e`, and
/// negated squared distances by `2·(q − c)·e`, i.e. with the centroid's distance.
fn margin(distance: Distance, sigma: f32, q_norm: f32, score: f32) -> f32 {
    let m = PRUNE_SIGMAS * sigma;
    match distance {
        Distance::Cosine => m,
        Distance::Dot => m * q_norm,
        Distance::L2 => 2.0 * m * (-score).max(0.0).sqrt(),
    }
}

/// [`AnnCodes`] per segment: `Rc` address → (the segment, its codes); see `QUANTIZED`.
type AnnCache = HashMap<usize, (Weak<Segment>, Rc<AnnCodes>)>;
/// int8 codes of a partitioning's centroids (probe order from int8 scores costs a quarter of
/// f32 ones), by `Rc` address: computed once for all the segments that share it.
type CentroidCache = HashMap<usize, (Weak<Partitioning>, Rc<QuantizedMatrix>)>;

thread_local! {
    static ANN_CODES: RefCell<AnnCache> = RefCell::new(HashMap::new());
    static CENTROID_CODES: RefCell<CentroidCache> = RefCell::new(HashMap::new());
}

/// The ANN codes of `seg` (cached while the segment lives).
fn ann_codes(distance: Distance, seg: &Rc<Segment>, index: &PartitionIndex) -> Rc<AnnCodes> {
    let key = Rc::as_ptr(seg) as usize;
    ANN_CODES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((weak, codes)) = cache.get(&key) {
            if weak.strong_count() > 0 && codes.spills.len() == index.spills.len() {
                return codes.clone();
            }
        }
        let mut spills = QuantizedMatrix::new(index.dim);
        for &r in &index.spills {
            spills.push(seg.vector(r as usize));
        }
        let codes = Rc::new(AnnCodes { spills, sigma: crate::index::spread::residual_sigma(distance, seg) });
        cache.retain(|_, (weak, _)| weak.strong_count() > 0);
        cache.insert(key, (Rc::downgrade(seg), codes.clone()));
        codes
    })
}

/// The int8 codes of a partitioning's centroids (cached while it lives).
pub fn centroid_codes(p: &Rc<Partitioning>) -> Rc<QuantizedMatrix> {
    let key = Rc::as_ptr(p) as usize;
    CENTROID_CODES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((weak, codes)) = cache.get(&key) {
            if weak.strong_count() > 0 {
                return codes.clone();
            }
        }
        let codes = Rc::new(QuantizedMatrix::from_f32(&p.centroids, p.dim));
        cache.retain(|_, (weak, _)| weak.strong_count() > 0);
        cache.insert(key, (Rc::downgrade(p), codes.clone()));
        codes
    })
}

/// Everything one ANN search accumulates across segments.
struct Scan<'a> {
    view: &'a SnapshotView,
    admit: &'a Admit<'a>,
    qq: QuantizedQuery,
    lower: TopK,
    candidates: Vec<(f32, u32)>,
    /// Entries screened so far (primary rows, spill entries, listed rows).
    screened: usize,
}

impl Scan<'_> {
    /// Offers row `row` of segment `si`, whose estimate `a` came from entry `entry` of `qm`;
    /// `seen` (when not empty; one bit per row of the snapshot) dedupes rows listed twice.
    /// (Rows of a selective filter's list are live and matching already; testing again costs
    /// little, candidates are few.)
    #[inline]
    fn offer(&mut self, si: usize, qm: &QuantizedMatrix, entry: usize, row: usize, a: f32, seen: &mut [u64]) {
        let idx = self.view.offsets[si] + row;
        if !seen.is_empty() && seen[idx / 64] & (1 << (idx % 64)) != 0 {
            return;
        }
        if !self.admit.live(si, row) {
            return;
        }
        let (lo, hi) = screen_bounds(&self.qq, self.view.distance, qm, entry, a);
        if hi < self.lower.threshold() || !self.admit.matches(si, row) {
            return;
        }
        if !seen.is_empty() {
            seen[idx / 64] |= 1 << (idx % 64);
        }
        self.lower.push(lo, idx as u32);
        self.candidates.push((hi, idx as u32));
    }

    /// Screens entries `entries` of `qm`; entry `e` is row `at(e).1` of segment `at(e).0`.
    fn range(
        &mut self,
        qm: &QuantizedMatrix,
        entries: std::ops::Range<usize>,
        at: &dyn Fn(usize) -> (usize, usize),
        seen: &mut [u64],
    ) {
        let worst = self.qq.bound(self.view.distance, qm.max_norm(), qm.max_residual());
        self.screened += entries.len();
        let mut buf = [0.0f32; BLOCK];
        let mut start = entries.start;
        while start < entries.end {
            let n = BLOCK.min(entries.end - start);
            let approx = &mut buf[..n];
            let masks =
                quant::approx_block(self.view.distance, &self.qq, qm, start, approx, worst, self.lower.threshold());
            for (c, mut m) in masks.into_iter().enumerate() {
                while m != 0 {
                    let j = c * 64 + m.trailing_zeros() as usize;
                    m &= m - 1;
                    let (si, row) = at(start + j);
                    self.offer(si, qm, start + j, row, approx[j], seen);
                }
            }
            start += n;
        }
    }

    /// Screens the listed live matching rows of segment `si` (a selective filter's rows).
    fn listed(&mut self, si: usize, qm: &QuantizedMatrix, rows: &[u32]) {
        let worst = self.qq.bound(self.view.distance, qm.max_norm(), qm.max_residual());
        self.screened += rows.len();
        let mut buf = [0.0f32; BLOCK];
        for ids in rows.chunks(BLOCK) {
            let approx = &mut buf[..ids.len()];
            quant::approx_scores_rows(self.view.distance, &self.qq, qm, ids, approx);
            if kernels::max(approx) + worst < self.lower.threshold() {
                continue;
            }
            for (j, &row) in ids.iter().enumerate() {
                if approx[j] + worst >= self.lower.threshold() {
                    self.offer(si, qm, row as usize, row as usize, approx[j], &mut []);
                }
            }
        }
    }
}

/// The partitions to probe, best int8 centroid score first (`centroids`: the int8 codes of a
/// partition index's centroids). Cold range reads choose with this too, so they fetch exactly
/// the partitions an in-memory ANN search may scan.
pub fn probe_order(distance: Distance, qq: &QuantizedQuery, centroids: &QuantizedMatrix, probes: usize) -> Vec<u32> {
    probe_order_scored(distance, qq, centroids, probes).into_iter().map(|(p, _)| p).collect()
}

/// [`probe_order`] with each partition's centroid score.
fn probe_order_scored(
    distance: Distance,
    qq: &QuantizedQuery,
    centroids: &QuantizedMatrix,
    probes: usize,
) -> Vec<(u32, f32)> {
    let parts = centroids.len();
    let mut scores = vec![0.0f32; parts];
    quant::approx_scores(distance, qq, centroids, &mut scores);
    let mut order: Vec<(u32, f32)> = scores.iter().enumerate().map(|(p, &s)| (p as u32, s)).collect();
    let probes = probes.clamp(1, parts.max(1)).min(parts);
    let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if probes < parts {
        order.select_nth_unstable_by(probes, by_score);
        order.truncate(probes);
    }
    order.sort_unstable_by(by_score);
    order
}

/// Sorted partitions as half-open runs of adjacent ones.
fn merge_runs(sorted: &[u32]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &p in sorted {
        let p = p as usize;
        match runs.last_mut() {
            Some(last) if last.1 == p => last.1 = p + 1,
            _ => runs.push((p, p + 1)),
        }
    }
    runs
}

/// Runs one ANN search; see the module docs. Indexed segments that share a partitioning are
/// searched together: the centroids are scored once, and each probed partition is scanned in
/// every one of them, so the cost follows the rows probed, not the number of segments. With
/// `prune`, the probed partitions are scanned best centroid first and the scan stops at the
/// first whose centroid score trails the k-th best hit so far by more than the margin
/// ([`PRUNE_SIGMAS`]); without, every probed partition is scanned (the nearest few first, then
/// the rest in index order with adjacent partitions merged into runs: fewer, longer kernel
/// calls over contiguous codes). Returns the best rows and how many entries were screened.
pub(super) fn search(
    view: &SnapshotView,
    q: &[f32],
    k: usize,
    probes: Option<usize>,
    recall: Option<f32>,
    prune: bool,
    admit: &Admit,
) -> (TopK, usize) {
    let qq = quant::quantize_query(q);
    let mut scan = Scan { view, admit, qq, lower: TopK::new(k), candidates: Vec::new(), screened: 0 };
    // Indexed segments grouped by partitioning, in order of first appearance.
    let mut groups: Vec<(Rc<Partitioning>, Vec<usize>)> = Vec::new();
    for (si, seg) in view.segments.iter().enumerate() {
        let qm = view.quantized(si);
        match (&seg.index, &admit.rows) {
            (_, Some(rows)) => scan.listed(si, qm, &rows[si]),
            (None, None) => scan.range(qm, 0..seg.len(), &|r| (si, r), &mut []),
            (Some(index), None) => match groups.iter_mut().find(|(p, _)| Rc::ptr_eq(p, &index.shared)) {
                Some((_, segs)) => segs.push(si),
                None => groups.push((index.shared.clone(), vec![si])),
            },
        }
    }
    let mut seen = if groups.is_empty() {
        Vec::new()
    } else {
        vec![0u64; view.offsets.last().map_or(0, |&o| o + view.segments.last().map_or(0, |s| s.len())).div_ceil(64)]
    };
    for (shared, segs) in &groups {
        scan_group(&mut scan, q, shared, segs, probes_for(shared, probes, recall), prune, &mut seen);
    }
    let floor = scan.lower.threshold();
    (rescore(view, q, k, scan.candidates, floor, usize::MAX), scan.screened)
}

/// Scans the `probes` partitions nearest `q` of one partitioning in each of its segments
/// `segs` (see [`search`]); `seen` has one bit per row of the snapshot.
fn scan_group(
    scan: &mut Scan,
    q: &[f32],
    shared: &Rc<Partitioning>,
    segs: &[usize],
    probes: usize,
    prune: bool,
    seen: &mut [u64],
) {
    let view = scan.view;
    let centroids = centroid_codes(shared);
    let members: Vec<(usize, &PartitionIndex, Rc<AnnCodes>)> = segs
        .iter()
        .filter_map(|&si| {
            let seg = &view.segments[si];
            let index = seg.index.as_ref()?;
            Some((si, index, ann_codes(view.distance, seg, index)))
        })
        .collect();
    // Two or more segments: one partition-major layout of all their entries (`group`).
    let layout = (members.len() > 1 && members.len() <= group::MAX_MEMBERS).then(|| {
        let segs: Vec<&Rc<Segment>> = members.iter().map(|m| &view.segments[m.0]).collect();
        let rows: Vec<&QuantizedMatrix> = members.iter().map(|m| view.quantized(m.0)).collect();
        let spills: Vec<&QuantizedMatrix> = members.iter().map(|m| &m.2.spills).collect();
        group::group_codes(&segs, shared.partitions(), &rows, &spills)
    });
    // The widest spread of the group: a margin no segment's rows can exceed more often.
    let sigma = members.iter().map(|m| m.2.sigma).fold(0.0f32, f32::max);
    let order = probe_order_scored(view.distance, &scan.qq, &centroids, probes);
    let q_norm = kernels::dot(q, q).sqrt();
    let mut part = |scan: &mut Scan, a: usize, b: usize| match &layout {
        Some(g) => {
            let entries = g.starts[a] as usize..g.starts[b] as usize;
            scan.range(&g.codes, entries, &|e| (members[g.member[e] as usize].0, g.row[e] as usize), seen);
        }
        None => {
            for (si, index, codes) in &members {
                let si = *si;
                let qm = view.quantized(si);
                scan.range(qm, index.starts[a] as usize..index.starts[b] as usize, &|r| (si, r), seen);
                let spills = index.spill_starts[a] as usize..index.spill_starts[b] as usize;
                scan.range(&codes.spills, spills, &|e| (si, index.spills[e] as usize), seen);
            }
        }
    };
    // The nearest few one by one (they set the bar), then the next best in chunks (pruned)
    // or all at once, each sorted and merged into runs of adjacent partitions: fewer, longer
    // kernel calls over contiguous codes.
    let step = if prune { PRUNE_CHUNK } else { order.len() };
    let mut at = 0;
    while at < order.len() {
        let chunk = &order[at..order.len().min(at + if at < FIRST_PROBES { 1 } else { step })];
        at += chunk.len();
        let bar = scan.lower.threshold();
        // The threshold only rises and the order only falls (the L2 margin grows with the
        // distance, but slower than the distance): nothing after a partition below the bar
        // can pass either.
        let keep = if prune {
            chunk.iter().take_while(|&&(_, s)| s + margin(view.distance, sigma, q_norm, s) >= bar).count()
        } else {
            chunk.len()
        };
        let mut ps: Vec<u32> = chunk[..keep].iter().map(|&(p, _)| p).collect();
        ps.sort_unstable();
        for (a, b) in merge_runs(&ps) {
            part(scan, a, b);
        }
        if keep < chunk.len() {
            break;
        }
    }
}

mod group;

#[cfg(test)]
mod shared_tests;
#[cfg(test)]
mod tests;
