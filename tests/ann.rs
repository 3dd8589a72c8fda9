//! ANN search over partition-indexed segments: recall against brute force on fixed seeds,
//! newest-wins and deletes exactly as in exact search, selective filters exact, the index
//! rebuilt by later compactions.

#![allow(clippy::arc_with_non_send_sync)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use akidb::kv::{Kv, MemoryKv};
use akidb::limits::IVF_MIN_ROWS;
use akidb::search::exec::{ScanMode, SearchOptions};
use akidb::search::filter::Filter;
use akidb::storage::CompactOptions;
use akidb::{Collection, Database, Distance, Record, Storage};
use common::{run, Rng};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const DIM: usize = 16;

/// `n` points around 64 seeded cluster centres, metadata `{ "group": i % 50 }`.
fn clustered(n: usize, seed: u64) -> Vec<Record> {
    let mut rng = Rng(seed);
    let centres: Vec<Vec<f32>> = (0..64).map(|_| rng.vector(DIM)).collect();
    (0..n)
        .map(|i| {
            let c = &centres[(rng.next_u64() % 64) as usize];
            let v: Vec<f32> = c.iter().map(|x| x + 0.35 * rng.unit()).collect();
            Record::new(format!("p{i}"), v, Some(json!({ "group": i % 50 })))
        })
        .collect()
}

async fn indexed_collection(distance: Distance) -> (Arc<MemoryKv>, Collection) {
    let mem = Arc::new(MemoryKv::new());
    let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    db.create_collection("c", DIM as u32, distance).await.unwrap();
    let c = db.collection("c").await.unwrap();
    let recs = clustered(IVF_MIN_ROWS + 600, 42);
    for chunk in recs.chunks(4_300) {
        c.upsert(chunk).await.unwrap();
    }
    c.compact(&CompactOptions { full: true, ..Default::default() }).await.unwrap();
    (mem, c)
}

fn opts(k: usize, mode: ScanMode) -> SearchOptions {
    SearchOptions { k, mode, ..Default::default() }
}

async fn ids(c: &Collection, q: &[f32], o: &SearchOptions) -> Vec<String> {
    c.search(q, o).await.unwrap().into_iter().map(|h| h.id).collect()
}

async fn partitions(mem: &Arc<MemoryKv>) -> usize {
    let s = Storage::new(mem.clone() as Arc<dyn Kv>);
    let m = s.load_manifest("c").await.unwrap();
    assert_eq!(m.segments.len(), 1, "full compaction leaves one segment");
    let seg = s.load_segment(&m, &m.segments[0]).await.unwrap();
    seg.index.as_ref().map_or(0, |i| i.partitions())
}

#[test]
fn ann_recall_against_brute_force_and_every_probe_is_exact() {
    run(async {
        for distance in [Distance::Cosine, Distance::L2] {
            let (mem, c) = indexed_collection(distance).await;
            let parts = partitions(&mem).await;
            assert!(parts > 100, "compaction built no index ({parts} partitions)");
            let mut rng = Rng(9);
            let (mut hit, mut total) = (0, 0);
            for _ in 0..40 {
                let q = rng.vector(DIM);
                let exact = ids(&c, &q, &opts(10, ScanMode::Exact)).await;
                let ann = ids(&c, &q, &opts(10, ScanMode::Ann { probes: None })).await;
                hit += ann.iter().filter(|id| exact.contains(id)).count();
                total += exact.len();
                // Probing every partition scans every row: the exact answer.
                let all = ids(&c, &q, &opts(10, ScanMode::Ann { probes: Some(parts) })).await;
                assert_eq!(all, exact, "{distance:?}");
            }
            let recall = hit as f64 / total as f64;
            assert!(recall >= 0.9, "{distance:?}: recall@10 {recall:.3} with default probes");
            // One probe finds less than the default: the probe count is what bounds the work.
            let mut one = 0;
            let mut rng = Rng(9);
            for _ in 0..40 {
                let q = rng.vector(DIM);
                let exact = ids(&c, &q, &opts(10, ScanMode::Exact)).await;
                let ann = ids(&c, &q, &opts(10, ScanMode::Ann { probes: Some(1) })).await;
                one += ann.iter().filter(|id| exact.contains(id)).count();
            }
            assert!(one < hit, "{distance:?}: 1 probe found {one}, default {hit}");
        }
    });
}

#[test]
fn ann_sees_newer_writes_and_deletes_and_survives_recompaction() {
    run(async {
        let (mem, c) = indexed_collection(Distance::Cosine).await;
        let mut rng = Rng(5);
        // Overwrite 50 indexed records with new vectors and delete 50 others, in flat segments.
        let moved: Vec<Record> = (0..50).map(|i| Record::new(format!("p{i}"), rng.vector(DIM), None)).collect();
        c.upsert(&moved).await.unwrap();
        let gone: Vec<String> = (100..150).map(|i| format!("p{i}")).collect();
        c.delete(&gone).await.unwrap();
        let gone_set: HashSet<&String> = gone.iter().collect();
        for round in 0..2 {
            for r in &moved {
                let hits = c.search(&r.vector, &opts(5, ScanMode::Ann { probes: None })).await.unwrap();
                assert_eq!(hits[0].id, r.id, "round {round}: the overwritten record's new vector");
                assert!(hits[0].score > 0.9999, "round {round}: {}", hits[0].score);
                // Its old version (still in the indexed segment) never appears twice.
                assert_eq!(hits.iter().filter(|h| h.id == r.id).count(), 1);
            }
            for _ in 0..20 {
                let q = rng.vector(DIM);
                let hits = ids(&c, &q, &opts(50, ScanMode::Ann { probes: None })).await;
                assert!(hits.iter().all(|h| !gone_set.contains(h)), "round {round}: a deleted record came back");
                let unique: HashSet<&String> = hits.iter().collect();
                assert_eq!(unique.len(), hits.len(), "round {round}: duplicate hits");
            }
            // Compacting again folds the writes into a re-indexed segment.
            c.compact(&CompactOptions { full: true, ..Default::default() }).await.unwrap();
            assert!(partitions(&mem).await > 100, "round {round}: the index did not survive compaction");
        }
        assert_eq!(c.count().await.unwrap(), IVF_MIN_ROWS + 600 - 50);
    });
}

#[test]
fn selective_filters_make_ann_exact() {
    run(async {
        let (_mem, c) = indexed_collection(Distance::L2).await;
        let mut rng = Rng(3);
        let filter = Filter::parse(&json!({ "must": [{ "key": "group", "match": 7 }] })).unwrap();
        for _ in 0..20 {
            let q = rng.vector(DIM);
            let mut o = opts(10, ScanMode::Exact);
            o.filter = Some(filter.clone());
            let exact = ids(&c, &q, &o).await;
            o.mode = ScanMode::Ann { probes: Some(1) };
            let ann = ids(&c, &q, &o).await;
            assert_eq!(ann, exact, "a 2 % filter with ANN must equal exact filtered search");
            assert_eq!(ann.len(), 10);
        }
    });
}
