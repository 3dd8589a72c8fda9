//! Scalar int8 quantisation for fast approximate scans, followed by exact f32 re-ranking.
//!
//! Scheme: symmetric, one scale per row. Row `i` is stored as int8 codes in `[-127, 127]`
//! and `scale_i = max|x| / 127`, so `x ≈ code · scale_i`. A query is quantised the same
//! way, hence `q·x ≈ dot_i8(q_codes, x_codes) · q_scale · scale_i`. Per-row scales (rather
//! than per-dimension ones) need no training pass and keep each row independent, so rows
//! can be appended at any time. Memory is `dim + 8` bytes per vector: codes, scale, and
//! the exact squared norm used by the L2 estimate.

use crate::error::{Error, Result};
use crate::manifest::Distance;
use crate::search::kernels;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::search::kernels::scalar as imp;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::search::kernels::simd128 as imp;

/// Largest code magnitude. -128 is never produced, which keeps the scheme symmetric.
const MAX_CODE: f32 = 127.0;

/// Integer inner product of two int8 code slices, accumulated in i32 (SIMD128 on wasm).
///
/// Exact for lengths up to 131 072; callers guarantee equal lengths (a mismatch uses the
/// common prefix in release builds).
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    imp::dot_i8(a, b)
}

/// Quantises `v` into `codes` (same length) and returns the scale, 0 for an all-zero row.
/// Non-finite inputs are not expected (vectors are validated on insert); NaN maps to code 0
/// and ±inf to ±127 so that a bad value cannot poison the whole row.
fn quantize_into(v: &[f32], codes: &mut [i8]) -> f32 {
    let max = v.iter().filter(|x| x.is_finite()).fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        codes.fill(0);
        return 0.0;
    }
    for (c, &x) in codes.iter_mut().zip(v) {
        // x / max is in [-1, 1] for finite x, so this cannot overflow; the clamp catches ±inf
        // and `as` maps NaN to 0. Ties-to-even rounding is a single instruction on wasm.
        *c = (x / max * MAX_CODE).round_ties_even().clamp(-MAX_CODE, MAX_CODE) as i8;
    }
    max / MAX_CODE
}

/// A query quantised with the same scheme as the rows of a [`QuantizedMatrix`].
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedQuery {
    /// int8 codes, one per dimension.
    pub codes: Vec<i8>,
    /// Dequantisation scale: `query ≈ codes · scale`.
    pub scale: f32,
    /// Exact squared L2 norm of the f32 query (for L2 estimates).
    pub sq_norm: f32,
}

/// Quantises a query vector for [`approx_scores`].
pub fn quantize_query(query: &[f32]) -> QuantizedQuery {
    let mut codes = vec![0i8; query.len()];
    let scale = quantize_into(query, &mut codes);
    QuantizedQuery { codes, scale, sq_norm: kernels::dot(query, query) }
}

/// A row-major matrix of int8-quantised vectors with per-row scales and exact squared norms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QuantizedMatrix {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    sq_norms: Vec<f32>,
}

impl QuantizedMatrix {
    /// An empty matrix of `dim`-dimensional rows.
    pub fn new(dim: usize) -> Self {
        QuantizedMatrix { dim, ..Default::default() }
    }

    /// Quantises the row-major f32 matrix `flat` (rows of `dim` floats). Expects
    /// `flat.len()` to be a multiple of `dim`; a trailing partial row is ignored, and
    /// `dim == 0` gives an empty matrix.
    pub fn from_f32(flat: &[f32], dim: usize) -> Self {
        debug_assert!(dim == 0 || flat.len() % dim == 0, "flat length is not a multiple of dim");
        let mut m = QuantizedMatrix::new(dim);
        if dim == 0 {
            return m;
        }
        let rows = flat.len() / dim;
        m.codes.reserve_exact(rows * dim);
        m.scales.reserve_exact(rows);
        m.sq_norms.reserve_exact(rows);
        for row in flat.chunks_exact(dim) {
            m.push(row);
        }
        m
    }

    /// Rebuilds a matrix from stored parts (e.g. a decoded segment), checking the shapes.
    pub fn from_parts(dim: usize, codes: Vec<i8>, scales: Vec<f32>, sq_norms: Vec<f32>) -> Result<Self> {
        let rows = scales.len();
        if sq_norms.len() != rows {
            return Err(Error::invalid(format!("quantized matrix: {} scales but {} norms", rows, sq_norms.len())));
        }
        if rows.checked_mul(dim) != Some(codes.len()) {
            return Err(Error::invalid(format!(
                "quantized matrix: {} codes do not form {} rows of dimension {}",
                codes.len(),
                rows,
                dim
            )));
        }
        Ok(QuantizedMatrix { dim, codes, scales, sq_norms })
    }

    /// Appends one row. Expects `row.len() == dim`: a shorter row is zero-padded and a
    /// longer one truncated (release builds), so the matrix shape is never broken.
    pub fn push(&mut self, row: &[f32]) {
        debug_assert_eq!(row.len(), self.dim, "row length differs from dim");
        let row = &row[..row.len().min(self.dim)];
        let start = self.codes.len();
        self.codes.resize(start + self.dim, 0);
        let scale = quantize_into(row, &mut self.codes[start..start + row.len()]);
        self.scales.push(scale);
        self.sq_norms.push(kernels::dot(row, row));
    }

    /// Dimension of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Whether the matrix has no rows.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// All codes, row-major.
    pub fn codes(&self) -> &[i8] {
        &self.codes
    }

    /// Codes of row `i` (panics if out of range, like slice indexing).
    pub fn row(&self, i: usize) -> &[i8] {
        &self.codes[i * self.dim..(i + 1) * self.dim]
    }

    /// Per-row dequantisation scales.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Per-row exact squared L2 norms of the original f32 rows.
    pub fn sq_norms(&self) -> &[f32] {
        &self.sq_norms
    }

    /// Heap bytes used by the data: `len() · (dim + 8)`.
    pub fn size_bytes(&self) -> usize {
        self.codes.len() + 4 * (self.scales.len() + self.sq_norms.len())
    }
}

/// Approximate [`kernels::score`] of every row of `matrix` against `query`, into
/// `out[i]` (higher is better). Dot and cosine estimate the inner product; L2 estimates
/// `-(‖q‖² + ‖v‖² - 2 q·v)` with exact norms. Does not allocate.
///
/// Expects `out.len() == matrix.len()` and a query of the matrix dimension; otherwise
/// (release builds) only the common rows are written.
pub fn approx_scores(distance: Distance, query: &QuantizedQuery, matrix: &QuantizedMatrix, out: &mut [f32]) {
    debug_assert_eq!(out.len(), matrix.len(), "output length differs from row count");
    debug_assert_eq!(query.codes.len(), matrix.dim, "query dimension differs from matrix");
    if matrix.dim == 0 {
        out.iter_mut().take(matrix.len()).for_each(|o| *o = 0.0);
        return;
    }
    let rows = matrix.codes.chunks_exact(matrix.dim).zip(&matrix.scales).zip(&matrix.sq_norms).zip(out.iter_mut());
    let qs = query.scale;
    // Dispatch once per batch, not once per row.
    match distance {
        Distance::Cosine | Distance::Dot => rows.for_each(|(((codes, &s), _), o)| {
            *o = dot_i8(&query.codes, codes) as f32 * (qs * s);
        }),
        Distance::L2 => rows.for_each(|(((codes, &s), &n), o)| {
            let qv = dot_i8(&query.codes, codes) as f32 * (qs * s);
            *o = 2.0 * qv - query.sq_norm - n;
        }),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::search::kernels::scalar;
    use crate::search::topk::TopK;

    struct XorShift(u64);

    impl XorShift {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn f32(&mut self) -> f32 {
            (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }

        fn i8(&mut self) -> i8 {
            (self.next_u64() >> 56) as u8 as i8
        }
    }

    #[test]
    fn dot_i8_matches_scalar_for_many_lengths() {
        let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
        for n in [0usize, 1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 383, 384, 385, 4096] {
            let a: Vec<i8> = (0..n).map(|_| rng.i8()).collect();
            let b: Vec<i8> = (0..n).map(|_| rng.i8()).collect();
            let want: i32 = a.iter().zip(&b).map(|(&x, &y)| x as i32 * y as i32).sum();
            assert_eq!(dot_i8(&a, &b), want, "n={n}");
            assert_eq!(scalar::dot_i8(&a, &b), want, "n={n}");
        }
        // Extremes (including -128, which quantisation never produces) at SIMD widths.
        let lo = vec![-128i8; 4096];
        let hi = vec![127i8; 4096];
        assert_eq!(dot_i8(&lo, &lo), 4096 * 16384);
        assert_eq!(dot_i8(&lo, &hi), -4096 * 128 * 127);
    }

    #[test]
    fn quantize_round_trip_error_is_bounded() {
        let mut rng = XorShift(5);
        let dim = 100;
        let flat: Vec<f32> = (0..dim * 20).map(|_| rng.f32() * 3.0).collect();
        let m = QuantizedMatrix::from_f32(&flat, dim);
        assert_eq!(m.len(), 20);
        assert_eq!(m.dim(), dim);
        assert_eq!(m.size_bytes(), 20 * (dim + 8));
        for (i, row) in flat.chunks_exact(dim).enumerate() {
            let s = m.scales()[i];
            let max = row.iter().fold(0.0f32, |a, x| a.max(x.abs()));
            assert!((s - max / 127.0).abs() <= 1e-7);
            for (&c, &x) in m.row(i).iter().zip(row) {
                assert!((-127..=127).contains(&c));
                // Rounding error is at most half a step.
                assert!((c as f32 * s - x).abs() <= 0.5 * s + 1e-6);
            }
            assert!((m.sq_norms()[i] - scalar::dot(row, row)).abs() <= 1e-4);
        }
    }

    #[test]
    fn zero_and_degenerate_rows() {
        let m = QuantizedMatrix::from_f32(&[0.0, 0.0, 1.0, -2.0], 2);
        assert_eq!(m.row(0), &[0, 0]);
        assert_eq!(m.scales()[0], 0.0);
        assert_eq!(m.row(1), &[64, -127]);
        let q = quantize_query(&[0.0, 0.0]);
        assert_eq!(q.scale, 0.0);
        let mut out = [f32::NAN; 2];
        approx_scores(Distance::Dot, &q, &m, &mut out);
        assert_eq!(out, [0.0, 0.0]);

        let empty = QuantizedMatrix::from_f32(&[], 0);
        assert!(empty.is_empty());
        let mut none: [f32; 0] = [];
        approx_scores(Distance::L2, &quantize_query(&[]), &empty, &mut none);

        // A NaN/inf value is not expected, but must not spread through the row.
        let bad = QuantizedMatrix::from_f32(&[f32::NAN, 1.0, f32::INFINITY, -0.5], 4);
        assert_eq!(bad.row(0), &[0, 127, 127, -64]);
    }

    #[test]
    fn from_parts_validates_shape() {
        let m = QuantizedMatrix::from_f32(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3);
        let back =
            QuantizedMatrix::from_parts(3, m.codes().to_vec(), m.scales().to_vec(), m.sq_norms().to_vec()).unwrap();
        assert_eq!(back, m);
        assert!(QuantizedMatrix::from_parts(3, vec![0; 5], vec![1.0; 2], vec![1.0; 2]).is_err());
        assert!(QuantizedMatrix::from_parts(3, vec![0; 6], vec![1.0; 2], vec![1.0; 1]).is_err());
        let e = QuantizedMatrix::from_parts(2, vec![0; 3], vec![1.0], vec![1.0]).unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn push_matches_from_f32() {
        let flat = [0.5, -1.0, 0.25, 2.0, 0.0, -3.0];
        let mut m = QuantizedMatrix::new(3);
        m.push(&flat[..3]);
        m.push(&flat[3..]);
        assert_eq!(m, QuantizedMatrix::from_f32(&flat, 3));
    }

    #[test]
    fn approx_scores_close_to_exact() {
        let mut rng = XorShift(11);
        let dim = 64;
        let rows = 50;
        let flat: Vec<f32> = (0..dim * rows).map(|_| rng.f32()).collect();
        let q: Vec<f32> = (0..dim).map(|_| rng.f32()).collect();
        let m = QuantizedMatrix::from_f32(&flat, dim);
        let qq = quantize_query(&q);
        for d in [Distance::Dot, Distance::Cosine, Distance::L2] {
            let mut approx = vec![0.0; rows];
            approx_scores(d, &qq, &m, &mut approx);
            let mut exact = vec![0.0; rows];
            kernels::score_many(d, &q, &flat, dim, &mut exact);
            for (a, e) in approx.iter().zip(&exact) {
                // Per-element error ≤ half a step on each side: tiny relative to ‖q‖‖v‖ ≈ 21.
                assert!((a - e).abs() < 0.15, "{d:?}: approx {a} exact {e}");
            }
        }
    }

    /// Returns unit-norm random vectors of dimension `dim`, row-major.
    fn unit_vectors(rng: &mut XorShift, n: usize, dim: usize) -> Vec<f32> {
        let mut flat: Vec<f32> = (0..n * dim).map(|_| rng.f32()).collect();
        for row in flat.chunks_exact_mut(dim) {
            assert!(kernels::normalize(row));
        }
        flat
    }

    #[test]
    fn rerank_recall_at_10() {
        // Approximate top-40 by int8 scores, re-ranked exactly, must recover the exact top-10.
        let (n, dim, queries) = (1000, 64, 20);
        let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
        let flat = unit_vectors(&mut rng, n, dim);
        let m = QuantizedMatrix::from_f32(&flat, dim);
        for d in [Distance::Cosine, Distance::L2] {
            let mut found = 0usize;
            let mut approx = vec![0.0; n];
            let mut exact = vec![0.0; n];
            for _ in 0..queries {
                let q = unit_vectors(&mut rng, 1, dim);
                kernels::score_many(d, &q, &flat, dim, &mut exact);
                let mut truth = TopK::new(10);
                exact.iter().enumerate().for_each(|(i, &s)| truth.push(s, i as u32));
                let truth: Vec<u32> = truth.into_sorted().into_iter().map(|(_, i)| i).collect();

                approx_scores(d, &quantize_query(&q), &m, &mut approx);
                let mut cands = TopK::new(40);
                approx.iter().enumerate().for_each(|(i, &s)| cands.push(s, i as u32));
                let mut reranked = TopK::new(10);
                for (_, i) in cands.into_sorted() {
                    reranked.push(exact[i as usize], i);
                }
                found += reranked.into_sorted().iter().filter(|(_, i)| truth.contains(i)).count();
            }
            let recall = found as f64 / (queries * 10) as f64;
            assert!(recall >= 0.9, "{d:?}: recall@10 {recall}");
        }
    }
}
