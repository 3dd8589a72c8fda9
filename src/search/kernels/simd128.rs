//! WebAssembly SIMD128 kernels, compiled only when the `simd128` target feature is on
//! (`-C target-feature=+simd128`, set in `.cargo/config.toml`). Results match
//! [`super::scalar`] up to float rounding order (exactly, for the integer kernel).
//!
//! Each loop consumes 16 elements per iteration into four independent `f32x4`
//! accumulators: one accumulator would serialise on the add latency, four keep the
//! engine's SIMD pipeline busy. Leftovers go through a 4-wide loop, then a scalar tail, so
//! any length (including 1..=3) is handled.

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

/// Sums the four lanes of an `f32x4`.
#[inline(always)]
fn hsum_f32(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<2>(v))
        + (f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<3>(v))
}

/// Truncates both slices to their common length (see `scalar::common`).
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
    let n = a.len();
    let (mut s0, mut s1, mut s2, mut s3) = (f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0));
    let mut i = 0;
    while i + 16 <= n {
        s0 = f32x4_add(s0, f32x4_mul(load_f32(a, i), load_f32(b, i)));
        s1 = f32x4_add(s1, f32x4_mul(load_f32(a, i + 4), load_f32(b, i + 4)));
        s2 = f32x4_add(s2, f32x4_mul(load_f32(a, i + 8), load_f32(b, i + 8)));
        s3 = f32x4_add(s3, f32x4_mul(load_f32(a, i + 12), load_f32(b, i + 12)));
        i += 16;
    }
    while i + 4 <= n {
        s0 = f32x4_add(s0, f32x4_mul(load_f32(a, i), load_f32(b, i)));
        i += 4;
    }
    let mut tail = 0.0f32;
    for (x, y) in a[i..].iter().zip(&b[i..]) {
        tail += x * y;
    }
    hsum_f32(f32x4_add(f32x4_add(s0, s1), f32x4_add(s2, s3))) + tail
}

/// Squared Euclidean distance `Σ (aᵢ-bᵢ)²` over the common length of `a` and `b`.
#[inline]
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    let (a, b) = common(a, b);
    let n = a.len();
    #[inline(always)]
    fn sq_diff(a: &[f32], b: &[f32], i: usize) -> v128 {
        let d = f32x4_sub(load_f32(a, i), load_f32(b, i));
        f32x4_mul(d, d)
    }
    let (mut s0, mut s1, mut s2, mut s3) = (f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0));
    let mut i = 0;
    while i + 16 <= n {
        s0 = f32x4_add(s0, sq_diff(a, b, i));
        s1 = f32x4_add(s1, sq_diff(a, b, i + 4));
        s2 = f32x4_add(s2, sq_diff(a, b, i + 8));
        s3 = f32x4_add(s3, sq_diff(a, b, i + 12));
        i += 16;
    }
    while i + 4 <= n {
        s0 = f32x4_add(s0, sq_diff(a, b, i));
        i += 4;
    }
    let mut tail = 0.0f32;
    for (x, y) in a[i..].iter().zip(&b[i..]) {
        tail += (x - y) * (x - y);
    }
    hsum_f32(f32x4_add(f32x4_add(s0, s1), f32x4_add(s2, s3))) + tail
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
