//! The scans of exact and int8 search (see the module docs of `exec`): a plain f32 scan, and
//! the int8 screen with rigorous error bounds followed by exact re-scoring, which ANN search
//! shares.

use super::*;

/// Blocks of at most [`BLOCK`] rows of a segment: `(first row, rows)`.
fn blocks(len: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..len).step_by(BLOCK).map(move |s| (s, BLOCK.min(len - s)))
}

/// Plain exact scan: every row scored in f32.
pub(super) fn exact_f32(view: &SnapshotView, q: &[f32], k: usize, admit: &Admit) -> TopK {
    let dim = view.dimension;
    let mut best = TopK::new(k);
    let mut buf = [0.0f32; BLOCK];
    for (si, seg) in view.segments.iter().enumerate() {
        if let Some(rows) = &admit.rows {
            for &row in &rows[si] {
                let s = kernels::score(view.distance, q, seg.vector(row as usize));
                if s >= best.threshold() {
                    best.push(s, (view.offsets[si] + row as usize) as u32);
                }
            }
            continue;
        }
        for (start, n) in blocks(seg.len()) {
            let scores = &mut buf[..n];
            let rows = &seg.vectors[start * dim..(start + n) * dim];
            kernels::score_many(view.distance, q, rows, dim, scores);
            if kernels::max(scores) < best.threshold() {
                continue;
            }
            let base = view.offsets[si] + start;
            kernels::for_each_not_below(
                scores,
                0.0,
                &mut best,
                |best| best.threshold(),
                |best, j| {
                    let s = scores[j];
                    if s >= best.threshold() && admit.live(si, start + j) && admit.matches(si, start + j) {
                        best.push(s, (base + j) as u32);
                    }
                },
            );
        }
    }
    best
}

/// Search through int8 codes with error bounds; see the module docs. Exact when `cap`
/// (the most candidates re-scored in f32) is not reached.
pub(super) fn screened(view: &SnapshotView, q: &[f32], k: usize, cap: usize, admit: &Admit) -> TopK {
    let qq = quant::quantize_query(q);
    let d = view.distance;
    // The k-th best lower bound of admitted rows bounds the true k-th best score from below.
    let mut lower = TopK::new(k);
    // (upper bound, global row) of every row that could reach the top k when it was seen.
    let mut candidates: Vec<(f32, u32)> = Vec::new();
    let mut buf = [0.0f32; BLOCK];
    for (si, seg) in view.segments.iter().enumerate() {
        let qm = view.quantized(si);
        let worst = qq.bound(d, qm.max_norm(), qm.max_residual());
        if let Some(rows) = &admit.rows {
            // Only the live matching rows: no liveness or filter checks left to do.
            for ids in rows[si].chunks(BLOCK) {
                let approx = &mut buf[..ids.len()];
                quant::approx_scores_rows(d, &qq, qm, ids, approx);
                if kernels::max(approx) + worst < lower.threshold() {
                    continue;
                }
                kernels::for_each_not_below(
                    approx,
                    worst,
                    &mut (&mut lower, &mut candidates),
                    |(lower, _)| lower.threshold(),
                    |(lower, candidates), j| {
                        let row = ids[j] as usize;
                        let (lo, hi) = screen_bounds(&qq, d, qm, row, approx[j]);
                        if hi < lower.threshold() {
                            return;
                        }
                        let idx = (view.offsets[si] + row) as u32;
                        lower.push(lo, idx);
                        candidates.push((hi, idx));
                    },
                );
            }
            continue;
        }
        for (start, n) in blocks(seg.len()) {
            let approx = &mut buf[..n];
            // Scores and "could this row still make it?" bits in one pass; most blocks
            // have none set.
            let masks = quant::approx_block(d, &qq, qm, start, approx, worst, lower.threshold());
            let base = view.offsets[si] + start;
            for (c, mut m) in masks.into_iter().enumerate() {
                while m != 0 {
                    let j = c * 64 + m.trailing_zeros() as usize;
                    m &= m - 1;
                    let row = start + j;
                    if !admit.live(si, row) {
                        continue;
                    }
                    let (lo, hi) = screen_bounds(&qq, d, qm, row, approx[j]);
                    // The floor may have risen since the mask was computed.
                    if hi < lower.threshold() || !admit.matches(si, row) {
                        continue;
                    }
                    lower.push(lo, (base + j) as u32);
                    candidates.push((hi, (base + j) as u32));
                }
            }
        }
    }
    rescore(view, q, k, candidates, lower.threshold(), cap)
}

/// `(lower, upper)` bounds of the exact score of `row` given its estimate `a`.
#[inline]
pub(super) fn screen_bounds(qq: &QuantizedQuery, d: Distance, qm: &QuantizedMatrix, row: usize, a: f32) -> (f32, f32) {
    let b = qq.bound(d, qm.norms()[row], qm.residuals()[row]);
    let (lo, hi) = (a - b, a + b);
    if hi.is_nan() || lo.is_nan() {
        (f32::NEG_INFINITY, f32::INFINITY)
    } else {
        (lo, hi)
    }
}

/// Scores candidates exactly, best upper bound first, until no upper bound left can enter
/// the top k, or `cap` candidates were scored. Candidates whose upper bound is below
/// `floor` (a lower bound of the k-th best score) are dropped first.
pub(super) fn rescore(
    view: &SnapshotView,
    q: &[f32],
    k: usize,
    mut candidates: Vec<(f32, u32)>,
    floor: f32,
    cap: usize,
) -> TopK {
    candidates.retain(|c| c.0 >= floor);
    candidates.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut best = TopK::new(k);
    for (hi, idx) in candidates.into_iter().take(cap) {
        // Equal is not enough to stop: a tie with a lower index still enters.
        if hi < best.threshold() {
            break;
        }
        best.push(view.exact_score(q, idx), idx);
    }
    best
}
