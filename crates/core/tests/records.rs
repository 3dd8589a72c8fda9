//! Reading records back (`Collection::get`, `Collection::scan`) against a model of what was
//! written: random upserts (ids repeated across and within batches), deletes and compactions,
//! with the snapshot in memory and streamed (snapshot budget 0); vectors must come back
//! bit-exact, newest row winning, deletes hidden; a scan keeps its snapshot while a writer
//! commits; partition-indexed segments read back like any other.

mod common;

use std::collections::BTreeMap;

use akidb_core::collection::records::RowRef;
use akidb_core::limits::MAX_GET_IDS;
use akidb_core::search::filter::Filter;
use akidb_core::storage::CompactOptions;
use akidb_core::{Collection, Database, Distance, Record};
use common::{run, Rng};
use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

type Model = BTreeMap<String, (Vec<f32>, Option<Value>)>;

/// Bit patterns, so -0.0 and 0.0 differ and NaN-free equality is exact.
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

async fn scan_all(c: &Collection, filter: Option<Filter>) -> Model {
    let mut scan = c.scan(filter);
    let mut out = Model::new();
    while let Some((seg, rows)) = scan.next_segment().await.unwrap() {
        for row in rows {
            let r = RowRef { segment: seg.clone(), row: row as usize };
            let prev = out.insert(r.id().to_string(), (r.vector().to_vec(), r.metadata()));
            assert!(prev.is_none(), "scan returned {} twice", r.id());
        }
    }
    out
}

async fn check(c: &Collection, model: &Model, pool: &[String]) {
    let got = c.get(pool).await.unwrap();
    for (id, g) in pool.iter().zip(&got) {
        match (model.get(id), g) {
            (None, None) => {}
            (Some((v, m)), Some(r)) => {
                assert_eq!(r.id(), id);
                assert_eq!(bits(r.vector()), bits(v), "vector of {id}");
                assert_eq!(&r.metadata(), m, "metadata of {id}");
            }
            (want, got) => panic!("{id}: model {:?}, get {:?}", want.is_some(), got.as_ref().map(RowRef::id)),
        }
    }
    let scanned = scan_all(c, None).await;
    assert_eq!(scanned.len(), model.len());
    for (id, (v, m)) in model {
        let (sv, sm) = scanned.get(id).unwrap_or_else(|| panic!("scan misses {id}"));
        assert_eq!(bits(sv), bits(v), "scanned vector of {id}");
        assert_eq!(sm, m);
    }
    assert_eq!(c.count().await.unwrap(), model.len());
}

fn model_run(distance: Distance, budget: Option<u64>, seed: u64) {
    run(async {
        let mut db = Database::memory();
        if let Some(b) = budget {
            db = db.with_snapshot_budget(b);
        }
        let dim = 6;
        db.create_collection("c", dim, distance).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let pool: Vec<String> = (0..120).map(|i| format!("id-{i}")).collect();
        let mut rng = Rng(seed);
        let mut model = Model::new();
        for step in 0..40 {
            match rng.next_u64() % 10 {
                0..=5 => {
                    let n = 1 + (rng.next_u64() % 25) as usize;
                    let mut picked: Vec<&String> =
                        (0..n).map(|_| &pool[(rng.next_u64() % pool.len() as u64) as usize]).collect();
                    picked.sort();
                    picked.dedup(); // one batch may not repeat an id
                    let batch: Vec<Record> = picked
                        .into_iter()
                        .enumerate()
                        .map(|(j, id)| {
                            let mut v = rng.vec(dim as usize);
                            v[0] = if j % 7 == 0 { -0.0 } else { v[0] };
                            let meta = (j % 3 != 0).then(|| json!({ "step": step, "j": j }));
                            Record::new(id, v, meta)
                        })
                        .collect();
                    c.upsert(&batch).await.unwrap();
                    for r in batch {
                        model.insert(r.id.clone(), (r.vector, r.metadata));
                    }
                }
                6..=8 => {
                    let ids: Vec<String> = (0..1 + rng.next_u64() % 10)
                        .map(|_| pool[(rng.next_u64() % pool.len() as u64) as usize].clone())
                        .collect();
                    c.delete(&ids).await.unwrap();
                    for id in &ids {
                        model.remove(id);
                    }
                }
                _ => {
                    c.compact(&CompactOptions { full: true, ..CompactOptions::default() }).await.unwrap();
                }
            }
            check(&c, &model, &pool).await;
        }
        // A second handle (nothing cached by it) reads the same.
        let fresh = db.collection("c").await.unwrap();
        check(&fresh, &model, &pool).await;
    });
}

#[test]
fn get_and_scan_match_the_model_in_memory() {
    for (i, d) in [Distance::L2, Distance::Dot].into_iter().enumerate() {
        model_run(d, None, 11 + i as u64);
    }
}

#[test]
fn get_and_scan_match_the_model_streaming() {
    for (i, d) in [Distance::L2, Distance::Dot].into_iter().enumerate() {
        model_run(d, Some(0), 21 + i as u64);
    }
}

#[test]
fn a_scan_keeps_its_snapshot_while_a_writer_commits() {
    run(async {
        for budget in [None, Some(0)] {
            let mut db = Database::memory();
            if let Some(b) = budget {
                db = db.with_snapshot_budget(b);
            }
            db.create_collection("c", 4, Distance::L2).await.unwrap();
            let c = db.collection("c").await.unwrap();
            for s in 0..4 {
                c.upsert(&common::records(&format!("s{s}-"), 50, 4, s + 1)).await.unwrap();
            }
            if budget.is_none() {
                c.load().await.unwrap();
            }
            let before = scan_all(&c, None).await;
            let mut scan = c.scan(None);
            let first = scan.next_segment().await.unwrap().unwrap();
            // Writes after the scan started: a delete of a row not yet read, a replacement,
            // new rows, and a compaction that rewrites every segment.
            let writer = db.collection("c").await.unwrap();
            writer.delete(&["s0-1".to_string()]).await.unwrap();
            writer.upsert(&common::records("s1-", 5, 4, 99)).await.unwrap();
            writer.upsert(&common::records("new-", 10, 4, 7)).await.unwrap();
            writer.compact(&CompactOptions { full: true, ..CompactOptions::default() }).await.unwrap();
            let mut seen = Model::new();
            let mut take = |seg: &std::rc::Rc<akidb_core::segment::Segment>, rows: Vec<u32>| {
                for row in rows {
                    let r = RowRef { segment: seg.clone(), row: row as usize };
                    seen.insert(r.id().to_string(), (r.vector().to_vec(), r.metadata()));
                }
            };
            take(&first.0, first.1);
            while let Some((seg, rows)) = scan.next_segment().await.unwrap() {
                take(&seg, rows);
            }
            assert_eq!(seen, before, "budget {budget:?}: the scan saw writes made after it started");
            // The handle that wrote sees them.
            let after = scan_all(&writer, None).await;
            assert!(!after.contains_key("s0-1") && after.contains_key("new-3"));
            assert_ne!(bits(&after["s1-2"].0), bits(&before["s1-2"].0));
        }
    });
}

#[test]
fn indexed_segments_read_back_bit_exact() {
    run(async {
        for budget in [None, Some(0)] {
            let mut db = Database::memory();
            if let Some(b) = budget {
                db = db.with_snapshot_budget(b);
            }
            db.create_collection("c", 8, Distance::L2).await.unwrap();
            let c = db.collection("c").await.unwrap();
            let data = common::records("r", 10_000, 8, 5);
            c.upsert(&data).await.unwrap();
            c.upsert(&data[..100]).await.unwrap(); // same rows again: still one each
            c.delete(&["r7".to_string(), "r9999".to_string()]).await.unwrap();
            c.compact(&CompactOptions { full: true, ..CompactOptions::default() }).await.unwrap();
            let m = c.manifest().await.unwrap();
            let seg = db.storage().load_segment(&m, &m.segments[0]).await.unwrap();
            assert!(seg.index.is_some(), "the merge should build a partition index");
            let model: Model = data
                .iter()
                .filter(|r| r.id != "r7" && r.id != "r9999")
                .map(|r| (r.id.clone(), (r.vector.clone(), r.metadata.clone())))
                .collect();
            let ids: Vec<String> = data.iter().map(|r| r.id.clone()).collect();
            check(&c, &model, &ids).await;
            // A filter keeps exactly the matching records.
            let f = Filter::parse(&json!({ "must": [{ "key": "group", "match": 3 }] })).unwrap();
            let only = scan_all(&c, Some(f)).await;
            assert_eq!(only.len(), model.values().filter(|(_, m)| m.as_ref().unwrap()["group"] == 3).count());
            assert!(only.values().all(|(_, m)| m.as_ref().unwrap()["group"] == 3));
        }
    });
}

#[test]
fn get_rejects_bad_ids_and_too_many() {
    run(async {
        let db = Database::memory();
        db.create_collection("c", 2, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        c.upsert(&[Record::new("a", vec![1.0, 2.0], None)]).await.unwrap();
        let too_many: Vec<String> = (0..=MAX_GET_IDS).map(|i| format!("x{i}")).collect();
        assert_eq!(c.get(&too_many).await.err().unwrap().code(), "INVALID_ARGUMENT");
        assert_eq!(c.get(&["".to_string()]).await.err().unwrap().code(), "INVALID_ARGUMENT");
        let got = c.get(&["a".into(), "b".into(), "a".into()]).await.unwrap();
        assert_eq!(
            got.iter().map(|g| g.as_ref().map(|r| r.id().to_string())).collect::<Vec<_>>(),
            [Some("a".to_string()), None, Some("a".to_string())]
        );
        assert!(c.get(&[]).await.unwrap().is_empty());
    });
}

#[test]
fn cosine_unit_vectors_read_back_bit_exact_and_a_round_trip_is_stable() {
    run(async {
        let db = Database::memory();
        db.create_collection("c", 384, Distance::Cosine).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let mut rng = Rng(3);
        let mut unit = Vec::new();
        let mut raw = Vec::new();
        for i in 0..200 {
            let v = rng.vec(384);
            let mut u = v.clone();
            assert!(akidb_core::kernels::normalize(&mut u));
            unit.push(Record::new(format!("u{i}"), u, None));
            raw.push(Record::new(format!("r{i}"), v.iter().map(|x| x * 3.0).collect(), None));
        }
        c.upsert(&unit).await.unwrap();
        c.upsert(&raw).await.unwrap();
        let ids: Vec<String> = unit.iter().map(|r| r.id.clone()).collect();
        for (r, g) in unit.iter().zip(c.get(&ids).await.unwrap()) {
            assert_eq!(bits(g.unwrap().vector()), bits(&r.vector), "unit vector {} changed", r.id);
        }
        // A vector of another length comes back normalised; writing that back (an import, a
        // copy) stores the same bits again.
        let rids: Vec<String> = raw.iter().map(|r| r.id.clone()).collect();
        let stored: Vec<Record> = c.get(&rids).await.unwrap().into_iter().map(|g| g.unwrap().to_record()).collect();
        for (s, r) in stored.iter().zip(&raw) {
            let n: f32 = s.vector.iter().map(|x| x * x).sum();
            assert!((n - 1.0).abs() < 1e-5 && bits(&s.vector) != bits(&r.vector));
        }
        let again: Vec<Record> =
            stored.iter().map(|r| Record::new(format!("again-{}", r.id), r.vector.clone(), None)).collect();
        c.upsert(&again).await.unwrap();
        let aids: Vec<String> = again.iter().map(|r| r.id.clone()).collect();
        for (a, g) in again.iter().zip(c.get(&aids).await.unwrap()) {
            assert_eq!(bits(g.unwrap().vector()), bits(&a.vector), "{} drifted when written again", a.id);
        }
    });
}
