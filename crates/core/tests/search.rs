//! Search semantics through `Database` / `Collection`: exact results against brute force for
//! every distance, upsert / delete / refresh visibility, filters with pre-filtering,
//! argument validation, extreme dimensions, and the recall of the int8 mode.

mod common;

use std::sync::Arc;

use akidb_core::kernels;
use akidb_core::kv::{Kv, MemoryKv};
use akidb_core::limits::MAX_K;
use akidb_core::search::exec::{ScanMode, SearchHit, SearchOptions};
use akidb_core::search::filter::Filter;
use akidb_core::testkit::clustered;
use akidb_core::{Collection, Database, Distance, Record, Storage};
use common::{records, run, Rng};
use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn opts(k: usize) -> SearchOptions {
    SearchOptions { k, ..SearchOptions::default() }
}

fn with_filter(k: usize, filter: Value) -> SearchOptions {
    SearchOptions { k, filter: Some(Filter::parse(&filter).expect("valid filter")), ..SearchOptions::default() }
}

fn int8(k: usize) -> SearchOptions {
    SearchOptions { k, mode: ScanMode::Int8 { oversample: 10 }, ..SearchOptions::default() }
}

fn ids(hits: &[SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.id.as_str()).collect()
}

/// A collection `c` in a fresh memory database, filled with `batches` (one segment each).
async fn collection(db: &Database, dim: u32, distance: Distance, batches: &[Vec<Record>]) -> Collection {
    db.create_collection("c", dim, distance).await.unwrap();
    let c = db.collection("c").await.unwrap();
    for b in batches {
        c.upsert(b).await.unwrap();
    }
    c
}

/// The stored form of a vector: normalised for cosine.
fn stored(distance: Distance, v: &[f32]) -> Vec<f32> {
    let mut v = v.to_vec();
    if distance == Distance::Cosine {
        assert!(kernels::normalize(&mut v));
    }
    v
}

/// Brute force with the engine's own kernel: (id, score) best first, ties by insertion order.
fn brute_force(distance: Distance, data: &[Record], query: &[f32], k: usize) -> Vec<(String, f32)> {
    let q = stored(distance, query);
    let mut all: Vec<(usize, f32)> =
        data.iter().enumerate().map(|(i, r)| (i, kernels::score(distance, &q, &stored(distance, &r.vector)))).collect();
    all.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
    all.truncate(k);
    all.into_iter().map(|(i, s)| (data[i].id.clone(), s)).collect()
}

/// The score definition in f64: cosine similarity, dot product, negative squared L2.
fn reference_score(distance: Distance, a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
    let na: f64 = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    match distance {
        Distance::Cosine => dot / (na * nb),
        Distance::Dot => dot,
        Distance::L2 => -a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>(),
    }
}

#[test]
fn exact_matches_brute_force_for_every_distance() {
    for distance in [Distance::Cosine, Distance::Dot, Distance::L2] {
        for dim in [3usize, 16, 37, 128] {
            let batches: Vec<Vec<Record>> =
                (0..3).map(|b| records(&format!("s{b}-"), 300 + 17 * b, dim, 11 + b as u64)).collect();
            let data: Vec<Record> = batches.concat();
            run(async {
                let db = Database::memory();
                let c = collection(&db, dim as u32, distance, &batches).await;
                let mut rng = Rng(99);
                for qi in 0..8 {
                    let q = rng.vec(dim);
                    for k in [1usize, 10, 100] {
                        let got = c.search(&q, &opts(k)).await.unwrap();
                        let want = brute_force(distance, &data, &q, k);
                        let got: Vec<(String, f32)> = got.into_iter().map(|h| (h.id, h.score)).collect();
                        // Same kernel, same summation order: identical ids and score bits.
                        assert_eq!(got, want, "{distance:?} dim {dim} query {qi} k {k}");
                    }
                    // The score is what the docs say it is.
                    let top = &c.search(&q, &opts(5)).await.unwrap();
                    for h in top {
                        let r = data.iter().find(|r| r.id == h.id).unwrap();
                        let want = reference_score(distance, &q, &r.vector);
                        assert!(
                            (h.score as f64 - want).abs() <= 1e-4 * want.abs().max(1.0),
                            "{distance:?}: score {} vs {want}",
                            h.score
                        );
                    }
                }
            });
        }
    }
}

#[test]
fn exact_is_exact_with_ties_duplicates_and_wide_ranges() {
    // Integer-valued vectors: many exact ties (lower insertion order wins) and duplicates,
    // plus rows of very different magnitudes, where int8 error bounds are loosest.
    let dim = 32;
    let mut rng = Rng(5);
    let mut data = Vec::new();
    for i in 0..600 {
        let v: Vec<f32> = match i % 4 {
            0 => (0..dim).map(|_| (rng.next_u64() % 3) as f32 - 1.0).collect(),
            1 => (0..dim).map(|j| if j == i % dim { 100.0 } else { 0.01 * rng.f32() }).collect(),
            2 => rng.vec(dim).iter().map(|x| x * 1e-3).collect(),
            _ => data.get(i / 2).map(|r: &Record| r.vector.clone()).unwrap_or_else(|| rng.vec(dim)),
        };
        data.push(Record::new(format!("r{i}"), v, None));
    }
    let batches: Vec<Vec<Record>> = data.chunks(150).map(|c| c.to_vec()).collect();
    for distance in [Distance::Dot, Distance::L2, Distance::Cosine] {
        run(async {
            let db = Database::memory();
            let c = collection(&db, dim as u32, distance, &batches).await;
            for qi in 0..12 {
                let q: Vec<f32> = data[qi * 37].vector.iter().map(|x| x + 0.5 * (qi % 3) as f32).collect();
                for k in [1usize, 7, 50] {
                    let got: Vec<(String, f32)> =
                        c.search(&q, &opts(k)).await.unwrap().into_iter().map(|h| (h.id, h.score)).collect();
                    assert_eq!(got, brute_force(distance, &data, &q, k), "{distance:?} query {qi} k {k}");
                }
            }
        });
    }
}

#[test]
fn upsert_replaces_newest_wins() {
    run(async {
        let db = Database::memory();
        let c = collection(&db, 2, Distance::L2, &[]).await;
        c.upsert(&[Record::new("a", vec![0.0, 0.0], Some(json!({"v": 1}))), Record::new("b", vec![5.0, 5.0], None)])
            .await
            .unwrap();
        // Replace "a" far away; the old vector must not be found any more.
        c.upsert(&[Record::new("a", vec![10.0, 10.0], Some(json!({"v": 2})))]).await.unwrap();
        assert_eq!(c.count().await.unwrap(), 2);
        let hits = c.search(&[0.0, 0.0], &SearchOptions { include_metadata: true, ..opts(10) }).await.unwrap();
        assert_eq!(ids(&hits), ["b", "a"]);
        assert_eq!(hits[1].score, -200.0);
        assert_eq!(hits[1].metadata, Some(json!({"v": 2})));
        // Metadata is not returned unless asked for.
        assert_eq!(c.search(&[0.0, 0.0], &opts(1)).await.unwrap()[0].metadata, None);
    });
}

#[test]
fn delete_hides_and_reupsert_revives() {
    run(async {
        let db = Database::memory();
        let batch = records("r", 50, 8, 3);
        let c = collection(&db, 8, Distance::Cosine, std::slice::from_ref(&batch)).await;
        let q = batch[7].vector.clone();
        assert_eq!(c.search(&q, &opts(1)).await.unwrap()[0].id, "r7");
        c.delete(&["r7".into(), "nope".into()]).await.unwrap();
        assert_eq!(c.count().await.unwrap(), 49);
        for mode in [ScanMode::Exact, ScanMode::Int8 { oversample: 10 }] {
            let hits = c.search(&q, &SearchOptions { mode, ..opts(50) }).await.unwrap();
            assert_eq!(hits.len(), 49);
            assert!(!ids(&hits).contains(&"r7"));
        }
        // Writing the id again after the delete brings it back (the newer segment wins).
        c.upsert(&[batch[7].clone()]).await.unwrap();
        assert_eq!(c.count().await.unwrap(), 50);
        assert_eq!(c.search(&q, &opts(1)).await.unwrap()[0].id, "r7");
        // And deleting again hides it again.
        c.delete(&["r7".into()]).await.unwrap();
        assert!(!ids(&c.search(&q, &opts(50)).await.unwrap()).contains(&"r7"));
    });
}

#[test]
fn deletes_are_visible_after_refresh_in_another_instance() {
    let kv = Arc::new(MemoryKv::new());
    let db1 = Database::new(Storage::new(kv.clone() as Arc<dyn Kv>));
    let db2 = Database::new(Storage::new(kv.clone() as Arc<dyn Kv>));
    run(async {
        let batch = records("r", 40, 4, 9);
        let a = collection(&db1, 4, Distance::Dot, std::slice::from_ref(&batch)).await;
        let b = db2.collection("c").await.unwrap();
        let q = batch[3].vector.clone();
        let before = b.search(&q, &opts(40)).await.unwrap();
        assert_eq!(before.len(), 40);
        a.delete(&["r3".into(), "r4".into()]).await.unwrap();
        // b reads its snapshot until it refreshes.
        assert_eq!(b.search(&q, &opts(40)).await.unwrap().len(), 40);
        assert!(b.refresh().await.unwrap());
        let after = b.search(&q, &opts(40)).await.unwrap();
        assert_eq!(after.len(), 38);
        assert!(!ids(&after).contains(&"r3") && !ids(&after).contains(&"r4"));
        assert_eq!(b.count().await.unwrap(), 38);
        // A later upsert in b of a deleted id is seen by a after its refresh.
        b.upsert(&[batch[3].clone()]).await.unwrap();
        a.refresh().await.unwrap();
        assert_eq!(a.search(&q, &opts(1)).await.unwrap()[0].id, "r3");
        assert!(!ids(&a.search(&q, &opts(40)).await.unwrap()).contains(&"r4"));
    });
}

/// Metadata for the filter tests: a category, a number, an optional flag and tags.
fn tagged(n: usize, dim: usize) -> Vec<Record> {
    let mut rng = Rng(77);
    (0..n)
        .map(|i| {
            let cat = ["a", "b", "c", "d"][i % 4];
            let mut m = json!({ "cat": cat, "n": i, "tags": [format!("t{}", i % 5)] });
            if i % 3 == 0 {
                m["flag"] = json!(true);
            }
            Record::new(format!("r{i}"), rng.vec(dim), Some(m))
        })
        .collect()
}

#[test]
fn filters_prefilter_and_return_exactly_k() {
    let dim = 24;
    let data = tagged(400, dim);
    let batches: Vec<Vec<Record>> = data.chunks(100).map(|c| c.to_vec()).collect();
    let pred = |name: &str, r: &Record| -> bool {
        let m = r.metadata.as_ref().unwrap();
        let cat = m["cat"].as_str().unwrap();
        let n = m["n"].as_u64().unwrap();
        let flag = m.get("flag").is_some();
        let tag = m["tags"][0].as_str().unwrap();
        match name {
            "must" => cat == "b",
            "should" => cat == "a" || tag == "t1",
            "must_not" => cat != "a" && cat != "b",
            "range" => (100..150).contains(&n),
            "exists" => flag,
            "combo" => cat == "c" && !flag && (n as f64) > 20.5,
            "none" => false,
            _ => unreachable!(),
        }
    };
    let filters = [
        ("must", json!({"must": [{"key": "cat", "match": "b"}]})),
        ("should", json!({"should": [{"key": "cat", "match": "a"}, {"key": "tags", "match": {"any": ["t1"]}}]})),
        ("must_not", json!({"must_not": [{"key": "cat", "match": {"any": ["a", "b"]}}]})),
        ("range", json!({"must": [{"key": "n", "range": {"gte": 100, "lt": 150}}]})),
        ("exists", json!({"must": [{"key": "flag", "exists": true}]})),
        (
            "combo",
            json!({"must": [{"key": "cat", "match": "c"}, {"key": "n", "range": {"gt": 20.5}}],
                   "must_not": [{"key": "flag", "exists": true}]}),
        ),
        ("none", json!({"must": [{"key": "cat", "match": "zzz"}]})),
    ];
    for distance in [Distance::Cosine, Distance::L2] {
        run(async {
            let db = Database::memory();
            let c = collection(&db, dim as u32, distance, &batches).await;
            let mut rng = Rng(4);
            for (name, f) in &filters {
                let matching: Vec<Record> = data.iter().filter(|r| pred(name, r)).cloned().collect();
                for _ in 0..3 {
                    let q = rng.vec(dim);
                    for k in [1usize, 10, 60] {
                        let want = brute_force(distance, &matching, &q, k);
                        assert_eq!(want.len(), k.min(matching.len()));
                        for mode in [ScanMode::Exact, ScanMode::Int8 { oversample: 10 }] {
                            let o = SearchOptions { mode, include_metadata: true, ..with_filter(k, f.clone()) };
                            let got = c.search(&q, &o).await.unwrap();
                            // Pre-filtering: exactly k whenever at least k records match.
                            assert_eq!(got.len(), k.min(matching.len()), "{name} {mode:?} k {k}");
                            assert!(got.iter().all(|h| pred(name, &Record::new("", vec![], h.metadata.clone()))));
                            if mode == ScanMode::Exact {
                                let got: Vec<(String, f32)> = got.into_iter().map(|h| (h.id, h.score)).collect();
                                assert_eq!(got, want, "{distance:?} {name} k {k}");
                            }
                        }
                    }
                }
            }
            // An empty filter matches everything.
            assert_eq!(c.search(&rng.vec(dim), &with_filter(400, json!({}))).await.unwrap().len(), 400);
        });
    }
}

#[test]
fn repeated_filters_give_the_same_results() {
    // A filter used again on the same snapshot is served from a list of matching rows; more
    // than FILTER_CACHE filters evict older ones; broad filters keep the lazy scan; a new
    // snapshot starts afresh. Every answer must equal brute force over the matching records.
    let dim = 32;
    let data = tagged(600, dim);
    let batches: Vec<Vec<Record>> = data.chunks(200).map(|c| c.to_vec()).collect();
    run(async {
        let db = Database::memory();
        let c = collection(&db, dim as u32, Distance::Cosine, &batches).await;
        let mut live = data.clone();
        let mut rng = Rng(12);
        for round in 0..4 {
            for lo in (0..600).step_by(50).chain([0usize]) {
                // lo = 0 with lt 560: a broad filter (93 % match).
                let hi = if lo == 0 { 560 } else { lo + 40 };
                let f = json!({"must": [{"key": "n", "range": {"gte": lo, "lt": hi}}]});
                let matching: Vec<Record> = live
                    .iter()
                    .filter(|r| (lo..hi).contains(&(r.metadata.as_ref().unwrap()["n"].as_u64().unwrap() as usize)))
                    .cloned()
                    .collect();
                let q = rng.vec(dim);
                for k in [1usize, 10] {
                    for mode in [ScanMode::Exact, ScanMode::Int8 { oversample: 10 }] {
                        let got = c.search(&q, &SearchOptions { mode, ..with_filter(k, f.clone()) }).await.unwrap();
                        let want = brute_force(Distance::Cosine, &matching, &q, k);
                        assert_eq!(got.len(), want.len(), "round {round} lo {lo}");
                        if mode == ScanMode::Exact {
                            let got: Vec<(String, f32)> = got.into_iter().map(|h| (h.id, h.score)).collect();
                            assert_eq!(got, want, "round {round} lo {lo} k {k}");
                        }
                    }
                }
            }
            // A new snapshot: delete some records.
            let gone: Vec<String> = (0..600).filter(|i| i % 7 == round).map(|i| format!("r{i}")).collect();
            c.delete(&gone).await.unwrap();
            live.retain(|r| !gone.contains(&r.id));
        }
    });
}

#[test]
fn filters_skip_deleted_and_replaced_records() {
    run(async {
        let db = Database::memory();
        let data = tagged(100, 8);
        let c = collection(&db, 8, Distance::Dot, std::slice::from_ref(&data)).await;
        let f = json!({"must": [{"key": "cat", "match": "a"}]});
        assert_eq!(c.search(&data[0].vector, &with_filter(100, f.clone())).await.unwrap().len(), 25);
        c.delete(&["r0".into(), "r4".into()]).await.unwrap();
        // r8 moves from category a to b.
        c.upsert(&[Record::new("r8", data[8].vector.clone(), Some(json!({"cat": "b"})))]).await.unwrap();
        let hits = c.search(&data[0].vector, &with_filter(100, f)).await.unwrap();
        assert_eq!(hits.len(), 22);
        assert!(!ids(&hits).iter().any(|id| ["r0", "r4", "r8"].contains(id)));
    });
}

#[test]
fn malformed_filters_are_invalid_argument() {
    for bad in [
        json!([]),
        json!({"must": {"key": "a", "match": 1}}),
        json!({"must": [{"key": "a"}]}),
        json!({"must": [{"match": 1}]}),
        json!({"must": [{"key": "a", "range": {}}]}),
        json!({"must": [{"key": "a", "range": {"gt": "x"}}]}),
        json!({"must": [{"key": "a", "match": 1, "range": {"gt": 0}}]}),
        json!({"must": [{"key": "a", "exists": "yes"}]}),
        json!({"must": [{"key": "", "match": 1}]}),
        json!({"filter": []}),
        json!({"must": [{"key": "a", "match": [1, 2]}]}),
    ] {
        let e = Filter::parse(&bad).unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT", "{bad}");
        assert!(e.to_string().contains("filter"), "message names the filter: {e}");
    }
}

#[test]
fn invalid_queries_are_invalid_argument() {
    run(async {
        let db = Database::memory();
        let c = collection(&db, 4, Distance::Cosine, &[records("r", 20, 4, 1)]).await;
        let q = [0.1f32, 0.2, 0.3, 0.4];
        let cases: Vec<(Vec<f32>, usize)> = vec![
            (vec![0.1, 0.2, 0.3], 10),
            (vec![0.1, 0.2, 0.3, 0.4, 0.5], 10),
            (vec![], 10),
            (vec![0.1, f32::NAN, 0.3, 0.4], 10),
            (vec![0.1, f32::INFINITY, 0.3, 0.4], 10),
            (vec![0.0; 4], 10), // zero vector: no cosine similarity
            (q.to_vec(), 0),
            (q.to_vec(), MAX_K + 1),
        ];
        for (query, k) in cases {
            for mode in [ScanMode::Exact, ScanMode::Int8 { oversample: 4 }] {
                let e = c.search(&query, &SearchOptions { mode, ..opts(k) }).await.unwrap_err();
                assert_eq!(e.code(), "INVALID_ARGUMENT", "{query:?} k={k}");
            }
        }
        // k = MAX_K is allowed, and returns every live record when there are fewer.
        assert_eq!(c.search(&q, &opts(MAX_K)).await.unwrap().len(), 20);
    });
}

#[test]
fn dimension_one_and_4096() {
    run(async {
        let db = Database::memory();
        let c = collection(&db, 1, Distance::L2, &[]).await;
        let data: Vec<Record> = (0..30).map(|i| Record::new(format!("r{i}"), vec![i as f32], None)).collect();
        c.upsert(&data).await.unwrap();
        for mode in [ScanMode::Exact, ScanMode::Int8 { oversample: 2 }] {
            let hits = c.search(&[10.2], &SearchOptions { mode, ..opts(3) }).await.unwrap();
            assert_eq!(ids(&hits), ["r10", "r11", "r9"]);
        }

        let dim = 4096;
        let big = records("b", 24, dim, 21);
        db.create_collection("big", dim as u32, Distance::Cosine).await.unwrap();
        let c = db.collection("big").await.unwrap();
        c.upsert(&big[..12]).await.unwrap();
        c.upsert(&big[12..]).await.unwrap();
        for (i, r) in big.iter().enumerate().step_by(5) {
            let hits = c.search(&r.vector, &opts(3)).await.unwrap();
            assert_eq!(hits[0].id, format!("b{i}"));
            assert!((hits[0].score - 1.0).abs() < 1e-5);
            assert_eq!(
                hits.iter().map(|h| (h.id.clone(), h.score)).collect::<Vec<_>>(),
                brute_force(Distance::Cosine, &big, &r.vector, 3)
            );
        }
        let e = c.search(&vec![0.5; 4095], &opts(1)).await.unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
    });
}

#[test]
fn int8_recall_at_10_on_clustered_data() {
    let (n, dim, queries) = (3000, 64, 60);
    // Clustered unit vectors: the shape of real embeddings.
    let mut vectors = clustered(n + queries, dim, 40, 0.35, 17);
    for v in &mut vectors {
        kernels::normalize(v);
    }
    let data: Vec<Record> =
        vectors[..n].iter().enumerate().map(|(i, v)| Record::new(format!("r{i}"), v.clone(), None)).collect();
    let batches: Vec<Vec<Record>> = data.chunks(1000).map(|c| c.to_vec()).collect();
    for distance in [Distance::Cosine, Distance::L2, Distance::Dot] {
        run(async {
            let db = Database::memory();
            let c = collection(&db, dim as u32, distance, &batches).await;
            let mut found = 0;
            for q in &vectors[n..] {
                let exact = c.search(q, &opts(10)).await.unwrap();
                let approx = c.search(q, &int8(10)).await.unwrap();
                assert_eq!(approx.len(), 10);
                found += approx.iter().filter(|h| exact.iter().any(|e| e.id == h.id)).count();
                // Re-ranked scores are exact f32 scores.
                for h in &approx {
                    if let Some(e) = exact.iter().find(|e| e.id == h.id) {
                        assert_eq!(e.score, h.score);
                    }
                }
            }
            let recall = found as f64 / (queries * 10) as f64;
            assert!(recall >= 0.99, "{distance:?}: int8 recall@10 {recall}");
        });
    }
}

#[test]
fn empty_collection_and_k_larger_than_collection() {
    run(async {
        let db = Database::memory();
        let c = collection(&db, 16, Distance::Dot, &[]).await;
        assert!(c.search(&[1.0; 16], &opts(10)).await.unwrap().is_empty());
        c.upsert(&records("r", 5, 16, 2)).await.unwrap();
        for mode in [ScanMode::Exact, ScanMode::Int8 { oversample: 1 }] {
            assert_eq!(c.search(&[1.0; 16], &SearchOptions { mode, ..opts(10) }).await.unwrap().len(), 5);
        }
        c.delete(&(0..5).map(|i| format!("r{i}")).collect::<Vec<_>>()).await.unwrap();
        assert!(c.search(&[1.0; 16], &opts(10)).await.unwrap().is_empty());
    });
}
