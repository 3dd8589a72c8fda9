//! One partitioning shared by several segments: a query scores the centroids once and screens
//! about the entries one segment of the same rows would, where segments with their own
//! centroids (the negative control) each probe their own partitions; calibrated recall.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::index::ivf::{build, build_with, BuildOptions};
use crate::manifest::OpId;
use crate::record::Record;
use crate::search::exec::calibrate;

use std::collections::HashSet;

const DIM: usize = 16;

fn id_of(view: &SnapshotView, i: usize) -> String {
    let si = view.offsets.partition_point(|&o| o <= i) - 1;
    view.segments[si].ids[i - view.offsets[si]].to_string()
}

fn rows(n: usize, seed: u64) -> Vec<Record> {
    let vs = crate::testkit::clustered(n, DIM, 64, 0.35, seed);
    vs.into_iter().enumerate().map(|(i, v)| Record::new(format!("p{i}"), v, None)).collect()
}

fn view_of(segs: Vec<Segment>) -> SnapshotView {
    let m = CollectionManifest::new("t", DIM as u16, Distance::L2, 0, 1, OpId::new());
    SnapshotView::build(&m, segs.into_iter().map(Rc::new).collect())
}

fn run(view: &SnapshotView, q: &[f32], probes: Option<usize>, recall: Option<f32>) -> (Vec<String>, usize) {
    let admit = Admit { view, filter: None, rows: None };
    let (top, screened) = search(view, q, 10, probes, recall, false, &admit);
    let ids = top.into_sorted().into_iter().map(|(_, i)| id_of(view, i as usize)).collect();
    (ids, screened)
}

/// The same 16,000 rows as one segment and as four, all under one partitioning; and as four
/// segments each with centroids of its own.
fn layouts() -> (SnapshotView, SnapshotView, SnapshotView, Vec<Vec<f32>>) {
    let mut recs = rows(16_040, 7);
    let queries: Vec<Vec<f32>> = recs.split_off(16_000).into_iter().map(|r| r.vector).collect();
    let opts = BuildOptions::default();
    let whole = build(Distance::L2, &Segment::from_records(&recs, DIM as u16, 0), &opts);
    let shared = whole.index.as_ref().unwrap().shared.clone();
    let quarter = |i: usize| Segment::from_records(&recs[i * 4_000..(i + 1) * 4_000], DIM as u16, 0);
    let four: Vec<Segment> = (0..4).map(|i| build_with(Distance::L2, &quarter(i), &shared, &opts)).collect();
    let own: Vec<Segment> = (0..4).map(|i| build(Distance::L2, &quarter(i), &opts)).collect();
    (view_of(vec![whole]), view_of(four), view_of(own), queries)
}

#[test]
fn segments_under_one_partitioning_screen_what_one_segment_would() {
    let (one, four, own, queries) = layouts();
    let parts = one.segments[0].index.as_ref().unwrap().partitions();
    let probes = Some(parts / 8);
    let (mut s1, mut s4, mut s_own, mut same) = (0, 0, 0, 0);
    for q in &queries {
        let (a, n1) = run(&one, q, probes, None);
        let (b, n4) = run(&four, q, probes, None);
        let (_, n_own) = run(&own, q, probes, None);
        (s1, s4, s_own) = (s1 + n1, s4 + n4, s_own + n_own);
        same += a.iter().filter(|id| b.contains(id)).count();
    }
    // The rows are assigned per segment (capacity caps differ), so not bit-identical: close.
    assert!(s4 * 10 <= s1 * 12, "4 shared segments screened {s4} entries, 1 segment {s1}");
    assert!(same * 100 >= queries.len() * 10 * 95, "the answers differ: {same} of {} hits shared", queries.len() * 10);
    // Negative control: four partitionings each probe parts/8 of their own: ~4x the entries.
    assert!(s_own > s1 * 3, "segments with their own centroids screened {s_own}, one segment {s1}");
    // One layout for the group, cached while its segments live.
    let key: Vec<usize> = four.segments.iter().map(|s| Rc::as_ptr(s) as usize).collect();
    assert!(group::cached(&key), "the group's layout is not cached");
}

#[test]
fn a_calibrated_partitioning_meets_the_recall_asked_for() {
    let mut recs = rows(20_300, 11);
    // New queries from the same distribution: rows kept out of the collection.
    let qs: Vec<Vec<f32>> = recs.split_off(20_000).into_iter().map(|r| r.vector).collect();
    let flat = Segment::from_records(&recs, DIM as u16, 0);
    let held = calibrate::sample_rows(flat.len());
    let (seg, queries) = crate::index::ivf::build_for(Distance::L2, &flat, flat.len(), &held, &BuildOptions::default());
    let seg = calibrate::calibrate(Distance::L2, seg, &queries);
    let cal = seg.index.as_ref().unwrap().shared.calibration.clone();
    assert_eq!(cal.len(), calibrate::TARGETS.len(), "{cal:?}");
    assert!(cal.windows(2).all(|w| w[0].probes <= w[1].probes), "{cal:?}");
    assert!(cal[0].probes < cal[cal.len() - 1].probes, "every target took the same probes: {cal:?}");
    let view = view_of(vec![seg]);
    // Recall@10 of the held-back rows against brute force.
    let admit = Admit { view: &view, filter: None, rows: None };
    for target in [0.8f32, 0.95, 0.99] {
        let mut found = 0;
        for q in &qs {
            let exact: HashSet<u32> =
                exact_f32(&view, q, 10, &admit).into_sorted().into_iter().map(|(_, i)| i).collect();
            let (top, _) = search(&view, q, 10, None, Some(target), true, &admit);
            found += top.into_sorted().iter().filter(|(_, i)| exact.contains(i)).count();
        }
        let recall = found as f32 / (qs.len() * 10) as f32;
        // The calibration's sample is 200 rows: allow its noise below the target.
        assert!(recall >= target - 0.01, "asked for {target}, got {recall} ({cal:?})");
    }
}
