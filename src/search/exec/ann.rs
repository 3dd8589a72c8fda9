//! Approximate search over partition-indexed segments (`crate::index`): score the centroids,
//! scan the `probes` partitions nearest the query (primary rows and spill entries) with the
//! int8 codes and their error bounds, re-score the survivors in f32. Segments without an index
//! are scanned whole, as exact search does, so recently written records are never missed.
//! With a selective filter every segment is scanned over its matching rows only: exact.

use super::*;
use crate::index::PartitionIndex;

/// Partitions probed per indexed segment when the caller does not say: an eighth of them, at
/// least [`MIN_PROBES`] (recall@10 ≈ 0.99 on the real 384-d set: `cargo bench --bench ann`,
/// `node bench/ann/run.mjs`).
pub fn default_probes(partitions: usize) -> usize {
    (partitions / 8).max(MIN_PROBES).min(partitions)
}

/// Partitions scanned one by one, nearest first, before the rest are scanned in runs.
const FIRST_PROBES: usize = 4;

/// Fewest partitions the default probes.
pub const MIN_PROBES: usize = 8;

/// int8 codes an ANN search needs besides the segment's own: the centroids (probe order from
/// int8 scores costs a quarter of f32 ones) and the spill entries in spill order, so each
/// partition's spill list is one contiguous block to scan rather than a gather.
struct AnnCodes {
    centroids: QuantizedMatrix,
    spills: QuantizedMatrix,
}

/// [`AnnCodes`] per segment: `Rc` address → (the segment, its codes); see `QUANTIZED`.
type AnnCache = HashMap<usize, (Weak<Segment>, Rc<AnnCodes>)>;

thread_local! {
    static ANN_CODES: RefCell<AnnCache> = RefCell::new(HashMap::new());
}

fn ann_codes(seg: &Rc<Segment>, index: &PartitionIndex) -> Rc<AnnCodes> {
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
        let codes = Rc::new(AnnCodes { centroids: QuantizedMatrix::from_f32(&index.centroids, index.dim), spills });
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
/// the partitions an in-memory ANN search scans.
pub fn probe_order(distance: Distance, qq: &QuantizedQuery, centroids: &QuantizedMatrix, probes: usize) -> Vec<u32> {
    let parts = centroids.len();
    let mut scores = vec![0.0f32; parts];
    quant::approx_scores(distance, qq, centroids, &mut scores);
    let mut order: Vec<u32> = (0..parts as u32).collect();
    let probes = probes.clamp(1, parts.max(1)).min(parts);
    let by_score = |a: &u32, b: &u32| scores[*b as usize].total_cmp(&scores[*a as usize]).then(a.cmp(b));
    if probes < parts {
        order.select_nth_unstable_by(probes, by_score);
        order.truncate(probes);
    }
    order.sort_unstable_by(by_score);
    order
}

/// Runs one ANN search; see the module docs.
pub(super) fn search(view: &SnapshotView, q: &[f32], k: usize, probes: Option<usize>, admit: &Admit) -> TopK {
    let mut scan = Scan { view, admit, qq: quant::quantize_query(q), lower: TopK::new(k), candidates: Vec::new() };
    for (si, seg) in view.segments.iter().enumerate() {
        let qm = view.quantized(si);
        match (&seg.index, &admit.rows) {
            (_, Some(rows)) => scan.listed(si, qm, &rows[si]),
            (None, None) => scan.range(si, qm, 0..seg.len(), |r| r, &mut []),
            (Some(index), None) => {
                let codes = ann_codes(seg, index);
                let probes = probes.unwrap_or_else(|| default_probes(index.partitions()));
                let mut seen = vec![0u64; seg.len().div_ceil(64)];
                let order = probe_order(view.distance, &scan.qq, &codes.centroids, probes);
                // The nearest few first (they set the bar the others are screened against), then
                // the rest in index order, adjacent partitions merged into one run each: fewer,
                // longer kernel calls over contiguous codes.
                let (first, rest) = order.split_at(order.len().min(FIRST_PROBES));
                let mut runs: Vec<(usize, usize)> = first.iter().map(|&p| (p as usize, p as usize + 1)).collect();
                let mut rest = rest.to_vec();
                rest.sort_unstable();
                for p in rest {
                    let p = p as usize;
                    let merged = runs.len() > first.len();
                    match runs.last_mut() {
                        Some(last) if merged && last.1 == p => last.1 = p + 1,
                        _ => runs.push((p, p + 1)),
                    }
                }
                for (a, b) in runs {
                    scan.range(si, qm, index.starts[a] as usize..index.starts[b] as usize, |r| r, &mut seen);
                    let spills = index.spill_starts[a] as usize..index.spill_starts[b] as usize;
                    scan.range(si, &codes.spills, spills, |e| index.spills[e] as usize, &mut seen);
                }
            }
        }
    }
    let floor = scan.lower.threshold();
    rescore(view, q, k, scan.candidates, floor, usize::MAX)
}
