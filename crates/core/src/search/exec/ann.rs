//! Approximate search over partition-indexed segments (`crate::index`): score the centroids,
//! scan the `probes` partitions nearest the query (primary rows and spill entries) with the
//! int8 codes and their error bounds, re-score the survivors in f32. Segments without an index
//! are scanned whole, as exact search does, so recently written records are never missed.
//! With a selective filter every segment is scanned over its matching rows only: exact.
//! By default the probed partitions are pruned as the scan goes: best centroid first, stopping
//! where a centroid trails the best hits found so far by more than a margin scaled to the
//! segment's own residual spread ([`PRUNE_SIGMAS`]).

use super::*;
use crate::segment::partition::PartitionIndex;

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

/// int8 codes an ANN search needs besides the segment's own: the centroids (probe order from
/// int8 scores costs a quarter of f32 ones) and the spill entries in spill order, so each
/// partition's spill list is one contiguous block to scan rather than a gather.
struct AnnCodes {
    centroids: QuantizedMatrix,
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

thread_local! {
    static ANN_CODES: RefCell<AnnCache> = RefCell::new(HashMap::new());
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
        let codes = Rc::new(AnnCodes {
            centroids: QuantizedMatrix::from_f32(&index.centroids, index.dim),
            spills,
            sigma: crate::index::spread::residual_sigma(distance, seg),
        });
        cache.retain(|_, (weak, _)| weak.strong_count() > 0);
        cache.insert(key, (Rc::downgrade(seg), codes.clone()));
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
    /// `seen` (when not empty) dedupes rows listed twice. (Rows of a selective filter's list
    /// are live and matching already; testing again costs little, candidates are few.)
    #[inline]
    fn offer(&mut self, si: usize, qm: &QuantizedMatrix, entry: usize, row: usize, a: f32, seen: &mut [u64]) {
        if !seen.is_empty() && seen[row / 64] & (1 << (row % 64)) != 0 {
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
            seen[row / 64] |= 1 << (row % 64);
        }
        let idx = (self.view.offsets[si] + row) as u32;
        self.lower.push(lo, idx);
        self.candidates.push((hi, idx));
    }

    /// Screens entries `entries` of `qm`; entry `e` is segment row `rows(e)`.
    fn range(
        &mut self,
        si: usize,
        qm: &QuantizedMatrix,
        entries: std::ops::Range<usize>,
        rows: impl Fn(usize) -> usize,
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
                    self.offer(si, qm, start + j, rows(start + j), approx[j], seen);
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

/// Runs one ANN search; see the module docs. With `prune`, the probed partitions are scanned
/// best centroid first and the scan stops at the first whose centroid score trails the k-th
/// best hit so far by more than the margin ([`PRUNE_SIGMAS`]); without, every probed
/// partition is scanned (the nearest few first, then the rest in index order with adjacent
/// partitions merged into runs: fewer, longer kernel calls over contiguous codes). Returns the
/// best rows and how many entries were screened.
pub(super) fn search(
    view: &SnapshotView,
    q: &[f32],
    k: usize,
    probes: Option<usize>,
    prune: bool,
    admit: &Admit,
) -> (TopK, usize) {
    let qq = quant::quantize_query(q);
    let mut scan = Scan { view, admit, qq, lower: TopK::new(k), candidates: Vec::new(), screened: 0 };
    for (si, seg) in view.segments.iter().enumerate() {
        let qm = view.quantized(si);
        match (&seg.index, &admit.rows) {
            (_, Some(rows)) => scan.listed(si, qm, &rows[si]),
            (None, None) => scan.range(si, qm, 0..seg.len(), |r| r, &mut []),
            (Some(index), None) => {
                let codes = ann_codes(view.distance, seg, index);
                let probes = probes.unwrap_or_else(|| default_probes(index.partitions()));
                let mut seen = vec![0u64; seg.len().div_ceil(64)];
                let order = probe_order_scored(view.distance, &scan.qq, &codes.centroids, probes);
                let q_norm = kernels::dot(q, q).sqrt();
                let mut part = |scan: &mut Scan, a: usize, b: usize| {
                    scan.range(si, qm, index.starts[a] as usize..index.starts[b] as usize, |r| r, &mut seen);
                    let spills = index.spill_starts[a] as usize..index.spill_starts[b] as usize;
                    scan.range(si, &codes.spills, spills, |e| index.spills[e] as usize, &mut seen);
                };
                // The nearest few one by one (they set the bar), then the next best in chunks
                // (pruned) or all at once, each sorted and merged into runs of adjacent
                // partitions: fewer, longer kernel calls over contiguous codes.
                let step = if prune { PRUNE_CHUNK } else { order.len() };
                let mut at = 0;
                while at < order.len() {
                    let chunk = &order[at..order.len().min(at + if at < FIRST_PROBES { 1 } else { step })];
                    at += chunk.len();
                    let bar = scan.lower.threshold();
                    // The threshold only rises and the order only falls (the L2 margin grows
                    // with the distance, but slower than the distance): nothing after a
                    // partition below the bar can pass either.
                    let keep = if prune {
                        chunk
                            .iter()
                            .take_while(|&&(_, s)| s + margin(view.distance, codes.sigma, q_norm, s) >= bar)
                            .count()
                    } else {
                        chunk.len()
                    };
                    let mut ps: Vec<u32> = chunk[..keep].iter().map(|&(p, _)| p).collect();
                    ps.sort_unstable();
                    for (a, b) in merge_runs(&ps) {
                        part(&mut scan, a, b);
                    }
                    if keep < chunk.len() {
                        break;
                    }
                }
            }
        }
    }
    let floor = scan.lower.threshold();
    (rescore(view, q, k, scan.candidates, floor, usize::MAX), scan.screened)
}

#[cfg(test)]
mod tests;
