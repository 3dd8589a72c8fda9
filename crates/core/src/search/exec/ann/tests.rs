//! Pruning: it skips the partitions that cannot matter, and only those on well-separated data.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::index::ivf::{build, BuildOptions};
use crate::manifest::OpId;
use crate::record::Record;
use crate::testkit::XorShift;

/// 48 tight, well-separated clusters of 250 rows in 16 dimensions (12,000 rows, L2), indexed.
fn clustered() -> (SnapshotView, Vec<Vec<f32>>) {
    let dim = 16;
    let mut rng = XorShift(99);
    let mut next = move || rng.f32() * 0.5;
    let centres: Vec<Vec<f32>> = (0..48).map(|_| (0..dim).map(|_| next() * 40.0).collect()).collect();
    let recs: Vec<Record> = (0..12_000)
        .map(|i| {
            let c = &centres[i % 48];
            Record::new(format!("r{i}"), c.iter().map(|v| v + next()).collect(), None)
        })
        .collect();
    let flat = Segment::from_records(&recs, dim as u16, 0);
    let seg = build(Distance::L2, &flat, &BuildOptions::default());
    assert!(seg.index.as_ref().is_some_and(|i| i.partitions() > 100));
    let m = CollectionManifest::new("t", dim as u16, Distance::L2, 0, 1, OpId::new());
    let queries = (0..8).map(|j| centres[j * 5].iter().map(|v| v + next() * 0.5).collect()).collect();
    (SnapshotView::build(&m, vec![Rc::new(seg)]), queries)
}

fn run(view: &SnapshotView, q: &[f32], probes: usize, prune: bool) -> (Vec<u32>, usize) {
    let admit = Admit { view, filter: None, rows: None };
    let (top, screened) = search(view, q, 10, Some(probes), None, prune, &admit);
    (top.into_sorted().into_iter().map(|(_, i)| i).collect(), screened)
}

#[test]
fn pruning_skips_far_partitions_and_keeps_the_nearest_hits() {
    let (view, queries) = clustered();
    let seg = &view.segments[0];
    let index = seg.index.as_ref().unwrap();
    let (parts, entries) = (index.partitions(), seg.len() + index.spills.len());
    for q in &queries {
        // Every partition, unpruned: every entry screened, the exact answer.
        let (all, screened) = run(&view, q, parts, false);
        assert_eq!(screened, entries);
        let exact = exact_f32(&view, q, 10, &Admit { view: &view, filter: None, rows: None });
        let exact: Vec<u32> = exact.into_sorted().into_iter().map(|(_, i)| i).collect();
        assert_eq!(all, exact);
        // Pruned: the query's own cluster holds its neighbours; the other 47 are far beyond the
        // margin, so only a small share of the entries is screened, and the answer is the same.
        let (pruned, screened) = run(&view, q, parts, true);
        assert_eq!(pruned, exact);
        assert!(screened * 8 < entries, "pruning screened {screened} of {entries} entries");
    }
}

#[test]
fn the_margin_scales_with_the_query_for_dot_and_with_the_distance_for_l2() {
    let m = PRUNE_SIGMAS * 0.1;
    assert_eq!(margin(Distance::Cosine, 0.1, 1.0, 0.3), m);
    assert_eq!(margin(Distance::Dot, 0.1, 3.0, 0.3), 3.0 * m);
    // L2 scores are −d²: the margin is 2·PRUNE_SIGMAS·σ·d.
    assert!((margin(Distance::L2, 0.1, 1.0, -4.0) - 2.0 * m * 2.0).abs() < 1e-6);
    assert_eq!(margin(Distance::L2, 0.1, 1.0, 0.0), 0.0);
}
