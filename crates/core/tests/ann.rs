//! ANN search over partition-indexed segments: recall against brute force on fixed seeds,
//! newest-wins and deletes exactly as in exact search, selective filters exact, the index
//! rebuilt by later compactions.

#![allow(clippy::arc_with_non_send_sync)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use akidb_core::kv::{Kv, MemoryKv};
use akidb_core::limits::IVF_MIN_ROWS;
use akidb_core::search::exec::{ScanMode, SearchOptions};
use akidb_core::search::filter::Filter;
use akidb_core::storage::CompactOptions;
use akidb_core::testkit::{InstrumentedKv, Op};
use akidb_core::{Collection, Database, Distance, Error, Record, Storage};
use common::{run, Rng};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const DIM: usize = 16;

/// `n` points around 64 seeded cluster centres, metadata `{ "group": i % 50 }`.
fn clustered(n: usize, seed: u64) -> Vec<Record> {
    let vectors = akidb_core::testkit::clustered(n, DIM, 64, 0.35, seed);
    let record = |(i, v)| Record::new(format!("p{i}"), v, Some(json!({ "group": i % 50 })));
    vectors.into_iter().enumerate().map(record).collect()
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
            let (mut hit, mut total, mut unpruned) = (0, 0, 0);
            for _ in 0..40 {
                let q = rng.vec(DIM);
                let exact = ids(&c, &q, &opts(10, ScanMode::Exact)).await;
                let ann = ids(&c, &q, &opts(10, ScanMode::Ann { probes: None, prune: true })).await;
                hit += ann.iter().filter(|id| exact.contains(id)).count();
                total += exact.len();
                let every = ids(&c, &q, &opts(10, ScanMode::Ann { probes: None, prune: false })).await;
                unpruned += every.iter().filter(|id| exact.contains(id)).count();
                // Probing every partition without pruning scans every row: the exact answer.
                let all = ids(&c, &q, &opts(10, ScanMode::Ann { probes: Some(parts), prune: false })).await;
                assert_eq!(all, exact, "{distance:?}");
            }
            let recall = hit as f64 / total as f64;
            assert!(recall >= 0.9, "{distance:?}: recall@10 {recall:.3} with default probes");
            // Pruning costs little recall on 16-d data too (a margin in fixed score units lost
            // a third here: its scale must come from the data).
            let every = unpruned as f64 / total as f64;
            println!("{distance:?}: recall@10 {recall:.3} pruned, {every:.3} unpruned");
            assert!(recall >= every - 0.03, "{distance:?}: pruned recall {recall:.3}, unpruned {every:.3}");
            // One probe finds less than the default: the probe count is what bounds the work.
            let mut one = 0;
            let mut rng = Rng(9);
            for _ in 0..40 {
                let q = rng.vec(DIM);
                let exact = ids(&c, &q, &opts(10, ScanMode::Exact)).await;
                let ann = ids(&c, &q, &opts(10, ScanMode::Ann { probes: Some(1), prune: true })).await;
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
        let moved: Vec<Record> = (0..50).map(|i| Record::new(format!("p{i}"), rng.vec(DIM), None)).collect();
        c.upsert(&moved).await.unwrap();
        let gone: Vec<String> = (100..150).map(|i| format!("p{i}")).collect();
        c.delete(&gone).await.unwrap();
        let gone_set: HashSet<&String> = gone.iter().collect();
        for round in 0..2 {
            for r in &moved {
                let hits = c.search(&r.vector, &opts(5, ScanMode::Ann { probes: None, prune: true })).await.unwrap();
                assert_eq!(hits[0].id, r.id, "round {round}: the overwritten record's new vector");
                assert!(hits[0].score > 0.9999, "round {round}: {}", hits[0].score);
                // Its old version (still in the indexed segment) never appears twice.
                assert_eq!(hits.iter().filter(|h| h.id == r.id).count(), 1);
            }
            for _ in 0..20 {
                let q = rng.vec(DIM);
                let hits = ids(&c, &q, &opts(50, ScanMode::Ann { probes: None, prune: true })).await;
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
            let q = rng.vec(DIM);
            let mut o = opts(10, ScanMode::Exact);
            o.filter = Some(filter.clone());
            let exact = ids(&c, &q, &o).await;
            o.mode = ScanMode::Ann { probes: Some(1), prune: true };
            let ann = ids(&c, &q, &o).await;
            assert_eq!(ann, exact, "a 2 % filter with ANN must equal exact filtered search");
            assert_eq!(ann.len(), 10);
        }
    });
}

/// The segment reads in the log: `Some((start, len))` for a range read, and the bytes returned.
fn segment_reads(kv: &InstrumentedKv<Arc<MemoryKv>>) -> Vec<(Option<(u64, u64)>, u64)> {
    let reads = kv.log().into_iter().filter(|e| e.op.is_read() && e.key.contains("/segments/"));
    let range = |op| match op {
        Op::GetRange { start, len } => Some((start, len)),
        _ => None,
    };
    reads.map(|e| (range(e.op), e.bytes)).collect()
}

#[test]
fn a_cold_ann_query_reads_the_header_and_the_probed_partitions_only() {
    run(async {
        let (mem, warm) = indexed_collection(Distance::Cosine).await;
        // Newer flat segments on top: an overwrite and deletes the cold path must honour.
        let mut rng = Rng(21);
        let moved = vec![Record::new("p7", rng.vec(DIM), Some(json!({ "moved": true })))];
        warm.upsert(&moved).await.unwrap();
        warm.delete(&["p8".to_string(), "p9".to_string()]).await.unwrap();
        let object: u64 = {
            let s = Storage::new(mem.clone() as Arc<dyn Kv>);
            let m = s.load_manifest("c").await.unwrap();
            m.segments[0].size_bytes
        };
        let reads = Arc::new(InstrumentedKv::new(mem.clone()).with_log());
        // Budget 0: the cold path whatever the size (what S3 and R2 handles get).
        let db = Database::new(Storage::new(reads.clone() as Arc<dyn Kv>)).with_snapshot_budget(0);
        let cold = db.collection("c").await.unwrap();
        let mut queries: Vec<Vec<f32>> = (0..10).map(|_| rng.vec(DIM)).collect();
        queries.push(moved[0].vector.clone());
        for (i, q) in queries.iter().enumerate() {
            let mut o = opts(10, ScanMode::Ann { probes: Some(6), prune: false });
            o.include_metadata = true;
            reads.reset();
            let got = cold.search(q, &o).await.unwrap();
            // The same hits (ids, scores, metadata) as an in-memory ANN search.
            let want = warm.search(q, &o).await.unwrap();
            assert_eq!(got, want, "query {i}");
            assert!(got.iter().all(|h| h.id != "p8" && h.id != "p9"), "a deleted record came back");
            let seg_reads = segment_reads(&reads);
            let bytes: u64 = seg_reads.iter().map(|r| r.1).sum();
            // Whole reads only for the small newer segments (the first query), ranges for the rest.
            assert!(
                seg_reads.iter().filter(|r| r.0.is_none()).all(|r| r.1 < object / 20),
                "query {i} read the indexed segment whole"
            );
            // 6 of 274 partitions, runs merged across gaps of up to 256 KiB (most of this small object).
            assert!(bytes < object / 3, "query {i} read {bytes} of {object} bytes");
            if i > 0 {
                // Header cached; the probed partitions not yet seen: at most one range per probe.
                assert!(seg_reads.len() <= 6, "query {i}: {} reads", seg_reads.len());
            }
        }
        assert_eq!(
            cold.search(&moved[0].vector, &opts(1, ScanMode::Ann { probes: Some(6), prune: false })).await.unwrap()[0]
                .id,
            "p7"
        );
        // The same query again: every partition is cached.
        reads.reset();
        cold.search(&queries[0], &opts(10, ScanMode::Ann { probes: Some(6), prune: false })).await.unwrap();
        assert!(segment_reads(&reads).is_empty(), "{:?}", reads.log());
        // Exact search (or a filter) reads everything, as before.
        let e = cold.search(&queries[0], &opts(10, ScanMode::Exact)).await.unwrap();
        assert_eq!(e, warm.search(&queries[0], &opts(10, ScanMode::Exact)).await.unwrap());
    });
}

/// Warm by default: a handle whose collection fits the snapshot budget loads the snapshot on
/// its first ANN search (whole objects, no range reads) and answers every later one from
/// memory, `search_loaded` included; over the budget (the control, the same calls) it stays
/// cold: range reads on every new query and `search_loaded` says NOT_LOADED.
#[test]
fn a_handle_within_the_snapshot_budget_runs_warm_from_its_first_search() {
    run(async {
        let (mem, warm) = indexed_collection(Distance::Cosine).await;
        let size: u64 = warm.snapshot().segments.iter().map(|d| d.size_bytes).sum();
        let mut rng = Rng(5);
        let queries: Vec<Vec<f32>> = (0..4).map(|_| rng.vec(DIM)).collect();
        let o = opts(10, ScanMode::Ann { probes: Some(6), prune: false });
        for (budget, keeps) in [(None, true), (Some(size), true), (Some(size - 1), false)] {
            let reads = Arc::new(InstrumentedKv::new(mem.clone()).with_log());
            let mut db = Database::new(Storage::new(reads.clone() as Arc<dyn Kv>));
            if let Some(b) = budget {
                db = db.with_snapshot_budget(b);
            }
            let c = db.collection("c").await.unwrap();
            assert_eq!(c.keeps_snapshot(), keeps, "budget {budget:?}");
            let first = c.search(&queries[0], &o).await.unwrap();
            assert_eq!(first, warm.search(&queries[0], &o).await.unwrap());
            let ranged = segment_reads(&reads).iter().filter(|r| r.0.is_some()).count();
            assert_eq!(ranged == 0, keeps, "budget {budget:?}: {ranged} range reads");
            match c.search_loaded(&queries[1], &o) {
                Ok(hits) => {
                    assert!(keeps, "budget {budget:?}: loaded although over the budget");
                    assert_eq!(hits, warm.search(&queries[1], &o).await.unwrap());
                }
                Err(e) => assert!(!keeps && matches!(e, Error::NotLoaded(_)), "budget {budget:?}: {e}"),
            }
            reads.reset();
            for q in &queries[2..] {
                c.search(q, &o).await.unwrap();
            }
            assert_eq!(segment_reads(&reads).is_empty(), keeps, "budget {budget:?}: {:?}", segment_reads(&reads));
        }
    });
}

#[test]
fn a_cold_query_on_a_snapshot_whose_segment_gc_deleted_reads_the_latest_one() {
    run(async {
        let (mem, warm) = indexed_collection(Distance::L2).await;
        let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>)).with_snapshot_budget(0);
        let stale = db.collection("c").await.unwrap(); // snapshot: the first indexed segment
        let s = Storage::new(mem.clone() as Arc<dyn Kv>);
        let old = s.load_manifest("c").await.unwrap().segments[0].clone();
        // A write and a full compaction replace it; GC passes delete it.
        warm.upsert(&[Record::new("late", vec![0.5; DIM], None)]).await.unwrap();
        warm.compact(&CompactOptions { full: true, ..Default::default() }).await.unwrap();
        let key = |m: &akidb_core::CollectionManifest| s.segment_key("c", m.incarnation, &old);
        let m = s.load_manifest("c").await.unwrap();
        for _ in 0..5 {
            if mem.get(&key(&m)).await.unwrap().is_none() {
                break;
            }
            s.collect_garbage("c").await.unwrap();
        }
        assert!(mem.get(&key(&m)).await.unwrap().is_none(), "GC did not delete the replaced segment");
        // The stale handle's cold query finds its segment gone, moves to the latest snapshot.
        let hits = stale.search(&[0.5; DIM], &opts(3, ScanMode::Ann { probes: None, prune: true })).await.unwrap();
        assert_eq!(hits[0].id, "late");
        assert_eq!(
            hits,
            warm.search(&[0.5; DIM], &opts(3, ScanMode::Ann { probes: None, prune: true })).await.unwrap()
        );
    });
}

#[test]
fn merges_under_a_small_budget_share_one_calibrated_partitioning() {
    run(async {
        let mem = Arc::new(MemoryKv::new());
        let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
        db.create_collection("c", DIM as u32, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let recs = clustered(3 * IVF_MIN_ROWS + 40, 17);
        let (recs, queries) = recs.split_at(3 * IVF_MIN_ROWS);
        for chunk in recs.chunks(IVF_MIN_ROWS / 2) {
            c.upsert(chunk).await.unwrap();
        }
        // A budget of about two fresh segments: three merges of IVF_MIN_ROWS rows each.
        let s = Storage::new(mem.clone() as Arc<dyn Kv>);
        let piece = s.load_manifest("c").await.unwrap().segments[0].size_bytes;
        let o = CompactOptions { full: true, max_input_bytes: piece * 21 / 10, max_rounds: 16, ..Default::default() };
        c.compact(&o).await.unwrap();
        let m = s.load_manifest("c").await.unwrap();
        assert_eq!(m.segments.len(), 3, "{:?}", m.segments.iter().map(|d| d.record_count).collect::<Vec<_>>());
        let mut ids = HashSet::new();
        for d in &m.segments {
            let seg = s.load_segment(&m, d).await.unwrap();
            let p = &seg.index.as_ref().expect("every merge output is indexed").shared;
            assert!(!p.calibration.is_empty(), "the partitioning is not calibrated");
            ids.insert(p.id.expect("a v3 partitioning has an id"));
        }
        assert_eq!(ids.len(), 1, "the segments do not share one partitioning: {ids:?}");
        // Recall against brute force over the three segments at the default target.
        let mut found = 0;
        for q in queries {
            let want: HashSet<String> = ids_of(&c, &q.vector, ScanMode::Exact).await;
            let got = ids_of(&c, &q.vector, ScanMode::Ann { probes: None, prune: true }).await;
            found += got.intersection(&want).count();
        }
        let recall = found as f64 / (queries.len() * 10) as f64;
        assert!(recall >= 0.97, "recall@10 {recall} at the default target");
    });
}

async fn ids_of(c: &Collection, q: &[f32], mode: ScanMode) -> HashSet<String> {
    ids(c, q, &opts(10, mode)).await.into_iter().collect()
}

/// 24,000 rows of 24 clusters written in cluster order (as data keyed by name or time often is)
/// and 200 queries from the last six clusters, which the first merge does not hold.
fn ordered() -> (Vec<Record>, Vec<Vec<f32>>) {
    let mut rng = Rng(23);
    let centres: Vec<Vec<f32>> = (0..24).map(|_| rng.vec(DIM).iter().map(|x| x * 4.0).collect()).collect();
    let point = |rng: &mut Rng, c: usize| -> Vec<f32> { centres[c].iter().map(|x| x + rng.vec(1)[0]).collect() };
    let recs = (0..24_000).map(|i| Record::new(format!("p{i}"), point(&mut rng, i / 1_000), None)).collect();
    let queries = (0..200).map(|i| point(&mut rng, 18 + i % 6)).collect();
    (recs, queries)
}

async fn recall_on(c: &Collection, queries: &[Vec<f32>], recall: f32) -> f64 {
    let mut found = 0;
    for q in queries {
        let want = ids_of(c, q, ScanMode::Exact).await;
        let o = SearchOptions { recall: Some(recall), ..opts(10, ScanMode::Ann { probes: None, prune: true }) };
        found += ids(c, q, &o).await.into_iter().filter(|id| want.contains(id)).count();
    }
    found as f64 / (queries.len() * 10) as f64
}

#[test]
fn the_first_partitioning_is_trained_on_the_whole_collection_not_the_first_merge() {
    run(async {
        let (recs, queries) = ordered();
        let small = |piece: u64| CompactOptions {
            full: true,
            max_input_bytes: piece * 21 / 10,
            max_rounds: 16,
            ..Default::default()
        };
        // Everything written, then compacted under a budget of two pieces: the first merge
        // (clusters 0-5) trains on a sample of all 24 clusters.
        let db = Database::new(Storage::new(Arc::new(MemoryKv::new()) as Arc<dyn Kv>));
        db.create_collection("c", DIM as u32, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        for chunk in recs.chunks(3_000) {
            c.upsert(chunk).await.unwrap();
        }
        let piece = c.snapshot().segments[0].size_bytes;
        c.compact(&small(piece)).await.unwrap();
        assert_eq!(c.snapshot().segments.len(), 4);
        let mut sampled = Vec::new();
        for r in [0.8, 0.9, 0.99] {
            sampled.push(recall_on(&c, &queries, r).await);
        }
        // Negative control: the first six clusters compacted alone first (so their merge is the
        // whole collection and trains on them), the rest written and merged under its centroids.
        let db = Database::new(Storage::new(Arc::new(MemoryKv::new()) as Arc<dyn Kv>));
        db.create_collection("c", DIM as u32, Distance::L2).await.unwrap();
        let d = db.collection("c").await.unwrap();
        for chunk in recs[..6_000].chunks(3_000) {
            d.upsert(chunk).await.unwrap();
        }
        d.compact(&small(piece)).await.unwrap();
        for chunk in recs[6_000..].chunks(3_000) {
            d.upsert(chunk).await.unwrap();
        }
        d.compact(&small(piece)).await.unwrap();
        assert_eq!(d.snapshot().segments.len(), 4);
        let mut first_only = Vec::new();
        for r in [0.8, 0.9, 0.99] {
            first_only.push(recall_on(&d, &queries, r).await);
        }
        // Every target met across the four segments; trained on the first merge alone, the
        // partitions fit the unseen clusters worse (measured: 0.9295 vs 0.877 at recall 0.8).
        for (i, target) in [0.8, 0.9, 0.99].into_iter().enumerate() {
            assert!(sampled[i] >= target, "asked for {target}: {} ({sampled:?})", sampled[i]);
        }
        assert!(first_only[0] + 0.02 < sampled[0], "control {first_only:?} vs sampled {sampled:?}");
    });
}

/// The v3 partitioning ids (and the rows each was trained for) of the listed segments.
async fn partitionings(c: &Collection, mem: &Arc<MemoryKv>) -> Vec<Option<(uuid::Uuid, u32)>> {
    let s = Storage::new(mem.clone() as Arc<dyn Kv>);
    let m = c.snapshot();
    let mut out = Vec::new();
    for d in &m.segments {
        let seg = s.load_segment(&m, d).await.unwrap();
        out.push(seg.index.as_ref().and_then(|i| i.shared.id.map(|id| (id, i.shared.trained_rows))));
    }
    out
}

#[test]
fn a_collection_that_outgrew_its_partitioning_is_retrained_segment_by_segment() {
    run(async {
        let mem = Arc::new(MemoryKv::new());
        let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
        db.create_collection("c", DIM as u32, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let recs = clustered(IVF_MIN_ROWS + 30_000 + 100, 31);
        let (recs, queries) = recs.split_at(IVF_MIN_ROWS + 30_000);
        for half in recs[..IVF_MIN_ROWS].chunks(IVF_MIN_ROWS / 2) {
            c.upsert(half).await.unwrap();
        }
        c.compact(&CompactOptions { full: true, ..Default::default() }).await.unwrap();
        let first = partitionings(&c, &mem).await;
        let (old, trained) = first[0].expect("the first merge trains");
        assert_eq!(trained as usize, IVF_MIN_ROWS);
        // 4.6x the rows, merged under a budget of two fresh pieces: no merge covers them all.
        for chunk in recs[IVF_MIN_ROWS..].chunks(3_000) {
            c.upsert(chunk).await.unwrap();
        }
        let piece = c.snapshot().segments.last().unwrap().size_bytes;
        let o = CompactOptions { full: true, max_input_bytes: piece * 21 / 10, max_rounds: 16, ..Default::default() };
        c.compact(&o).await.unwrap();
        let after = partitionings(&c, &mem).await;
        let ids: HashSet<uuid::Uuid> = after.iter().flatten().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), 1, "one partitioning after the retrain: {after:?}");
        assert!(!ids.contains(&old), "the outgrown partitioning is still in use: {after:?}");
        assert!(after.iter().all(Option::is_some), "a segment was left unindexed: {after:?}");
        assert!(after.iter().flatten().all(|(_, t)| *t as usize == recs.len()), "{after:?}");
        // Nothing lost, and recall held at the default target.
        assert_eq!(c.count().await.unwrap(), recs.len());
        let mut found = 0;
        for q in queries {
            let want = ids_of(&c, &q.vector, ScanMode::Exact).await;
            found +=
                ids_of(&c, &q.vector, ScanMode::Ann { probes: None, prune: true }).await.intersection(&want).count();
        }
        let recall = found as f64 / (queries.len() * 10) as f64;
        assert!(recall >= 0.97, "recall@10 {recall}");
        // A second full compaction finds nothing outgrown: no rewrite.
        let r = c.compact(&o).await.unwrap();
        assert_eq!(r.merges, 0, "{r:?}");
    });
}
