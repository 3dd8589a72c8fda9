//! Scalar int8 quantisation for fast scans, with rigorous error bounds.
//!
//! Scheme: symmetric, one scale per row. Row `i` is stored as int8 codes in `[-127, 127]`
//! and `scale_i = max|x| / 127`, so `x ≈ code · scale_i`. A query is quantised the same
//! way, hence `q·x ≈ dot(q_codes, x_codes) · q_scale · scale_i`. Per-row scales (rather
//! than per-dimension ones) need no training pass and keep each row independent, so rows
//! can be appended at any time.
//!
//! Rows are padded with zero codes to a multiple of 16 bytes (`stride`), so the SIMD scan
//! has no tails, and stored in a *paired* layout: even dimensions hold `code + 128` as an
//! unsigned byte, odd ones `code`. Read as i16 lanes, two neighbouring codes are then
//! `w = odd·256 + even + 128` and `w >> 8 = odd`, so the scan needs one shift and two
//! `i32x4.dot_i16x8_s` per 16 bytes instead of two sign extensions (see
//! `kernels::simd128::dot_paired_rows`); the query is prepared once per search
//! ([`QuantizedQuery`]) so that the bias `128·Σ q_even` comes off as one subtraction.
//!
//! **Error bounds.** Besides its scale, every row keeps its exact norm `‖x‖` and the norm
//! of its quantisation residual `r = ‖x − scale·codes‖` (computed in f64, rounded up). With
//! the query's own `‖q‖` and residual `r_q`, the approximation `a` of `q·x` satisfies
//! `|q·x − a| ≤ r_q·(‖x‖ + r) + ‖q‖·r` (Cauchy–Schwarz on the two residual terms); a
//! relative slack for f32 rounding, in both `a` and the exact f32 kernels, is added on top
//! ([`QuantizedQuery::bound`]). The exact search uses these bounds to skip rows that cannot
//! reach the top k, and re-scores only the others in f32: same results as a full f32 scan.
//!
//! Memory is `stride + 20` bytes per vector: codes, scale, squared norm, norm, residual.

use crate::distance::Distance;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::kernels::scalar as imp;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::kernels::simd128 as imp;

/// Largest code magnitude. -128 is never produced, which keeps the scheme symmetric.
const MAX_CODE: f32 = 127.0;

/// `2⁻¹¹¹`: `eps · UNDERFLOW = (dim + 64)·2⁻¹³⁴` bounds the absolute error of subnormal
/// results: an int8 dot product (< 2¹⁴·dim) times a subnormal scale product (error
/// ≤ 2⁻¹⁵⁰), and subnormal terms of the f32 kernels.
const UNDERFLOW: f32 = f32::from_bits(16 << 23);

/// Row padding of the code matrix, in bytes (one SIMD128 register).
pub const PAD: usize = 16;

/// Integer inner product of two int8 code slices, accumulated in i32 (SIMD128 on wasm).
///
/// Exact for lengths up to 131 072; callers guarantee equal lengths (a mismatch uses the
/// common prefix in release builds).
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    imp::dot_i8(a, b)
}

/// `dim` rounded up to a multiple of [`PAD`].
pub fn padded(dim: usize) -> usize {
    dim.div_ceil(PAD) * PAD
}

/// Rounds a non-negative f64 up to an f32 that is not smaller.
fn f32_up(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) < x {
        // `f32::next_up` for a non-negative finite f (stable only since Rust 1.86).
        f32::from_bits(f.to_bits() + 1)
    } else {
        f
    }
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

/// `(‖v‖, ‖v − scale·codes‖, ‖v‖²)`: the norms are rounded up, the square to nearest.
fn norms(v: &[f32], codes: &[i8], scale: f32) -> (f32, f32, f32) {
    let (mut sq, mut res) = (0.0f64, 0.0f64);
    for (&x, &c) in v.iter().zip(codes) {
        let x = x as f64;
        sq += x * x;
        let e = x - scale as f64 * c as f64;
        res += e * e;
    }
    // The f64 sums carry a relative error below 1e-12: a tiny factor keeps the bounds safe.
    let up = 1.0 + 1e-9;
    (f32_up(sq.sqrt() * up), f32_up(res.sqrt() * up), sq as f32)
}

/// A query quantised with the same scheme as the rows of a [`QuantizedMatrix`].
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedQuery {
    /// int8 codes, one per dimension.
    pub codes: Vec<i8>,
    /// The codes in the scan's paired form, zero-padded to [`padded`]`(dim)`: per 16
    /// dimensions, the 8 even codes, then the 8 values `odd − 256·even`.
    pub wide: Vec<i16>,
    /// `128·Σ even codes`: what the paired scan adds to every dot product.
    pub bias: i32,
    /// Dequantisation scale: `query ≈ codes · scale`.
    pub scale: f32,
    /// Squared L2 norm of the f32 query (for L2 estimates).
    pub sq_norm: f32,
    /// `‖q‖`, rounded up.
    pub norm: f32,
    /// `‖q − scale·codes‖`, rounded up.
    pub residual: f32,
    /// Relative slack for f32 rounding, see [`bound`](Self::bound).
    pub eps: f32,
}

/// Quantises a query vector for [`approx_scores`].
pub fn quantize_query(query: &[f32]) -> QuantizedQuery {
    let mut codes = vec![0i8; query.len()];
    let scale = quantize_into(query, &mut codes);
    let (norm, residual, sq_norm) = norms(query, &codes, scale);
    let mut padded_codes = codes.clone();
    padded_codes.resize(padded(query.len()), 0);
    let mut wide = vec![0i16; padded_codes.len()];
    let mut bias = 0i32;
    for (w, c) in wide.chunks_exact_mut(16).zip(padded_codes.chunks_exact(16)) {
        for l in 0..8 {
            let (even, odd) = (i16::from(c[2 * l]), i16::from(c[2 * l + 1]));
            w[l] = even;
            // |odd − 256·even| ≤ 127 + 256·127 = 32639: fits in i16.
            w[8 + l] = odd - 256 * even;
            bias += 128 * i32::from(even);
        }
    }
    // The f32 kernels sum at most dim/4 + 8 rounded terms in sequence (two accumulators of
    // four lanes, a reduction tree, a short tail), and the approximation rounds three times:
    // (dim + 64)·2⁻²³ of ‖q‖‖x‖ covers both with a wide margin.
    let eps = (query.len() as f32 + 64.0) * f32::EPSILON;
    QuantizedQuery { codes, wide, bias, scale, sq_norm, norm, residual, eps }
}

impl QuantizedQuery {
    /// An upper bound of `|exact − approx|` for a row with norm `norm` and residual
    /// `residual`, where `exact` is what [`crate::kernels::score`] computes in f32 and `approx` what
    /// [`approx_scores`] gives. Monotone in both arguments, so the largest norm and residual
    /// of a matrix bound all of its rows at once.
    #[inline]
    pub fn bound(&self, distance: Distance, norm: f32, residual: f32) -> f32 {
        let (qn, qr) = (self.norm, self.residual);
        let n_hat = norm + residual; // ≥ ‖scale·codes‖
        let dot = qr * n_hat + qn * residual + self.eps * (qn + qr) * n_hat;
        let b = match distance {
            Distance::Cosine | Distance::Dot => dot,
            // -‖q−x‖² = 2q·x − ‖q‖² − ‖x‖²: twice the dot error, plus rounding of the norms
            // and of the exact kernel, both within eps·(‖q‖+‖x‖)².
            Distance::L2 => 2.0 * dot + self.eps * (qn + n_hat) * (qn + n_hat),
        };
        // Rounding of this very computation, and an absolute floor for products that
        // underflow to subnormals (whose rounding error is not relative).
        let b = b * (1.0 + 1e-5) + self.eps * UNDERFLOW;
        // Overflowed norms (inf·0 = NaN): no bound.
        if b.is_nan() {
            f32::INFINITY
        } else {
            b
        }
    }
}

/// A row-major matrix of int8-quantised vectors (rows zero-padded to a multiple of
/// [`PAD`]) with per-row scales, norms and residual norms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QuantizedMatrix {
    dim: usize,
    stride: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    sq_norms: Vec<f32>,
    norms: Vec<f32>,
    residuals: Vec<f32>,
    max_norm: f32,
    max_residual: f32,
}

impl QuantizedMatrix {
    /// An empty matrix of `dim`-dimensional rows.
    pub fn new(dim: usize) -> Self {
        QuantizedMatrix { dim, stride: padded(dim), ..Default::default() }
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
        m.codes.reserve_exact(rows * m.stride);
        m.scales.reserve_exact(rows);
        m.sq_norms.reserve_exact(rows);
        m.norms.reserve_exact(rows);
        m.residuals.reserve_exact(rows);
        for row in flat.chunks_exact(dim) {
            m.push(row);
        }
        m
    }

    /// Appends one row. Expects `row.len() == dim`: a shorter row is zero-padded and a
    /// longer one truncated (release builds), so the matrix shape is never broken.
    pub fn push(&mut self, row: &[f32]) {
        debug_assert_eq!(row.len(), self.dim, "row length differs from dim");
        let row = &row[..row.len().min(self.dim)];
        let start = self.codes.len();
        self.codes.resize(start + self.stride, 0);
        let codes = &mut self.codes[start..start + row.len()];
        let scale = quantize_into(row, codes);
        let (norm, residual, sq) = norms(row, codes, scale);
        // Paired layout: bias the even positions (padding included) by +128.
        for c in self.codes[start..start + self.stride].iter_mut().step_by(2) {
            *c = (*c as u8 ^ 0x80) as i8;
        }
        self.scales.push(scale);
        self.sq_norms.push(sq);
        self.norms.push(norm);
        self.residuals.push(residual);
        self.max_norm = self.max_norm.max(norm);
        self.max_residual = self.max_residual.max(residual);
    }

    /// Appends row `i` of `other` (same dimension) as it is, without quantising again.
    pub fn push_row_of(&mut self, other: &QuantizedMatrix, i: usize) {
        debug_assert_eq!(other.stride, self.stride, "matrices of different dimensions");
        let s = i * other.stride;
        self.codes.extend_from_slice(&other.codes[s..s + other.stride]);
        self.scales.push(other.scales[i]);
        self.sq_norms.push(other.sq_norms[i]);
        self.norms.push(other.norms[i]);
        self.residuals.push(other.residuals[i]);
        self.max_norm = self.max_norm.max(other.norms[i]);
        self.max_residual = self.max_residual.max(other.residuals[i]);
    }

    /// Dimension of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Bytes per row of [`codes`](Self::codes): `dim` rounded up to a multiple of 16.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Whether the matrix has no rows.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// All codes, row-major with [`stride`](Self::stride) bytes per row.
    pub fn codes(&self) -> &[i8] {
        &self.codes
    }

    /// Codes of row `i`, without padding or bias (panics if out of range).
    pub fn row(&self, i: usize) -> Vec<i8> {
        let stored = &self.codes[i * self.stride..i * self.stride + self.dim];
        stored.iter().enumerate().map(|(j, &c)| if j % 2 == 0 { (c as u8 ^ 0x80) as i8 } else { c }).collect()
    }

    /// Exact integer dot products `Σ query.codes·codes` of rows `start..start + out.len()`
    /// (rows past the end are not written). Panics if the query's dimension differs.
    pub fn int_dots(&self, query: &QuantizedQuery, start: usize, out: &mut [i32]) {
        assert_eq!(query.wide.len(), self.stride, "query dimension differs from matrix");
        let end = self.len().min(start.saturating_add(out.len()));
        if start >= end {
            return;
        }
        let out = &mut out[..end - start];
        imp::dot_paired_rows(&query.wide, &self.codes[start * self.stride..end * self.stride], out);
        for d in out.iter_mut() {
            *d = d.wrapping_sub(query.bias);
        }
    }

    /// Per-row dequantisation scales.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Per-row squared L2 norms of the original f32 rows.
    pub fn sq_norms(&self) -> &[f32] {
        &self.sq_norms
    }

    /// Per-row L2 norms of the original rows, rounded up.
    pub fn norms(&self) -> &[f32] {
        &self.norms
    }

    /// Per-row norms of the quantisation residual `x − scale·codes`, rounded up.
    pub fn residuals(&self) -> &[f32] {
        &self.residuals
    }

    /// Largest row norm (0 when empty).
    pub fn max_norm(&self) -> f32 {
        self.max_norm
    }

    /// Largest residual norm (0 when empty).
    pub fn max_residual(&self) -> f32 {
        self.max_residual
    }

    /// Heap bytes used by the data: `len() · (stride + 16)`.
    pub fn size_bytes(&self) -> usize {
        self.codes.len() + 4 * (self.scales.len() + self.sq_norms.len() + self.norms.len() + self.residuals.len())
    }
}

/// Approximate [`crate::kernels::score`] of rows `start..start + out.len()` of `matrix` against
/// `query`, into `out` (higher is better). Dot and cosine estimate the inner product; L2
/// estimates `-(‖q‖² + ‖v‖² - 2 q·v)` with exact norms. Does not allocate.
///
/// Rows past the end of the matrix are not written; a query of another dimension than the
/// matrix yields zeros (both are caller bugs, caught by `debug_assert` in tests).
pub fn approx_scores_at(
    distance: Distance,
    query: &QuantizedQuery,
    matrix: &QuantizedMatrix,
    start: usize,
    out: &mut [f32],
) {
    debug_assert_eq!(query.codes.len(), matrix.dim, "query dimension differs from matrix");
    let end = matrix.len().min(start.saturating_add(out.len()));
    if start >= end {
        return;
    }
    let out = &mut out[..end - start];
    if matrix.dim == 0 || query.wide.len() != matrix.stride {
        out.fill(0.0);
        return;
    }
    let qs = query.scale;
    let mut dots = [0i32; 256];
    let mut row = start;
    for out in out.chunks_mut(dots.len()) {
        let dots = &mut dots[..out.len()];
        matrix.int_dots(query, row, dots);
        let scales = &matrix.scales[row..row + out.len()];
        match distance {
            Distance::Cosine | Distance::Dot => {
                for ((o, &d), &s) in out.iter_mut().zip(dots.iter()).zip(scales) {
                    *o = d as f32 * (qs * s);
                }
            }
            Distance::L2 => {
                let norms = &matrix.sq_norms[row..row + out.len()];
                for (((o, &d), &s), &n) in out.iter_mut().zip(dots.iter()).zip(scales).zip(norms) {
                    *o = 2.0 * (d as f32 * (qs * s)) - query.sq_norm - n;
                }
            }
        }
        row += out.len();
    }
}

/// [`approx_scores_at`] for rows `start..start + out.len()` (at most 256, all inside the
/// matrix), fused with the candidate test: returns a mask whose bit `j` is set unless
/// `out[j] + add < floor` (NaN included). Panics on out-of-range rows or a query of another
/// dimension.
pub fn approx_block(
    distance: Distance,
    query: &QuantizedQuery,
    matrix: &QuantizedMatrix,
    start: usize,
    out: &mut [f32],
    add: f32,
    floor: f32,
) -> [u64; 4] {
    assert_eq!(query.wide.len(), matrix.stride, "query dimension differs from matrix");
    let end = start + out.len();
    assert!(end <= matrix.len() && out.len() <= 256, "rows out of range");
    let mut mask = [0u64; 4];
    if matrix.stride == 0 {
        out.fill(0.0);
        mask.iter_mut().for_each(|m| *m = u64::MAX);
        return mask;
    }
    let ep = imp::Epilogue {
        bias: query.bias,
        scale: query.scale,
        scales: &matrix.scales[start..end],
        l2: match distance {
            Distance::L2 => Some((query.sq_norm, &matrix.sq_norms[start..end])),
            Distance::Cosine | Distance::Dot => None,
        },
        add,
        floor,
    };
    imp::approx_paired_rows(
        &query.wide,
        &matrix.codes[start * matrix.stride..end * matrix.stride],
        &ep,
        out,
        &mut mask,
    );
    mask
}

/// [`approx_scores_at`] for the rows listed in `rows`: `out[j]` estimates row `rows[j]`.
/// Panics if a row is out of range, `out.len() != rows.len()` or the query's dimension
/// differs from the matrix.
pub fn approx_scores_rows(
    distance: Distance,
    query: &QuantizedQuery,
    matrix: &QuantizedMatrix,
    rows: &[u32],
    out: &mut [f32],
) {
    assert_eq!(query.wide.len(), matrix.stride, "query dimension differs from matrix");
    assert_eq!(rows.len(), out.len(), "one output per row");
    let qs = query.scale;
    let mut dots = [0i32; 256];
    for (ids, out) in rows.chunks(dots.len()).zip(out.chunks_mut(dots.len())) {
        let dots = &mut dots[..ids.len()];
        imp::dot_paired_gather(&query.wide, &matrix.codes, ids, dots);
        for ((o, &d), &r) in out.iter_mut().zip(dots.iter()).zip(ids) {
            let qv = d.wrapping_sub(query.bias) as f32 * (qs * matrix.scales[r as usize]);
            *o = match distance {
                Distance::Cosine | Distance::Dot => qv,
                Distance::L2 => 2.0 * qv - query.sq_norm - matrix.sq_norms[r as usize],
            };
        }
    }
}

/// [`approx_scores_at`] for every row: expects `out.len() == matrix.len()`.
pub fn approx_scores(distance: Distance, query: &QuantizedQuery, matrix: &QuantizedMatrix, out: &mut [f32]) {
    debug_assert_eq!(out.len(), matrix.len(), "output length differs from row count");
    approx_scores_at(distance, query, matrix, 0, out);
    if matrix.dim == 0 {
        out.iter_mut().take(matrix.len()).for_each(|o| *o = 0.0);
    }
}

#[cfg(test)]
mod tests;
