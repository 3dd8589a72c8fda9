//! f32 similarity kernels and the score convention of the engine.
//!
//! On `wasm32` with the `simd128` target feature the kernels use WebAssembly SIMD128
//! (module `simd128`); everywhere else the portable [`scalar`] kernels, which LLVM
//! auto-vectorises natively. Scores are always "higher is better" (see [`score`]).
//!
//! Callers guarantee that operands have equal lengths. A mismatch trips a `debug_assert`;
//! release builds never panic and use the common prefix.

use crate::distance::Distance;

pub mod quant;
pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;
pub mod topk;

/// How the int8 `approx_paired_rows` kernels (scalar and SIMD128, one definition for both) turn
/// integer sums into scores and which rows they flag.
pub struct Epilogue<'a> {
    /// Subtracted from every integer sum (the paired layout's bias).
    pub bias: i32,
    /// The query's scale.
    pub scale: f32,
    /// Per-row scales of the rows being scored.
    pub scales: &'a [f32],
    /// For L2: the query's squared norm and the rows' squared norms; the score is then
    /// `2·dot − ‖q‖² − ‖x‖²`.
    pub l2: Option<(f32, &'a [f32])>,
    /// A row is flagged unless `score + add < floor`.
    pub add: f32,
    /// See `add`.
    pub floor: f32,
}

// One switch point: everything below dispatches through `imp`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use scalar as imp;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd128 as imp;

/// Whether this build uses the WebAssembly SIMD128 kernels (otherwise the scalar ones).
pub const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Inner product `Σ aᵢ·bᵢ`.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    imp::dot(a, b)
}

/// Squared Euclidean distance `Σ (aᵢ-bᵢ)²`.
#[inline]
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    imp::l2_sq(a, b)
}

/// The largest element of `v`: NaN if any element is NaN, `-inf` when `v` is empty.
#[inline]
pub fn max(v: &[f32]) -> f32 {
    imp::max_f32(v)
}

/// Bit `i` set iff `!(v[i] + add < floor)`, i.e. unless `v[i] + add` is definitely below
/// `floor` (NaN sums are set). `v.len()` must be at most 64 (panics otherwise).
#[inline]
pub fn not_below_mask(v: &[f32], add: f32, floor: f32) -> u64 {
    imp::not_below_mask(v, add, floor)
}

/// Calls `f(state, i)` for every `i` with `!(v[i] + add < floor(state))`, in order.
/// `floor` is re-read as `f` changes `state` (a rising threshold); `f` must re-check its
/// row, since a mask computed with an older, lower floor may include a few extra.
#[inline]
pub fn for_each_not_below<S>(
    v: &[f32],
    add: f32,
    state: &mut S,
    floor: impl Fn(&S) -> f32,
    mut f: impl FnMut(&mut S, usize),
) {
    for (c, chunk) in v.chunks(64).enumerate() {
        let mut m = not_below_mask(chunk, add, floor(state));
        while m != 0 {
            let j = m.trailing_zeros() as usize;
            m &= m - 1;
            f(state, c * 64 + j);
        }
    }
}

/// Cosine similarity in `[-1, 1]`; 0 if either vector has zero norm.
#[inline]
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len(), "kernel operands differ in length");
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (na, nb) = (imp::dot(a, a), imp::dot(b, b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    // sqrt each norm separately: na * nb can overflow f32 where the product of roots does not.
    imp::dot(a, b) / (na.sqrt() * nb.sqrt())
}

/// Scales `v` to unit L2 norm in place. Returns `false` (leaving `v` untouched) if the norm
/// is zero or `v` contains a non-finite value.
pub fn normalize(v: &mut [f32]) -> bool {
    let sq = imp::dot(v, v);
    if sq.is_finite() && sq >= f32::MIN_POSITIVE {
        let norm = sq.sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        return true;
    }
    // Slow path: the sum of squares under- or overflowed (or is NaN). Pre-scaling by the
    // largest magnitude brings it into [1, len] so tiny or huge vectors still normalise.
    if !v.iter().all(|x| x.is_finite()) {
        return false;
    }
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= max);
    let norm = imp::dot(v, v).sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    true
}

/// Similarity of `vector` to `query`, higher is better: cosine and dot → inner product
/// (cosine assumes both sides are already normalised), L2 → negative squared distance.
#[inline]
pub fn score(distance: Distance, query: &[f32], vector: &[f32]) -> f32 {
    match distance {
        Distance::Cosine | Distance::Dot => imp::dot(query, vector),
        Distance::L2 => -imp::l2_sq(query, vector),
    }
}

/// Scores every row of the row-major matrix `flat` (rows of `dim` floats) against `query`,
/// writing row `i`'s [`score`] to `out[i]`. Does not allocate.
///
/// Expects `flat.len() == out.len() * dim` and `query.len() == dim`; otherwise (release
/// builds) only `min(out.len(), flat.len() / dim)` rows are scored, and `dim == 0` yields
/// zeros.
pub fn score_many(distance: Distance, query: &[f32], flat: &[f32], dim: usize, out: &mut [f32]) {
    debug_assert_eq!(query.len(), dim, "query length differs from dim");
    debug_assert_eq!(flat.len(), out.len() * dim, "matrix shape differs from output");
    if dim == 0 {
        out.fill(0.0);
        return;
    }
    let n = out.len().min(flat.len() / dim);
    let (flat, out) = (&flat[..n * dim], &mut out[..n]);
    // Dispatch once per batch, not once per row.
    match distance {
        Distance::Cosine | Distance::Dot => score_rows(query, flat, dim, out, imp::dot4, |s| s, imp::dot),
        Distance::L2 => score_rows(query, flat, dim, out, imp::l2_sq4, |s| -s, imp::l2_sq),
    }
}

/// Four rows at a time through `four`, the last `n % 4` through `one` (bit-identical).
#[inline(always)]
fn score_rows(
    query: &[f32],
    flat: &[f32],
    dim: usize,
    out: &mut [f32],
    four: impl Fn(&[f32], [&[f32]; 4]) -> [f32; 4],
    sign: impl Fn(f32) -> f32,
    one: impl Fn(&[f32], &[f32]) -> f32,
) {
    let query = &query[..dim.min(query.len())];
    let mut blocks = flat.chunks_exact(4 * dim);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let s = four(query, [&block[..dim], &block[dim..2 * dim], &block[2 * dim..3 * dim], &block[3 * dim..]]);
        for (o, s) in o.iter_mut().zip(s) {
            *o = sign(s);
        }
    }
    for (row, o) in blocks.remainder().chunks_exact(dim).zip(outs.into_remainder()) {
        *o = sign(one(query, row));
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    use crate::testkit::XorShift;

    const LENGTHS: [usize; 22] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 64, 383, 384, 385, 1000, 4096];

    fn close(got: f32, want: f32, scale: f32) -> bool {
        (got - want).abs() <= 1e-5 * scale.max(1.0)
    }

    #[test]
    fn reports_simd_on_wasm() {
        // On the wasm test run this proves the SIMD128 path is compiled in and exercised.
        assert_eq!(SIMD128, cfg!(target_arch = "wasm32"));
    }

    #[test]
    fn dispatched_kernels_match_scalar_reference() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for &n in &LENGTHS {
            for _ in 0..4 {
                let (a, b) = (rng.vec(n), rng.vec(n));
                // Σ|aᵢbᵢ| bounds the rounding error of any summation order.
                let mag: f32 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
                let d = dot(&a, &b);
                assert!(close(d, scalar::dot(&a, &b), mag), "dot n={n}");
                let l = l2_sq(&a, &b);
                assert!(close(l, scalar::l2_sq(&a, &b), l), "l2 n={n}");
            }
        }
    }

    #[test]
    fn kernels_match_naive_sums() {
        let mut rng = XorShift(42);
        for &n in &LENGTHS {
            let (a, b) = (rng.vec(n), rng.vec(n));
            let d: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
            let l: f64 = a.iter().zip(&b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum();
            let mag: f32 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
            assert!(close(dot(&a, &b), d as f32, mag), "dot n={n}");
            assert!(close(l2_sq(&a, &b), l as f32, l as f32), "l2 n={n}");
        }
    }

    #[test]
    fn exact_small_cases() {
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
        assert_eq!(l2_sq(&[1.0, 2.0], &[4.0, 6.0]), 25.0);
        assert_eq!(dot(&[], &[]), 0.0);
        assert_eq!(l2_sq(&[3.0], &[3.0]), 0.0);
        // Integers: exact in any summation order, so SIMD must equal scalar bit for bit.
        let a: Vec<f32> = (0..37).map(|i| (i % 5) as f32).collect();
        let b: Vec<f32> = (0..37).map(|i| (i % 3) as f32 - 1.0).collect();
        assert_eq!(dot(&a, &b), scalar::dot(&a, &b));
        assert_eq!(l2_sq(&a, &b), scalar::l2_sq(&a, &b));
    }

    #[test]
    fn cosine_basics() {
        assert!((cosine(&[1.0, 0.0], &[0.0, 1.0])).abs() < 1e-7);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-6);
        assert!((cosine(&[1.0, 1.0], &[-3.0, -3.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[1.0, 2.0], &[0.0, 0.0]), 0.0);
        assert_eq!(cosine(&[], &[]), 0.0);
        // Large magnitudes: squared norms near f32::MAX must not overflow the denominator.
        let big = [1e18f32, 1e18];
        assert!((cosine(&big, &big) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn normalize_cases() {
        let mut v = vec![3.0, 4.0];
        assert!(normalize(&mut v));
        assert!((v[0] - 0.6).abs() < 1e-7 && (v[1] - 0.8).abs() < 1e-7);

        let mut z = vec![0.0; 5];
        assert!(!normalize(&mut z));
        assert_eq!(z, vec![0.0; 5]);
        let mut empty: Vec<f32> = vec![];
        assert!(!normalize(&mut empty));

        let mut nan = vec![1.0, f32::NAN];
        assert!(!normalize(&mut nan));
        assert_eq!(nan[0], 1.0);
        let mut inf = vec![1.0, f32::INFINITY];
        assert!(!normalize(&mut inf));

        // Squares underflow / overflow f32, but the vector is still normalisable.
        for s in [1e-30f32, 1e30] {
            let mut v = vec![3.0 * s, 4.0 * s];
            assert!(normalize(&mut v), "scale {s}");
            assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6, "scale {s}");
        }

        let mut rng = XorShift(7);
        for &n in &LENGTHS[1..] {
            let mut v = rng.vec(n);
            if normalize(&mut v) {
                assert!((dot(&v, &v) - 1.0).abs() < 1e-5, "n={n}");
            }
        }
    }

    #[test]
    fn score_convention_higher_is_better() {
        let q = [1.0, 0.0];
        let near = [0.9, 0.1];
        let far = [-1.0, 0.0];
        for d in [Distance::Cosine, Distance::Dot, Distance::L2] {
            assert!(score(d, &q, &near) > score(d, &q, &far), "{d:?}");
        }
        assert_eq!(score(Distance::L2, &[1.0, 2.0], &[4.0, 6.0]), -25.0);
        assert_eq!(score(Distance::Dot, &[1.0, 2.0], &[4.0, 6.0]), 16.0);
        assert_eq!(score(Distance::Cosine, &[1.0, 2.0], &[4.0, 6.0]), 16.0);
    }

    #[test]
    fn not_below_mask_cases() {
        let v = [0.0, 1.0, 2.0, f32::NAN, -1.0, 3.0];
        assert_eq!(not_below_mask(&v, 0.5, 1.5), 0b101110);
        assert_eq!(not_below_mask(&[], 0.0, 0.0), 0);
        let mut rng = XorShift(8);
        for n in [1usize, 4, 7, 63, 64] {
            let v = rng.vec(n);
            let want = v
                .iter()
                .enumerate()
                .filter(|(_, &x)| (x + 0.1f32).partial_cmp(&0.2) != Some(std::cmp::Ordering::Less))
                .fold(0u64, |m, (i, _)| m | 1 << i);
            assert_eq!(not_below_mask(&v, 0.1, 0.2), want, "n={n}");
            assert_eq!(scalar::not_below_mask(&v, 0.1, 0.2), want, "n={n}");
        }
        let mut seen = vec![];
        let v: Vec<f32> = (0..200).map(|i| (i % 7) as f32).collect();
        for_each_not_below(&v, 0.0, &mut seen, |_| 6.0, |s, i| s.push(i));
        assert_eq!(seen, (0..200).filter(|i| i % 7 == 6).collect::<Vec<_>>());
    }

    #[test]
    fn max_cases() {
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(max(&[1.0]), 1.0);
        let mut rng = XorShift(5);
        for n in [1usize, 3, 4, 5, 8, 13, 256] {
            let v = rng.vec(n);
            let want = v.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
            assert_eq!(max(&v), want, "n={n}");
            for at in [0, n / 2, n - 1] {
                let mut w = v.clone();
                w[at] = f32::NAN;
                assert!(max(&w).is_nan(), "n={n} NaN at {at}");
            }
        }
        assert_eq!(max(&[f32::NEG_INFINITY, -1.0, f32::INFINITY]), f32::INFINITY);
    }

    #[test]
    fn score_many_matches_score() {
        let mut rng = XorShift(99);
        for &dim in &[1usize, 3, 16, 17, 384] {
            let rows = 13;
            let flat = rng.vec(rows * dim);
            let q = rng.vec(dim);
            for d in [Distance::Cosine, Distance::Dot, Distance::L2] {
                let mut out = vec![f32::NAN; rows];
                score_many(d, &q, &flat, dim, &mut out);
                for (i, &o) in out.iter().enumerate() {
                    assert_eq!(o, score(d, &q, &flat[i * dim..(i + 1) * dim]), "{d:?} dim={dim}");
                }
            }
        }
        let mut out = [5.0f32; 2];
        score_many(Distance::Dot, &[], &[], 0, &mut out);
        assert_eq!(out, [0.0, 0.0]);
        let mut none: [f32; 0] = [];
        score_many(Distance::L2, &[1.0], &[], 1, &mut none);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    /// Relative tolerance: the worst-case f32 summation error with 8 accumulators over 4096
    /// terms is about (4096/8 + 3)·2⁻²⁴ ≈ 3.1e-5 of Σ|terms|.
    const TOL: f64 = 4e-5;

    /// Two equal-length vectors with 1..=4096 elements.
    fn pair() -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
        (1usize..=4096)
            .prop_flat_map(|n| (prop::collection::vec(-100.0f32..100.0, n), prop::collection::vec(-100.0f32..100.0, n)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn dot_matches_f64_reference((a, b) in pair()) {
            let want: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
            // Relative to Σ|aᵢbᵢ|: the natural error bound of float summation.
            let mag: f64 = a.iter().zip(&b).map(|(&x, &y)| (x as f64 * y as f64).abs()).sum();
            let got = dot(&a, &b) as f64;
            prop_assert!((got - want).abs() <= TOL * mag.max(1e-30), "got {got} want {want}");
        }

        #[test]
        fn l2_matches_f64_reference((a, b) in pair()) {
            let want: f64 = a.iter().zip(&b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum();
            let got = l2_sq(&a, &b) as f64;
            prop_assert!((got - want).abs() <= TOL * want.max(1e-30), "got {got} want {want}");
            prop_assert_eq!(score(Distance::L2, &a, &b), -l2_sq(&a, &b));
        }

        #[test]
        fn cosine_matches_f64_reference((a, b) in pair()) {
            let d: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
            let na: f64 = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            let nb: f64 = b.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            let got = cosine(&a, &b) as f64;
            if na == 0.0 || nb == 0.0 {
                prop_assert_eq!(got, 0.0);
            } else {
                prop_assert!((got - d / (na * nb)).abs() <= 1e-4, "got {got}");
            }
        }

        #[test]
        fn normalize_gives_unit_norm(mut v in prop::collection::vec(-1e3f32..1e3, 1..=4096)) {
            let orig = v.clone();
            if normalize(&mut v) {
                let n: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
                prop_assert!((n - 1.0).abs() < 1e-5);
                // Direction is preserved.
                prop_assert!((cosine(&orig, &v) - 1.0).abs() < 1e-4);
            } else {
                prop_assert!(orig.iter().all(|&x| x == 0.0));
            }
        }
    }
}
