//! When exact search builds int8 codes, and that every scan mode agrees with brute force.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::manifest::OpId;
use crate::record::Record;
use crate::testkit::XorShift;

fn view(seed: u32, rows: usize, dim: usize) -> (SnapshotView, Rc<Segment>) {
    let mut rng = XorShift(u64::from(seed.max(1)));
    let mut next = move || rng.f32() * 0.5;
    let recs: Vec<Record> =
        (0..rows).map(|i| Record::new(format!("r{i}"), (0..dim).map(|_| next()).collect(), None)).collect();
    let seg = Rc::new(Segment::from_records(&recs, dim as u16, 0));
    let m = CollectionManifest::new("t", dim as u16, Distance::L2, 0, 1, OpId::new());
    (SnapshotView::build(&m, vec![seg.clone()]), seg)
}

fn ids(view: &SnapshotView, mode: ScanMode) -> Vec<String> {
    let q: Vec<f32> = (0..view.dimension).map(|i| (i as f32 * 0.37).sin()).collect();
    let opts = SearchOptions { k: 10, mode, ..Default::default() };
    search(view, &q, &opts).unwrap().into_iter().map(|h| h.id).collect()
}

#[test]
fn a_snapshot_searched_once_builds_no_int8_codes() {
    let (v, seg) = view(7, 2000, 64);
    let first = ids(&v, ScanMode::Exact);
    assert!(!has_quantized(&seg), "the first exact search built codes");
    let second = ids(&v, ScanMode::Exact);
    assert!(has_quantized(&seg), "the second exact search did not screen");
    assert_eq!(first, second);
    // A new snapshot of the same (cached) segment screens at once: the codes exist.
    let m = CollectionManifest::new("t", 64, Distance::L2, 0, 1, OpId::new());
    let again = SnapshotView::build(&m, vec![seg.clone()]);
    assert!(screen_now(&again));
}

#[test]
fn flat_never_builds_codes_and_agrees_with_exact() {
    let (v, seg) = view(11, 1500, 32);
    let flat: Vec<Vec<String>> = (0..3).map(|_| ids(&v, ScanMode::Flat)).collect();
    assert!(!has_quantized(&seg), "flat search built codes");
    let exact: Vec<Vec<String>> = (0..3).map(|_| ids(&v, ScanMode::Exact)).collect();
    assert!(has_quantized(&seg));
    assert_eq!(flat, exact);
}
