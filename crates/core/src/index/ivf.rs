//! Building a partition index for a segment: train centroids, assign every row to its nearest
//! partition (with a capacity cap, so no partition dominates a probe) and spill it into its
//! second nearest, then rewrite the segment with rows in partition order.

use std::rc::Rc;

use super::kmeans::{self, Centroids};
use super::PartitionIndex;
use crate::distance::Distance;
use crate::kernels;
use crate::segment::partition::Partitioning;
use crate::segment::{Segment, SegmentBuilder};

/// Rows per partition the build aims for (in segments of up to 262,144 rows; larger ones get
/// [`MAX_PARTITIONS_PER_SQRT_ROWS`]·√rows partitions, so larger partitions).
pub const ROWS_PER_PARTITION: usize = 32;
/// At most this many partitions per √rows. Training scales with partitions × rows per coarse
/// cluster: 32-row partitions in a 500k-row segment (15,600 of them) took ~65 s to train;
/// 8·√n (5,657) takes a fraction, and probing a tenth of them scans the same share of rows.
pub const MAX_PARTITIONS_PER_SQRT_ROWS: f64 = 8.0;
/// Fewest training rows per partition when a segment trains centroids for a larger
/// collection: k-means needs a few points per centroid.
pub const MIN_TRAIN_ROWS_PER_PARTITION: usize = 8;
/// A partition's primary rows are capped at this multiple of the average; a row whose nearest
/// partition is full goes to its second nearest (and spills into the nearest).
const CAPACITY_FACTOR: usize = 3;
/// A row is also listed in its second-nearest partition when its squared distance to that
/// centroid is within this factor + 1 of the distance to its own: the rows near a border,
/// where a query's neighbours fall on the other side. Measured on the real 384-d set (bench
/// ann): 0.1 spills 23 % of the rows and reaches recall@10 0.99 with fewer rows scanned than
/// spilling every row (0.2: 41 %, 0.3: 55 %).
const SPILL_MARGIN: f32 = 0.1;
/// Coarse clusters searched per row when assigning it.
const ASSIGN_COARSE_PROBES: usize = 3;
/// Coarse clusters searched per row when assigning under an existing partitioning, whose coarse
/// level is rebuilt from its centroids ([`kmeans::hierarchy`]) and so fits rows less tightly.
const REUSE_COARSE_PROBES: usize = 8;

/// Options of one index build.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// Target rows per partition.
    pub rows_per_partition: usize,
    /// List border rows in their second-nearest partition too (see `SPILL_MARGIN`).
    pub spill: bool,
    /// Seed of the deterministic k-means.
    pub seed: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { rows_per_partition: ROWS_PER_PARTITION, spill: true, seed: 0x5eed }
    }
}

/// `seg` rewritten in partition order with a partition index over centroids trained on it
/// (a new partitioning, not yet calibrated). Scores follow `distance` (vectors of cosine
/// collections are stored normalised).
pub fn build(distance: Distance, seg: &Segment, opts: &BuildOptions) -> Segment {
    build_for(distance, seg, seg.len(), &[], opts).0
}

/// [`build`] with partitions sized for a collection of `collection_rows` rows (the segment is
/// a sample of it: a merge in a collection whose budget keeps segments small), at most one per
/// [`MIN_TRAIN_ROWS_PER_PARTITION`] rows of the segment. Rows `held_out` are not trained on
/// (a calibration's queries); returns the segment and where those rows now are.
pub fn build_for(
    distance: Distance,
    seg: &Segment,
    collection_rows: usize,
    held_out: &[u32],
    opts: &BuildOptions,
) -> (Segment, Vec<u32>) {
    let mut mask = vec![false; if held_out.is_empty() { 0 } else { seg.len() }];
    for &r in held_out {
        if let Some(m) = mask.get_mut(r as usize) {
            *m = true;
        }
    }
    let cents = train_centroids(distance, seg, collection_rows.max(seg.len()), &mask, opts);
    let shared = Rc::new(partitioning(&cents, collection_rows.max(seg.len()), opts));
    let (out, new_row) = place(distance, seg, &cents, None, shared, opts);
    (out, held_out.iter().filter_map(|&r| new_row.get(r as usize).copied()).collect())
}

/// The centroids a build over `seg` trains for a collection of `rows`: about
/// `rows / rows_per_partition` of them, at most [`MAX_PARTITIONS_PER_SQRT_ROWS`]·√rows and one
/// per [`MIN_TRAIN_ROWS_PER_PARTITION`] rows of the segment.
pub fn train_centroids(
    distance: Distance,
    seg: &Segment,
    rows: usize,
    held_out: &[bool],
    opts: &BuildOptions,
) -> Centroids {
    let k = (rows / opts.rows_per_partition.max(1))
        .min((MAX_PARTITIONS_PER_SQRT_ROWS * (rows as f64).sqrt()) as usize)
        .min(seg.len() / MIN_TRAIN_ROWS_PER_PARTITION.min(opts.rows_per_partition).max(1))
        .max(1);
    kmeans::train_excluding(distance, &seg.vectors, seg.dimension as usize, k, opts.seed, held_out)
}

/// A new partitioning (fresh id) of trained centroids, in their stored form, for a collection
/// of `trained_rows` rows.
pub fn partitioning(cents: &Centroids, trained_rows: usize, _opts: &BuildOptions) -> Partitioning {
    let dim = cents.dim;
    Partitioning {
        id: Some(crate::runtime::new_uuid()),
        dim,
        centroids: crate::segment::partition::stored_centroids(&cents.fine, dim),
        trained_rows: u32::try_from(trained_rows).unwrap_or(u32::MAX),
        calibration: Vec::new(),
    }
}

/// `seg` rewritten in partition order with its rows listed under an existing partitioning
/// (the collection's shared one): nothing is trained, each row goes to its nearest partition.
pub fn build_with(distance: Distance, seg: &Segment, shared: &Rc<Partitioning>, opts: &BuildOptions) -> Segment {
    let (cents, perm) = kmeans::hierarchy(distance, &shared.centroids, shared.dim, opts.seed);
    place(distance, seg, &cents, Some(&perm), shared.clone(), opts).0
}

/// Assigns and orders the rows of `seg` under `cents` (whose fine centroid `i` is partition
/// `perm[i]`, or `i` without a permutation) and attaches the index; also returns each input
/// row's new row.
fn place(
    distance: Distance,
    seg: &Segment,
    cents: &Centroids,
    perm: Option<&[u32]>,
    shared: Rc<Partitioning>,
    opts: &BuildOptions,
) -> (Segment, Vec<u32>) {
    let dim = seg.dimension as usize;
    let n = seg.len();
    let parts = cents.len();
    let coarse = if perm.is_some() { REUSE_COARSE_PROBES } else { ASSIGN_COARSE_PROBES };
    let (mut primary, mut second) = assign(distance, seg, cents, n.div_ceil(parts.max(1)) * CAPACITY_FACTOR, coarse);
    // Border test in the assignment's own numbering, before mapping to partitions.
    let c = |p: u32| &cents.fine[p as usize * dim..(p as usize + 1) * dim];
    let border: Vec<bool> = (0..n)
        .map(|r| {
            let (v, p, q) = (seg.vector(r), primary[r], second[r]);
            // Only rows near the border between their two partitions (SPANN's closure rule).
            opts.spill && q != p && kernels::l2_sq(v, c(q)) <= (1.0 + SPILL_MARGIN) * kernels::l2_sq(v, c(p))
        })
        .collect();
    if let Some(perm) = perm {
        for x in primary.iter_mut().chain(second.iter_mut()) {
            *x = perm[*x as usize];
        }
    }
    // Rows in partition order (stable: ascending row within a partition).
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&r| primary[r as usize]);
    let mut new_row = vec![0u32; n];
    let mut b = SegmentBuilder::new(seg.dimension, seg.created_at_ms, n);
    let mut starts = vec![0u32; parts + 1];
    for (i, &r) in order.iter().enumerate() {
        new_row[r as usize] = i as u32;
        starts[primary[r as usize] as usize + 1] += 1;
        b.push_row(seg, r as usize);
    }
    for p in 0..parts {
        starts[p + 1] += starts[p];
    }
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); parts];
    for r in (0..n).filter(|&r| border[r]) {
        lists[second[r] as usize].push(new_row[r]);
    }
    let mut spill_starts = Vec::with_capacity(parts + 1);
    let mut spills = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    spill_starts.push(0);
    for mut l in lists {
        l.sort_unstable();
        spills.extend_from_slice(&l);
        spill_starts.push(spills.len() as u32);
    }
    let mut out = b.finish();
    out.index = Some(PartitionIndex { dim, shared, starts, spill_starts, spills });
    (out, new_row)
}

/// Primary and second partition per row; primary partitions hold at most `cap` rows.
fn assign(distance: Distance, seg: &Segment, cents: &Centroids, cap: usize, coarse: usize) -> (Vec<u32>, Vec<u32>) {
    let n = seg.len();
    let mut primary = vec![0u32; n];
    let mut second = vec![0u32; n];
    let mut sizes = vec![0usize; cents.len()];
    let mut buf = kmeans::Scratch::default();
    for r in 0..n {
        let (a, b) = kmeans::nearest_two(distance, cents, seg.vector(r), coarse, &mut buf);
        let (p, s) = if sizes[a as usize] >= cap && sizes[b as usize] < cap { (b, a) } else { (a, b) };
        sizes[p as usize] += 1;
        primary[r] = p;
        second[r] = s;
    }
    (primary, second)
}
