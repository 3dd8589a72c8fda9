//! Calibrating a partitioning when compaction trains it: which probes reach which recall@10,
//! measured on a held-out sample of the segment's own rows (each sample row is a query; its own
//! hit is left out of both the exact and the ANN answer), so `search(q, { recall })` and the
//! default probes follow the data instead of a fixed fraction of the partitions.

use std::collections::HashMap;
use std::rc::Rc;

use super::{ann, exact_f32, Admit, SnapshotView};
use crate::distance::Distance;
use crate::manifest::{CollectionManifest, OpId};
use crate::segment::partition::{Calibration, Partitioning};
use crate::segment::Segment;

/// The recall@10 targets a calibration measures (a caller's `recall` takes the first at or above it).
pub const TARGETS: [f32; 6] = [0.8, 0.9, 0.95, 0.98, 0.99, 0.995];
/// Sample rows used as queries (fewer in small segments: a tenth of the rows).
pub const SAMPLE_QUERIES: usize = 250;
/// Each target is met with this much to spare on the sample: sample rows sit in the data
/// (nearer to their neighbours than a new query), and 2,000 neighbours measure recall to about
/// ±0.002. Chosen on the real 384-d set (bench/ann/readme.mjs), where it keeps the held-out
/// queries' recall at or above each target.
pub const MARGIN: f32 = 0.0015;
/// ...plus this share of the target's miss rate (new queries' misses run ~10 % above a
/// sample's at low targets on the real set).
pub const MISS_MARGIN: f32 = 0.25;
/// Probes tried grow by this factor per step until a target is met...
const STEP: f64 = 1.5;
/// ...then are bisected to within this fraction of the answer.
const RESOLUTION: f64 = 0.04;
const K: usize = 10;

/// The rows of an `n`-row segment a calibration queries with (evenly spaced), to be held out
/// of training.
pub fn sample_rows(n: usize) -> Vec<u32> {
    let samples = SAMPLE_QUERIES.min(n / 10);
    (0..samples).map(|i| ((i * n + n / 2) / samples) as u32).collect()
}

/// `seg` (with a freshly trained partition index) with its partitioning's calibration filled
/// in, measured with its rows `rows` as queries (held out of training: [`sample_rows`]).
pub fn calibrate(distance: Distance, seg: Segment, rows: &[u32]) -> Segment {
    let Some(index) = seg.index.as_ref() else { return seg };
    let parts = index.partitions();
    let rows: Vec<usize> = rows.iter().map(|&r| r as usize).filter(|&r| r < seg.len()).collect();
    if rows.is_empty() || parts == 0 {
        return seg;
    }
    let shared = index.shared.clone();
    let seg = Rc::new(seg);
    let m = CollectionManifest::new("calibration", seg.dimension, distance, 0, 1, OpId::new());
    let view = SnapshotView::build(&m, vec![seg.clone()]);
    let admit = Admit { view: &view, filter: None, rows: None };
    // Row numbers of the k best other rows (one view, one segment: global index = row).
    let others = |row: usize, top: crate::kernels::topk::TopK| -> Vec<u32> {
        top.into_sorted().into_iter().map(|(_, i)| i).filter(|&i| i as usize != row).take(K).collect()
    };
    let truth: Vec<Vec<u32>> = rows
        .iter()
        .map(|&r| {
            let mut t = others(r, exact_f32(&view, seg.vector(r), K + 1, &admit));
            t.sort_unstable();
            t
        })
        .collect();
    let wanted: usize = truth.iter().map(Vec::len).sum();
    let mut memo: HashMap<usize, f32> = HashMap::new();
    let mut recall_at = |p: usize| -> f32 {
        *memo.entry(p).or_insert_with(|| {
            let found: usize = rows
                .iter()
                .zip(&truth)
                .map(|(&r, t)| {
                    let (top, _) = ann::search(&view, seg.vector(r), K + 1, Some(p), None, true, &admit);
                    others(r, top).iter().filter(|i| t.binary_search(i).is_ok()).count()
                })
                .sum();
            if wanted == 0 {
                1.0
            } else {
                found as f32 / wanted as f32
            }
        })
    };
    let mut cal: Vec<Calibration> = Vec::new();
    // Per target: grow probes by STEP from the previous target's until the target is met,
    // then bisect between the last miss and the first hit down to RESOLUTION.
    let mut lo = crate::search::exec::ann::MIN_PROBES.min(parts);
    for t in TARGETS {
        let meets = |r: f32| r >= t + (1.0 - t) * MISS_MARGIN + MARGIN;
        let (mut miss, mut hit) = (None, lo);
        while hit < parts && !meets(recall_at(hit)) {
            miss = Some(hit);
            hit = (((hit as f64) * STEP).round() as usize).max(hit + 1).min(parts);
        }
        if let Some(mut miss) = miss {
            while hit - miss > (miss as f64 * RESOLUTION).ceil() as usize {
                let mid = miss + (hit - miss) / 2;
                if meets(recall_at(mid)) {
                    hit = mid;
                } else {
                    miss = mid;
                }
            }
        }
        cal.push(Calibration { recall: t, probes: hit as u32 });
        lo = hit;
    }
    drop(admit);
    drop(view);
    let mut seg = Rc::try_unwrap(seg).unwrap_or_else(|rc| (*rc).clone());
    let calibrated = Partitioning { calibration: cal, ..(*shared).clone() };
    if let Some(index) = seg.index.as_mut() {
        index.shared = Rc::new(calibrated);
    }
    seg
}
