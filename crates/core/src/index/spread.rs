//! How far a row's score strays from its partition centroid's score, along the directions
//! queries come from: the scale of the ANN pruning margin (`search::exec::ann`).
//!
//! A row `x` of partition `p` is `c_p + e`, so for a unit query direction `u` its dot score is
//! the centroid's plus `u·e`. `residual_sigma` estimates `σ = sqrt(E[(u·e)²])` from the segment
//! itself: `u` from sampled rows (their own direction for dot and cosine; the direction from
//! their centroid to them for L2, where a query's score moves with `q − c`), `e` the residuals
//! of other sampled rows. It captures what a fixed constant cannot: dimension, how anisotropic
//! the partitions are, how tight. Deterministic (evenly spaced samples).

use super::PartitionIndex;
use crate::distance::Distance;
use crate::kernels;
use crate::segment::Segment;

/// Sampled query directions.
const DIRECTIONS: usize = 64;
/// Sampled residuals.
const RESIDUALS: usize = 512;

/// `σ` of `seg`'s partition residuals along query-like directions (see the module docs); 0 for
/// a segment without index or rows.
pub fn residual_sigma(distance: Distance, seg: &Segment) -> f32 {
    let Some(index) = seg.index.as_ref() else { return 0.0 };
    let n = seg.len();
    if n == 0 || index.partitions() == 0 {
        return 0.0;
    }
    let residual = |r: usize| -> Vec<f32> {
        let c = index.centroid(partition_of(index, r));
        seg.vector(r).iter().zip(c).map(|(x, c)| x - c).collect()
    };
    let sample = |count: usize, offset: usize| (0..count.min(n)).map(move |i| (i * n / count.min(n) + offset) % n);
    let directions: Vec<Vec<f32>> = sample(DIRECTIONS, 0)
        .filter_map(|r| {
            let mut u = match distance {
                Distance::L2 => residual(r),
                Distance::Cosine | Distance::Dot => seg.vector(r).to_vec(),
            };
            kernels::normalize(&mut u).then_some(u)
        })
        .collect();
    // Offset by half a step: residuals of rows other than the directions' own.
    let step = (n / RESIDUALS.min(n)).max(1);
    let residuals: Vec<Vec<f32>> = sample(RESIDUALS, step / 2).map(residual).collect();
    let (mut sum, mut count) = (0.0f64, 0usize);
    for u in &directions {
        for e in &residuals {
            let d = f64::from(kernels::dot(u, e));
            sum += d * d;
            count += 1;
        }
    }
    if count == 0 {
        0.0
    } else {
        (sum / count as f64).sqrt() as f32
    }
}

/// The partition whose primary rows include row `r`.
fn partition_of(index: &PartitionIndex, r: usize) -> usize {
    // starts[p] <= r < starts[p + 1]; empty partitions share a start, take the last of them.
    index.starts.partition_point(|&s| s as usize <= r).saturating_sub(1).min(index.partitions() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::ivf::{build, BuildOptions};
    use crate::record::Record;
    use crate::testkit::XorShift;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Clusters with isotropic noise of standard deviation `noise` per dimension: a unit
    /// direction sees residuals of standard deviation ≈ `noise` (minus what k-means explains).
    fn clustered(dim: usize, noise: f32) -> Segment {
        let mut rng = XorShift(7);
        let mut next = move || rng.f32() * 0.5;
        let centres: Vec<Vec<f32>> = (0..100).map(|_| (0..dim).map(|_| next() * 100.0).collect()).collect();
        // Uniform on [-a, a] has standard deviation a/√3.
        let a = noise * 3f32.sqrt() * 2.0;
        let recs: Vec<Record> = (0..4_000)
            .map(|i| Record::new(format!("r{i}"), centres[i % 100].iter().map(|c| c + next() * a).collect(), None))
            .collect();
        build(Distance::L2, &Segment::from_records(&recs, dim as u16, 0), &BuildOptions::default())
    }

    #[test]
    fn sigma_follows_the_residual_scale_not_the_dimension() {
        for dim in [8, 32] {
            let small = residual_sigma(Distance::L2, &clustered(dim, 0.5));
            let large = residual_sigma(Distance::L2, &clustered(dim, 2.0));
            // k-means splits each cluster a little (more partitions than clusters): σ somewhat
            // below the noise, and four times the noise gives about four times σ.
            assert!(small > 0.2 && small < 0.6, "dim {dim}: σ {small} for noise 0.5");
            assert!((large / small - 4.0).abs() < 0.6, "dim {dim}: {large} / {small}");
        }
    }

    #[test]
    fn no_index_or_no_rows_is_zero() {
        let recs = [Record::new("a", vec![1.0, 2.0], None)];
        assert_eq!(residual_sigma(Distance::L2, &Segment::from_records(&recs, 2, 0)), 0.0);
    }

    #[test]
    fn every_row_maps_to_the_partition_holding_it() {
        let index = PartitionIndex {
            dim: 1,
            shared: std::rc::Rc::new(crate::segment::partition::Partitioning {
                dim: 1,
                centroids: vec![0.0; 4],
                ..Default::default()
            }),
            starts: vec![0, 3, 3, 5, 9],
            ..Default::default()
        };
        let got: Vec<usize> = (0..9).map(|r| partition_of(&index, r)).collect();
        assert_eq!(got, [0, 0, 0, 2, 2, 3, 3, 3, 3]);
    }
}
