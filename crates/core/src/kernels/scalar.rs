//! Portable reference kernels. They are the implementation on every target without wasm
//! SIMD128 and the oracle the SIMD kernels are tested against.
//!
//! Each loop keeps `LANES` (8) independent accumulators over `chunks_exact(LANES)`: without
//! them the additions form one serial dependency chain that LLVM may not reorder (float
//! addition is not associative), so it could not vectorise. With them it emits packed
//! multiply/adds (SSE/AVX/NEON) natively.

/// Independent accumulators (and elements per iteration) of the unrolled loops.
const LANES: usize = 8;

/// Adds the accumulators pairwise: a fixed tree, so results do not depend on the target.
#[inline(always)]
fn reduce(acc: [f32; LANES]) -> f32 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// Truncates both slices to their common length. Callers guarantee equal lengths; a
/// mismatch is a bug caught in debug builds but never a panic in release.
#[inline(always)]
fn common<'a, T>(a: &'a [T], b: &'a [T]) -> (&'a [T], &'a [T]) {
    debug_assert_eq!(a.len(), b.len(), "kernel operands differ in length");
    let n = a.len().min(b.len());
    (&a[..n], &b[..n])
}

/// Inner product `Σ aᵢ·bᵢ` over the common length of `a` and `b`.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a, b) = common(a, b);
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    reduce(acc) + tail
}

/// Squared Euclidean distance `Σ (aᵢ-bᵢ)²` over the common length of `a` and `b`.
#[inline]
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    let (a, b) = common(a, b);
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
            let d = x - y;
            *s += d * d;
        }
    }
    reduce(acc) + tail
}

/// Integer inner product `Σ aᵢ·bᵢ` of int8 codes, accumulated in i32.
///
/// Exact as long as the true sum fits in i32, which holds for any length up to 131 072
/// (`|aᵢ·bᵢ| ≤ 2¹⁴`); beyond that it wraps, identically to the SIMD version.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let (a, b) = common(a, b);
    // Wider chunks than the f32 kernels: i8→i32 widening packs 16+ lanes per vector natively.
    const W: usize = 16;
    let (ca, cb) = (a.chunks_exact(W), b.chunks_exact(W));
    let tail =
        ca.remainder().iter().zip(cb.remainder()).fold(0i32, |s, (&x, &y)| s.wrapping_add(i32::from(x) * i32::from(y)));
    let mut acc = [0i32; W];
    for (x, y) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *s = s.wrapping_add(i32::from(x) * i32::from(y));
        }
    }
    acc.iter().fold(tail, |s, &v| s.wrapping_add(v))
}

/// [`dot`] of `q` with four rows (four calls; the SIMD version shares query loads).
#[inline]
pub fn dot4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    rows.map(|r| dot(q, &r[..q.len()]))
}

/// [`l2_sq`] of `q` with four rows (four calls; the SIMD version shares query loads).
#[inline]
pub fn l2_sq4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    rows.map(|r| l2_sq(q, &r[..q.len()]))
}

/// Integer inner products of a query with consecutive int8 rows in the paired layout; the
/// same sums as the SIMD version (see there). Panics if `codes` holds fewer than
/// `out.len()` rows or the query length is not a multiple of 16.
pub fn dot_paired_rows(q: &[i16], codes: &[i8], out: &mut [i32]) {
    let stride = q.len();
    assert!(stride % 16 == 0, "query length {stride} is not a multiple of 16");
    if stride == 0 {
        out.fill(0);
        return;
    }
    assert!(codes.len() / stride >= out.len(), "codes hold too few rows");
    for (o, row) in out.iter_mut().zip(codes.chunks_exact(stride)) {
        let mut s = 0i32;
        for (chunk, qc) in row.chunks_exact(16).zip(q.chunks_exact(16)) {
            let (qe, qb) = qc.split_at(8);
            for l in 0..8 {
                let w = i16::from_le_bytes([chunk[2 * l] as u8, chunk[2 * l + 1] as u8]);
                s = s.wrapping_add(i32::from(w) * i32::from(qe[l])).wrapping_add(i32::from(w >> 8) * i32::from(qb[l]));
            }
        }
        *o = s;
    }
}

/// [`dot_paired_rows`] for the rows listed in `rows`. Panics if a row lies outside
/// `codes` or `out.len() != rows.len()`.
pub fn dot_paired_gather(q: &[i16], codes: &[i8], rows: &[u32], out: &mut [i32]) {
    assert_eq!(rows.len(), out.len(), "one output per row");
    let stride = q.len();
    for (o, &r) in out.iter_mut().zip(rows) {
        let start = r as usize * stride;
        dot_paired_rows(q, &codes[start..start + stride], std::slice::from_mut(o));
    }
}

pub use super::Epilogue;

/// Scores of consecutive rows in the paired layout with their candidate mask; the same
/// operations as the SIMD version.
pub fn approx_paired_rows(q: &[i16], codes: &[i8], ep: &Epilogue, out: &mut [f32], mask: &mut [u64]) {
    assert!(out.len() <= 64 * mask.len(), "mask too short");
    mask.fill(0);
    let mut dots = vec![0i32; out.len()];
    dot_paired_rows(q, codes, &mut dots);
    for (r, (o, &d)) in out.iter_mut().zip(&dots).enumerate() {
        let mut a = d.wrapping_sub(ep.bias) as f32 * (ep.scale * ep.scales[r]);
        if let Some((qsq, sq)) = ep.l2 {
            a = 2.0 * a - qsq - sq[r];
        }
        *o = a;
        if (a + ep.add).partial_cmp(&ep.floor) != Some(std::cmp::Ordering::Less) {
            mask[r / 64] |= 1 << (r % 64);
        }
    }
}

/// Bit `i` set iff `!(v[i] + add < floor)` (so NaN sums are set), for `v.len() <= 64`.
#[inline]
pub fn not_below_mask(v: &[f32], add: f32, floor: f32) -> u64 {
    assert!(v.len() <= 64);
    v.iter()
        .enumerate()
        .filter(|(_, &x)| (x + add).partial_cmp(&floor) != Some(std::cmp::Ordering::Less))
        .fold(0u64, |m, (i, _)| m | 1 << i)
}

/// The largest element, NaN if any element is NaN, `-inf` for an empty slice.
#[inline]
pub fn max_f32(v: &[f32]) -> f32 {
    let mut r = f32::NEG_INFINITY;
    for &x in v {
        if x.is_nan() {
            return f32::NAN;
        }
        r = r.max(x);
    }
    r
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn small_exact_values() {
        let a = [1.0, 2.0, 3.0];
        let b = [4.0, -5.0, 6.0];
        assert_eq!(dot(&a, &b), 12.0);
        assert_eq!(l2_sq(&a, &b), 9.0 + 49.0 + 9.0);
        assert_eq!(dot(&[], &[]), 0.0);
        assert_eq!(l2_sq(&[], &[]), 0.0);
        assert_eq!(dot_i8(&[], &[]), 0);
    }

    #[test]
    fn unrolled_and_tail_agree_with_naive() {
        for n in [1usize, 7, 8, 9, 16, 17, 31, 100] {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| 2.0 - i as f32 * 0.25).collect();
            let d: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let l: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert!((dot(&a, &b) - d).abs() <= 1e-3 * d.abs().max(1.0), "n={n}");
            assert!((l2_sq(&a, &b) - l).abs() <= 1e-3 * l.max(1.0), "n={n}");
        }
    }

    #[test]
    fn dot_i8_extremes() {
        let a = vec![-128i8; 100];
        let b = vec![-128i8; 100];
        assert_eq!(dot_i8(&a, &b), 100 * 16384);
        let c = vec![127i8; 100];
        assert_eq!(dot_i8(&a, &c), -100 * 128 * 127);
        let x: Vec<i8> = (0..37).map(|i| (i * 7 - 100) as i8).collect();
        let y: Vec<i8> = (0..37).map(|i| (50 - i * 3) as i8).collect();
        let want: i32 = x.iter().zip(&y).map(|(&p, &q)| p as i32 * q as i32).sum();
        assert_eq!(dot_i8(&x, &y), want);
    }
}
