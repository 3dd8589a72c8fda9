//! Tests of int8 quantisation: kernels against the scalar reference, and the error bounds.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::kernels::topk::TopK;
use crate::kernels::{self, scalar};
use crate::testkit::XorShift;

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
    assert_eq!(m.stride(), 112);
    assert_eq!(m.size_bytes(), 20 * (112 + 16));
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
    assert_eq!(m.row(0), [0, 0]);
    assert_eq!(m.scales()[0], 0.0);
    assert_eq!(m.row(1), [64, -127]);
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
    assert_eq!(bad.row(0), [0, 127, 127, -64]);
}

#[test]
fn paired_int_dots_are_exact() {
    let mut rng = XorShift(77);
    for dim in [1usize, 2, 15, 16, 17, 33, 128, 384, 1000, 4096] {
        let rows = 9;
        // Extremes included: rows and queries whose codes hit ±127 everywhere.
        let mut flat: Vec<f32> = (0..dim * rows).map(|_| rng.f32()).collect();
        flat[..dim].iter_mut().enumerate().for_each(|(j, x)| *x = if j % 3 == 0 { 1.0 } else { -1.0 });
        flat[dim..2 * dim].iter_mut().for_each(|x| *x = -1.0);
        let m = QuantizedMatrix::from_f32(&flat, dim);
        for q in [flat[..dim].to_vec(), flat[dim..2 * dim].to_vec(), (0..dim).map(|_| rng.f32()).collect()] {
            let qq = quantize_query(&q);
            for start in [0usize, 1, 5] {
                let mut got = vec![i32::MIN; rows + 2];
                m.int_dots(&qq, start, &mut got);
                for i in start..rows {
                    let want: i32 = m.row(i).iter().zip(&qq.codes).map(|(&x, &y)| x as i32 * y as i32).sum();
                    assert_eq!(got[i - start], want, "dim {dim} row {i}");
                    assert_eq!(dot_i8(&m.row(i), &qq.codes), want);
                }
                assert!(got[rows - start..].iter().all(|&x| x == i32::MIN));
            }
            // The portable kernel gives the same sums.
            let mut simd = vec![0; rows];
            let mut portable = vec![0; rows];
            imp::dot_paired_rows(&qq.wide, m.codes(), &mut simd);
            scalar::dot_paired_rows(&qq.wide, m.codes(), &mut portable);
            assert_eq!(simd, portable);
        }
    }
}

#[test]
fn approx_scores_rows_matches_contiguous() {
    let mut rng = XorShift(31);
    let (dim, rows) = (40, 37);
    let flat: Vec<f32> = (0..dim * rows).map(|_| rng.f32()).collect();
    let m = QuantizedMatrix::from_f32(&flat, dim);
    let q = quantize_query(&flat[dim..2 * dim]);
    for d in [Distance::Dot, Distance::L2] {
        let mut all = vec![0.0; rows];
        approx_scores(d, &q, &m, &mut all);
        for ids in [vec![], vec![5u32], vec![36, 0, 7, 7, 1], (0..37).rev().collect::<Vec<u32>>()] {
            let mut out = vec![f32::NAN; ids.len()];
            approx_scores_rows(d, &q, &m, &ids, &mut out);
            let want: Vec<f32> = ids.iter().map(|&i| all[i as usize]).collect();
            assert_eq!(out, want);
            let mut simd = vec![0; ids.len()];
            let mut portable = vec![0; ids.len()];
            imp::dot_paired_gather(&q.wide, m.codes(), &ids, &mut simd);
            scalar::dot_paired_gather(&q.wide, m.codes(), &ids, &mut portable);
            assert_eq!(simd, portable);
        }
    }
}

#[test]
fn approx_block_matches_scores_and_mask() {
    let mut rng = XorShift(41);
    for (dim, rows) in [(16usize, 3usize), (40, 37), (128, 256), (5, 130)] {
        let flat: Vec<f32> = (0..dim * rows).map(|_| rng.f32()).collect();
        let m = QuantizedMatrix::from_f32(&flat, dim);
        let q = quantize_query(&flat[..dim]);
        for d in [Distance::Dot, Distance::L2, Distance::Cosine] {
            let mut all = vec![0.0; rows];
            approx_scores(d, &q, &m, &mut all);
            for (start, len) in [(0, rows), (1, rows - 1), (rows / 2, rows - rows / 2), (rows - 1, 1)] {
                let floor = all[start..start + len].iter().copied().fold(0.0f32, f32::max) * 0.5;
                let mut out = vec![f32::NAN; len];
                let mask = approx_block(d, &q, &m, start, &mut out, 0.01, floor);
                assert_eq!(out, all[start..start + len], "{d:?} dim {dim}");
                for (j, &a) in out.iter().enumerate() {
                    assert_eq!(mask[j / 64] >> (j % 64) & 1 == 1, a + 0.01 >= floor, "{d:?} row {j}");
                }
                assert!((len..256).all(|j| mask[j / 64] >> (j % 64) & 1 == 0));
            }
        }
    }
}

#[test]
fn approx_scores_at_matches_whole_matrix() {
    let mut rng = XorShift(3);
    let (dim, rows) = (37, 23);
    let flat: Vec<f32> = (0..dim * rows).map(|_| rng.f32()).collect();
    let m = QuantizedMatrix::from_f32(&flat, dim);
    let q = quantize_query(&flat[..dim]);
    for d in [Distance::Dot, Distance::L2] {
        let mut all = vec![0.0; rows];
        approx_scores(d, &q, &m, &mut all);
        for start in [0usize, 1, 5, 19, 22] {
            for len in [1usize, 3, 4, 7, 30] {
                let mut out = vec![f32::NAN; len];
                approx_scores_at(d, &q, &m, start, &mut out);
                let end = rows.min(start + len);
                assert_eq!(&out[..end - start], &all[start..end]);
                assert!(out[end - start..].iter().all(|x| x.is_nan()));
            }
        }
    }
}

/// Vectors with very different shapes: uniform, spiky (one huge component), tiny,
/// huge, constant, and sparse, for dimensions with and without padding.
fn adversarial_rows(rng: &mut XorShift, dim: usize) -> Vec<Vec<f32>> {
    let mut rows = Vec::new();
    for kind in 0..8 {
        for _ in 0..6 {
            let mut v: Vec<f32> = (0..dim).map(|_| rng.f32()).collect();
            match kind {
                1 => v[rng.next_u64() as usize % dim] *= 1000.0,
                2 => v.iter_mut().for_each(|x| *x *= 1e-20),
                3 => v.iter_mut().for_each(|x| *x *= 1e15),
                4 => v.iter_mut().for_each(|x| *x = 0.3),
                5 => v.iter_mut().enumerate().for_each(|(i, x)| {
                    if i % 7 != 0 {
                        *x = 0.0
                    }
                }),
                6 => {
                    kernels::normalize(&mut v);
                }
                7 => v.iter_mut().for_each(|x| *x = x.powi(5)),
                _ => {}
            }
            rows.push(v);
        }
    }
    rows
}

#[test]
fn bounds_hold_for_exact_f32_scores() {
    let mut rng = XorShift(0xB0B0_5EED);
    for dim in [1usize, 2, 3, 7, 16, 17, 64, 128, 384, 1000, 4096] {
        let rows = adversarial_rows(&mut rng, dim);
        let flat: Vec<f32> = rows.concat();
        let m = QuantizedMatrix::from_f32(&flat, dim);
        for q in adversarial_rows(&mut rng, dim).iter().step_by(5) {
            let qq = quantize_query(q);
            for d in [Distance::Dot, Distance::L2] {
                let mut approx = vec![0.0; m.len()];
                approx_scores(d, &qq, &m, &mut approx);
                let mut exact = vec![0.0; m.len()];
                kernels::score_many(d, q, &flat, dim, &mut exact);
                let whole = qq.bound(d, m.max_norm(), m.max_residual());
                for i in 0..m.len() {
                    let b = qq.bound(d, m.norms()[i], m.residuals()[i]);
                    let err = (exact[i] - approx[i]).abs();
                    assert!(b <= whole, "bound not monotone");
                    if exact[i].is_finite() && approx[i].is_finite() {
                        assert!(
                            err <= b,
                            "dim {dim} {d:?} row {i}: |{} - {}| = {err} > bound {b}",
                            exact[i],
                            approx[i]
                        );
                    }
                }
            }
        }
    }
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
