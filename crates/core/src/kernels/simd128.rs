//! WebAssembly SIMD128 kernels, compiled only when the `simd128` target feature is on
//! (`-C target-feature=+simd128`, set in `.cargo/config.toml`). Results match
//! [`super::scalar`] up to float rounding order (exactly, for the integer kernels).
//!
//! Summation order (f32): two `f32x4` accumulators take alternate 4-element blocks of
//! every 8 elements, a 4-element remainder goes into the first one, the last 0..=3 elements
//! are summed in order, and the result is `hsum(acc0 + acc1) + tail` with
//! `hsum = (l0 + l2) + (l1 + l3)`. The four-row kernels ([`dot4`], [`l2_sq4`]) score four
//! rows against one query with exactly the same operations per row, so a row gets the
//! same bits whether it is scored alone or in a block: the exact scan and the re-ranking
//! of candidates agree to the last bit.
//!
//! Why four rows at a time: each query block is loaded once for four rows, the eight
//! accumulators (two per row) are independent dependency chains, and the four horizontal
//! sums collapse into one transposed reduction.

use core::arch::wasm32::*;

/// Loads 4 f32 starting at `s[i]`.
#[inline(always)]
fn load_f32(s: &[f32], i: usize) -> v128 {
    assert!(i + 4 <= s.len());
    // SAFETY: the assert (folded away in the loops, whose bounds already imply it) keeps the
    // 16-byte read inside `s`; `v128_load` has no alignment requirement.
    unsafe { v128_load(s.as_ptr().add(i) as *const v128) }
}

/// Loads 16 i8 starting at `s[i]`.
#[inline(always)]
fn load_i8(s: &[i8], i: usize) -> v128 {
    assert!(i + 16 <= s.len());
    // SAFETY: as in `load_f32`: the read stays inside `s` and may be unaligned.
    unsafe { v128_load(s.as_ptr().add(i) as *const v128) }
}

/// Sums the four lanes of an `f32x4` as `(l0 + l2) + (l1 + l3)`.
#[inline(always)]
fn hsum_f32(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<2>(v))
        + (f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<3>(v))
}

/// Lane `r` of the result is `hsum_f32` of `v[r]`, with the same additions in the same order.
#[inline(always)]
fn hsum4_f32(a: v128, b: v128, c: v128, d: v128) -> v128 {
    // [a0+a2, a1+a3, b0+b2, b1+b3] and the same for c, d.
    let ab = f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(a, b), i32x4_shuffle::<2, 3, 6, 7>(a, b));
    let cd = f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(c, d), i32x4_shuffle::<2, 3, 6, 7>(c, d));
    // (x0+x2) + (x1+x3) per row.
    f32x4_add(i32x4_shuffle::<0, 2, 4, 6>(ab, cd), i32x4_shuffle::<1, 3, 5, 7>(ab, cd))
}

/// Lane `r` of the result is the wrapping sum of the lanes of `v[r]`.
#[inline(always)]
fn hsum4_i32(a: v128, b: v128, c: v128, d: v128) -> v128 {
    let ab = i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(a, b), i32x4_shuffle::<2, 3, 6, 7>(a, b));
    let cd = i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(c, d), i32x4_shuffle::<2, 3, 6, 7>(c, d));
    i32x4_add(i32x4_shuffle::<0, 2, 4, 6>(ab, cd), i32x4_shuffle::<1, 3, 5, 7>(ab, cd))
}

/// Truncates both slices to their common length (see `scalar::common`).
#[inline(always)]
fn common<'a, T>(a: &'a [T], b: &'a [T]) -> (&'a [T], &'a [T]) {
    debug_assert_eq!(a.len(), b.len(), "kernel operands differ in length");
    let n = a.len().min(b.len());
    (&a[..n], &b[..n])
}

/// One element of the f32 kernels: `x·y` or `(x-y)²`.
trait Term {
    fn v(x: v128, y: v128) -> v128;
    fn s(x: f32, y: f32) -> f32;
}

struct Dot;
struct L2;

impl Term for Dot {
    #[inline(always)]
    fn v(x: v128, y: v128) -> v128 {
        f32x4_mul(x, y)
    }
    #[inline(always)]
    fn s(x: f32, y: f32) -> f32 {
        x * y
    }
}

impl Term for L2 {
    #[inline(always)]
    fn v(x: v128, y: v128) -> v128 {
        let d = f32x4_sub(x, y);
        f32x4_mul(d, d)
    }
    #[inline(always)]
    fn s(x: f32, y: f32) -> f32 {
        (x - y) * (x - y)
    }
}

#[inline(always)]
fn sum1<T: Term>(a: &[f32], b: &[f32]) -> f32 {
    let (a, b) = common(a, b);
    let n = a.len();
    let (mut s0, mut s1) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let mut i = 0;
    while i + 8 <= n {
        s0 = f32x4_add(s0, T::v(load_f32(a, i), load_f32(b, i)));
        s1 = f32x4_add(s1, T::v(load_f32(a, i + 4), load_f32(b, i + 4)));
        i += 8;
    }
    if i + 4 <= n {
        s0 = f32x4_add(s0, T::v(load_f32(a, i), load_f32(b, i)));
        i += 4;
    }
    let mut tail = 0.0f32;
    for (&x, &y) in a[i..].iter().zip(&b[i..]) {
        tail += T::s(x, y);
    }
    hsum_f32(f32x4_add(s0, s1)) + tail
}

/// `[sum(q, r0), .., sum(q, r3)]` with the per-row operations of [`sum1`].
#[inline(always)]
fn sum4<T: Term>(q: &[f32], r: [&[f32]; 4]) -> [f32; 4] {
    let n = q.len();
    let [r0, r1, r2, r3] = r.map(|r| &r[..n]);
    let z = f32x4_splat(0.0);
    let (mut a0, mut a1, mut b0, mut b1) = (z, z, z, z);
    let (mut c0, mut c1, mut d0, mut d1) = (z, z, z, z);
    let mut i = 0;
    while i + 8 <= n {
        let (q0, q1) = (load_f32(q, i), load_f32(q, i + 4));
        a0 = f32x4_add(a0, T::v(q0, load_f32(r0, i)));
        a1 = f32x4_add(a1, T::v(q1, load_f32(r0, i + 4)));
        b0 = f32x4_add(b0, T::v(q0, load_f32(r1, i)));
        b1 = f32x4_add(b1, T::v(q1, load_f32(r1, i + 4)));
        c0 = f32x4_add(c0, T::v(q0, load_f32(r2, i)));
        c1 = f32x4_add(c1, T::v(q1, load_f32(r2, i + 4)));
        d0 = f32x4_add(d0, T::v(q0, load_f32(r3, i)));
        d1 = f32x4_add(d1, T::v(q1, load_f32(r3, i + 4)));
        i += 8;
    }
    if i + 4 <= n {
        let q0 = load_f32(q, i);
        a0 = f32x4_add(a0, T::v(q0, load_f32(r0, i)));
        b0 = f32x4_add(b0, T::v(q0, load_f32(r1, i)));
        c0 = f32x4_add(c0, T::v(q0, load_f32(r2, i)));
        d0 = f32x4_add(d0, T::v(q0, load_f32(r3, i)));
        i += 4;
    }
    let mut tail = [0.0f32; 4];
    for (t, row) in tail.iter_mut().zip([r0, r1, r2, r3]) {
        for (&x, &y) in q[i..].iter().zip(&row[i..]) {
            *t += T::s(x, y);
        }
    }
    let h = hsum4_f32(f32x4_add(a0, a1), f32x4_add(b0, b1), f32x4_add(c0, c1), f32x4_add(d0, d1));
    // SAFETY: `tail` is 16 readable bytes.
    let t = unsafe { v128_load(tail.as_ptr() as *const v128) };
    let s = f32x4_add(h, t);
    [f32x4_extract_lane::<0>(s), f32x4_extract_lane::<1>(s), f32x4_extract_lane::<2>(s), f32x4_extract_lane::<3>(s)]
}

/// Inner product `Σ aᵢ·bᵢ` over the common length of `a` and `b`.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    sum1::<Dot>(a, b)
}

/// Squared Euclidean distance `Σ (aᵢ-bᵢ)²` over the common length of `a` and `b`.
#[inline]
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    sum1::<L2>(a, b)
}

/// [`dot`] of `q` with four rows at once, bit-identical to four calls. Every row must be at
/// least as long as `q` (panics otherwise).
#[inline]
pub fn dot4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    sum4::<Dot>(q, rows)
}

/// [`l2_sq`] of `q` with four rows at once, bit-identical to four calls. Every row must be
/// at least as long as `q` (panics otherwise).
#[inline]
pub fn l2_sq4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    sum4::<L2>(q, rows)
}

/// Bit `i` set iff `!(v[i] + add < floor)` (so NaN sums are set), for `v.len() <= 64`.
#[inline]
pub fn not_below_mask(v: &[f32], add: f32, floor: f32) -> u64 {
    assert!(v.len() <= 64);
    let (a, f) = (f32x4_splat(add), f32x4_splat(floor));
    let mut m = 0u64;
    let mut chunks = v.chunks_exact(4);
    let mut i = 0;
    for c in &mut chunks {
        let below = f32x4_lt(f32x4_add(load_f32(c, 0), a), f);
        m |= u64::from(i32x4_bitmask(v128_not(below))) << i;
        i += 4;
    }
    for &x in chunks.remainder() {
        if (x + add).partial_cmp(&floor) != Some(core::cmp::Ordering::Less) {
            m |= 1 << i;
        }
        i += 1;
    }
    m
}

/// The largest element, NaN if any element is NaN, `-inf` for an empty slice.
#[inline]
pub fn max_f32(v: &[f32]) -> f32 {
    let mut m = f32x4_splat(f32::NEG_INFINITY);
    let mut chunks = v.chunks_exact(4);
    for c in &mut chunks {
        // `f32x4.max` propagates NaN.
        m = f32x4_max(m, load_f32(c, 0));
    }
    let mut r = f32x4_extract_lane::<0>(m)
        .max(f32x4_extract_lane::<1>(m))
        .max(f32x4_extract_lane::<2>(m))
        .max(f32x4_extract_lane::<3>(m));
    let lanes_nan = f32x4_ne(m, m);
    if v128_any_true(lanes_nan) {
        return f32::NAN;
    }
    for &x in chunks.remainder() {
        if x.is_nan() {
            return f32::NAN;
        }
        r = r.max(x);
    }
    r
}

/// Integer inner product of int8 codes, accumulated in i32 (wrapping, like
/// `scalar::dot_i8`).
///
/// Sign-extends each 16-byte block to two `i16x8` and uses `i32x4.dot_i16x8_s`, which
/// multiplies pairs and adds neighbours into i32 lanes in one instruction. 32 bytes per
/// iteration into four accumulators.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let (a, b) = common(a, b);
    let n = a.len();
    #[inline(always)]
    fn block(a: &[i8], b: &[i8], i: usize) -> (v128, v128) {
        let (va, vb) = (load_i8(a, i), load_i8(b, i));
        (
            i32x4_dot_i16x8(i16x8_extend_low_i8x16(va), i16x8_extend_low_i8x16(vb)),
            i32x4_dot_i16x8(i16x8_extend_high_i8x16(va), i16x8_extend_high_i8x16(vb)),
        )
    }
    let (mut s0, mut s1, mut s2, mut s3) = (i32x4_splat(0), i32x4_splat(0), i32x4_splat(0), i32x4_splat(0));
    let mut i = 0;
    while i + 32 <= n {
        let (lo, hi) = block(a, b, i);
        s0 = i32x4_add(s0, lo);
        s1 = i32x4_add(s1, hi);
        let (lo, hi) = block(a, b, i + 16);
        s2 = i32x4_add(s2, lo);
        s3 = i32x4_add(s3, hi);
        i += 32;
    }
    if i + 16 <= n {
        let (lo, hi) = block(a, b, i);
        s0 = i32x4_add(s0, lo);
        s1 = i32x4_add(s1, hi);
        i += 16;
    }
    let s = i32x4_add(i32x4_add(s0, s1), i32x4_add(s2, s3));
    let mut sum = i32x4_extract_lane::<0>(s)
        .wrapping_add(i32x4_extract_lane::<1>(s))
        .wrapping_add(i32x4_extract_lane::<2>(s))
        .wrapping_add(i32x4_extract_lane::<3>(s));
    for (&x, &y) in a[i..].iter().zip(&b[i..]) {
        sum = sum.wrapping_add(i32::from(x) * i32::from(y));
    }
    sum
}

/// Integer inner products of a query with consecutive int8 rows in the *paired* layout
/// (see `kernels::quant`): every row is `stride = q.len()` bytes, a multiple of 16, whose
/// even bytes hold `code + 128` (unsigned) and odd bytes `code` (signed). Read as eight i16
/// lanes, 16 bytes are `w = odd·256 + (even + 128)`, and `w >> 8` (arithmetic) is `odd`.
/// For each 16 dimensions the query supplies eight i16 `qe` (its even codes) followed by
/// eight `qo − 256·qe`, so that
/// `Σ w·qe + Σ (w >> 8)·(qo − 256·qe) = Σ (even + 128)·qe + Σ odd·qo`: the true dot
/// product plus `128·Σ qe`, which the caller subtracts. `out[r]` gets that sum for row `r`
/// (wrapping i32: intermediate overflow cancels, the result is exact when it fits).
///
/// Per 16 bytes of a row: one load, one shift, two `i32x4.dot_i16x8_s`, two adds; four rows
/// share each query load. Panics if `codes` holds fewer than `out.len()` rows or the query
/// length is not a multiple of 16.
pub fn dot_paired_rows(q: &[i16], codes: &[i8], out: &mut [i32]) {
    let stride = q.len();
    assert!(stride % 16 == 0, "query length {stride} is not a multiple of 16");
    assert!(codes.len() / stride.max(1) >= out.len(), "codes hold too few rows");
    if stride == 0 {
        out.fill(0);
        return;
    }
    let base = codes.as_ptr();
    let mut blocks = out.chunks_exact_mut(4);
    let mut r = 0;
    for o in &mut blocks {
        // SAFETY: rows r..r+4 lie inside `codes` (checked above).
        let s = unsafe {
            let p = base.add(r * stride);
            paired_4rows(q, [p, p.add(stride), p.add(2 * stride), p.add(3 * stride)])
        };
        // SAFETY: `o` is 4 i32 = 16 writable bytes.
        unsafe { v128_store(o.as_mut_ptr() as *mut v128, s) };
        r += 4;
    }
    for o in blocks.into_remainder() {
        // SAFETY: row r lies inside `codes`; repeating it fills the unused lanes.
        let s = unsafe {
            let p = base.add(r * stride);
            paired_4rows(q, [p, p, p, p])
        };
        *o = i32x4_extract_lane::<0>(s);
        r += 1;
    }
}

/// [`dot_paired_rows`] for the rows listed in `rows` (indices into `codes`, any order):
/// `out[j]` gets the sum of row `rows[j]`. Panics if a row lies outside `codes` or
/// `out.len() != rows.len()`.
pub fn dot_paired_gather(q: &[i16], codes: &[i8], rows: &[u32], out: &mut [i32]) {
    let stride = q.len();
    assert!(stride % 16 == 0, "query length {stride} is not a multiple of 16");
    assert_eq!(rows.len(), out.len(), "one output per row");
    if stride == 0 {
        out.fill(0);
        return;
    }
    let n = codes.len() / stride;
    assert!(rows.iter().all(|&r| (r as usize) < n), "row index out of range");
    let base = codes.as_ptr();
    let mut blocks = out.chunks_exact_mut(4);
    let mut ids = rows.chunks_exact(4);
    for (o, r) in (&mut blocks).zip(&mut ids) {
        // SAFETY: every row index was checked to lie inside `codes`.
        let s = unsafe {
            let p = |i: usize| base.add(r[i] as usize * stride);
            paired_4rows(q, [p(0), p(1), p(2), p(3)])
        };
        // SAFETY: `o` is 4 i32 = 16 writable bytes.
        unsafe { v128_store(o.as_mut_ptr() as *mut v128, s) };
    }
    for (o, &r) in blocks.into_remainder().iter_mut().zip(ids.remainder()) {
        // SAFETY: as above; repeating the row fills the unused lanes.
        let s = unsafe {
            let p = base.add(r as usize * stride);
            paired_4rows(q, [p, p, p, p])
        };
        *o = i32x4_extract_lane::<0>(s);
    }
}

pub use super::Epilogue;

/// Scores of consecutive rows in the paired layout, fused with their scaling and the
/// candidate test: `out[r] = (sum_r − bias) as f32 · (scale · scales[r])` (L2: then
/// `2·out[r] − ‖q‖² − ‖x_r‖²`), and bit `r % 64` of `mask[r / 64]` is set unless
/// `out[r] + add < floor` (NaN sets it). Returns nothing else; `mask` is overwritten.
/// Panics if `out.len() > 64 · mask.len()`, or on the conditions of [`dot_paired_rows`],
/// or if `scales` (or the L2 norms) hold fewer than `out.len()` values.
pub fn approx_paired_rows(q: &[i16], codes: &[i8], ep: &Epilogue, out: &mut [f32], mask: &mut [u64]) {
    let stride = q.len();
    let n = out.len();
    assert!(stride % 16 == 0 && stride > 0, "query length {stride} is not a positive multiple of 16");
    assert!(codes.len() / stride >= n, "codes hold too few rows");
    assert!(n <= 64 * mask.len(), "mask too short");
    assert!(ep.scales.len() >= n && ep.l2.is_none_or(|(_, sq)| sq.len() >= n), "too few scales or norms");
    mask.fill(0);
    let base = codes.as_ptr();
    let (bias, qs) = (i32x4_splat(ep.bias), f32x4_splat(ep.scale));
    let (add, floor) = (f32x4_splat(ep.add), f32x4_splat(ep.floor));
    let l2 = ep.l2.map(|(qsq, sq)| (f32x4_splat(qsq), sq));
    // Scores of four sums with their four scales (and norms): the same operations as the
    // scalar epilogue, lane by lane.
    let finish = |d: v128, sc: v128, nn: Option<v128>| -> (v128, u64) {
        let mut a = f32x4_mul(f32x4_convert_i32x4(i32x4_sub(d, bias)), f32x4_mul(qs, sc));
        if let (Some((qsq, _)), Some(nn)) = (l2, nn) {
            a = f32x4_sub(f32x4_sub(f32x4_mul(f32x4_splat(2.0), a), qsq), nn);
        }
        (a, i32x4_bitmask(v128_not(f32x4_lt(f32x4_add(a, add), floor))) as u64)
    };
    let full = n / 4 * 4;
    let mut r = 0;
    while r < full {
        // SAFETY: rows r..r+4 lie inside `codes`, and scales/norms/out hold them (checked
        // above).
        unsafe {
            let p = base.add(r * stride);
            let d = paired_4rows(q, [p, p.add(stride), p.add(2 * stride), p.add(3 * stride)]);
            let sc = v128_load(ep.scales.as_ptr().add(r) as *const v128);
            let nn = l2.map(|(_, sq)| v128_load(sq.as_ptr().add(r) as *const v128));
            let (a, bits) = finish(d, sc, nn);
            v128_store(out.as_mut_ptr().add(r) as *mut v128, a);
            mask[r / 64] |= bits << (r % 64);
        }
        r += 4;
    }
    if r < n {
        let lanes = n - r;
        let (mut sc, mut nn, mut tmp) = ([0.0f32; 4], [0.0f32; 4], [0.0f32; 4]);
        sc[..lanes].copy_from_slice(&ep.scales[r..n]);
        if let Some((_, sq)) = l2 {
            nn[..lanes].copy_from_slice(&sq[r..n]);
        }
        // SAFETY: rows r..n lie inside `codes`; the last one is repeated to fill the block
        // (extra lanes dropped); the arrays are 16 bytes.
        unsafe {
            let p = |i: usize| base.add((r + i.min(lanes - 1)) * stride);
            let d = paired_4rows(q, [p(0), p(1), p(2), p(3)]);
            let sc = v128_load(sc.as_ptr() as *const v128);
            let nn = l2.map(|_| v128_load(nn.as_ptr() as *const v128));
            let (a, bits) = finish(d, sc, nn);
            v128_store(tmp.as_mut_ptr() as *mut v128, a);
            mask[r / 64] |= (bits & ((1u64 << lanes) - 1)) << (r % 64);
        }
        out[r..n].copy_from_slice(&tmp[..lanes]);
    }
}

/// The four sums of [`dot_paired_rows`] as one `i32x4`.
///
/// # Safety
/// Each pointer must be valid for reads of `q.len()` bytes, a multiple of 16.
#[inline(always)]
unsafe fn paired_4rows(q: &[i16], rows: [*const i8; 4]) -> v128 {
    let n = q.len();
    let qp = q.as_ptr();
    let [p0, p1, p2, p3] = rows;
    let z = i32x4_splat(0);
    let (mut a, mut b, mut c, mut d) = (z, z, z, z);
    #[inline(always)]
    unsafe fn acc(s: v128, p: *const i8, qe: v128, qb: v128) -> v128 {
        let w = v128_load(p as *const v128);
        i32x4_add(s, i32x4_add(i32x4_dot_i16x8(w, qe), i32x4_dot_i16x8(i16x8_shr(w, 8), qb)))
    }
    let mut i = 0;
    while i < n {
        let qe = v128_load(qp.add(i) as *const v128);
        let qb = v128_load(qp.add(i + 8) as *const v128);
        a = acc(a, p0.add(i), qe, qb);
        b = acc(b, p1.add(i), qe, qb);
        c = acc(c, p2.add(i), qe, qb);
        d = acc(d, p3.add(i), qe, qb);
        i += 16;
    }
    hsum4_i32(a, b, c, d)
}
