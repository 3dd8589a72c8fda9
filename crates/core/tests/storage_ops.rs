//! Storage operations on MemoryKv: the seed's operations, validation that writes nothing,
//! corruption detection, retry exhaustion on a virtual clock, ambiguous outcomes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, MemoryKv, PutCondition};
use akidb_core::retry::{Clock, ManualClock, RetryPolicy};
use akidb_core::{Distance, Record, SegmentState, Storage};
use common::{memory_storage, records, run};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn create_list_load_drop() {
    let (kv, s) = memory_storage();
    run(async {
        s.create_collection("b", 3, Distance::L2).await.unwrap();
        s.create_collection("a", 4, Distance::Cosine).await.unwrap();
        let e = s.create_collection("a", 4, Distance::Cosine).await.unwrap_err();
        assert_eq!(e.code(), "ALREADY_EXISTS");
        let names: Vec<_> = s.list_collections().await.unwrap().into_iter().map(|m| m.collection).collect();
        assert_eq!(names, ["a", "b"]);
        let m = s.load_manifest("b").await.unwrap();
        assert_eq!((m.dimension, m.distance, m.version), (3, Distance::L2, 1));
        s.write_segment_with_data("b", &records("r", 5, 3, 1)).await.unwrap();
        assert_eq!(kv.list("collections/b/1/segments/").await.unwrap().len(), 1);
        s.drop_collection("b").await.unwrap();
        assert_eq!(
            kv.list("collections/b/").await.unwrap(),
            ["collections/b/manifest.json"],
            "drop leaves only the manifest's tombstone behind"
        );
        assert_eq!(s.list_collections().await.unwrap().len(), 1, "dropped collections are not listed");
        assert_eq!(s.load_manifest("b").await.unwrap_err().code(), "NOT_FOUND");
        assert_eq!(s.drop_collection("b").await.unwrap_err().code(), "NOT_FOUND");
    });
}

#[test]
fn manifest_json_is_readable_at_the_documented_key() {
    let (kv, s) = memory_storage();
    run(async {
        s.create_collection("docs", 8, Distance::Dot).await.unwrap();
        let raw = kv.get("collections/docs/manifest.json").await.unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&raw.value).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["dimension"], 8);
        assert_eq!(v["distance"], "dot");
    });
}

#[test]
fn legacy_manifest_without_version_loads_as_1_and_can_be_committed_on() {
    let (kv, s) = memory_storage();
    run(async {
        let fixture = include_bytes!("fixtures/legacy_manifest.json").to_vec();
        kv.put("collections/legacy_docs/manifest.json", fixture, PutCondition::Any).await.unwrap();
        let m = s.load_manifest("legacy_docs").await.unwrap();
        assert_eq!(m.version, 1);
        let id = m.segments[0].id;
        let r = s.seal_segment("legacy_docs", &id).await.unwrap();
        assert_eq!(r.version, 2);
        let m = s.load_manifest("legacy_docs").await.unwrap();
        assert_eq!(m.segment(&id).unwrap().state, SegmentState::Sealed);
    });
}

#[test]
fn write_segment_then_seal() {
    let (_kv, s) = memory_storage();
    run(async {
        s.create_collection("c", 3, Distance::L2).await.unwrap();
        let r = s.write_segment_with_data("c", &records("x", 10, 3, 2)).await.unwrap();
        assert_eq!((r.version, r.retries, r.committed), (2, 0, true));
        let id = r.segment_id.unwrap();
        let m = s.load_manifest("c").await.unwrap();
        let d = m.segment(&id).unwrap();
        assert_eq!((d.record_count, d.dimension, d.state), (10, 3, SegmentState::Active));
        assert_eq!(m.total_vectors, 10);
        let seg = s.load_segment(&m, d).await.unwrap();
        assert_eq!(&seg.ids[3], "x3");
        assert_eq!(seg.metadata.value(3), Some(json!({"i": 3, "group": 3})));
        let sealed = s.seal_segment("c", &id).await.unwrap();
        assert_eq!((sealed.version, sealed.committed), (3, true));
        let again = s.seal_segment("c", &id).await.unwrap();
        assert_eq!((again.version, again.committed), (3, false), "sealing twice commits nothing");
        let e = s.seal_segment("c", &uuid_of(7)).await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND");
    });
}

fn uuid_of(n: u8) -> uuid::Uuid {
    uuid::Uuid::from_bytes([n; 16])
}

#[test]
fn cosine_vectors_are_normalised_at_insert() {
    let (_kv, s) = memory_storage();
    run(async {
        s.create_collection("c", 2, Distance::Cosine).await.unwrap();
        s.write_segment_with_data("c", &[Record::new("a", vec![3.0, 4.0], None)]).await.unwrap();
        let m = s.load_manifest("c").await.unwrap();
        let seg = s.load_segment(&m, &m.segments[0]).await.unwrap();
        assert!((seg.vectors[0] - 0.6).abs() < 1e-6 && (seg.vectors[1] - 0.8).abs() < 1e-6);
        let e = s.write_segment_with_data("c", &[Record::new("z", vec![0.0, 0.0], None)]).await.unwrap_err();
        assert!(e.to_string().contains("zero vector"), "{e}");
    });
}

#[test]
fn persist_manifest_with_check_is_conditional() {
    let (_kv, s) = memory_storage();
    run(async {
        s.create_collection("c", 3, Distance::L2).await.unwrap();
        let mut m = s.load_manifest("c").await.unwrap();
        m.version = 2;
        s.persist_manifest_with_check(&m, 1).await.unwrap();
        assert_eq!(s.load_manifest("c").await.unwrap().version, 2);
        // A writer still holding version 1 loses, with the seed's exact message.
        let mut stale = m.clone();
        stale.version = 2;
        let e = s.persist_manifest_with_check(&stale, 1).await.unwrap_err();
        assert_eq!(e.code(), "CONFLICT");
        assert_eq!(e.to_string(), "Manifest version mismatch: expected 1, found 2. Retry operation.");
        assert_eq!(s.metrics().snapshot().manifest_conflict_failures_total, 1);
        let e = s.persist_manifest_with_check(&stale, 2).await.unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT", "new version must exceed expected");
    });
}

#[test]
fn bad_input_writes_nothing() {
    let (kv, s) = memory_storage();
    run(async {
        for name in ["", "a/b", "..", "x..y", "ctl\u{7}", &"n".repeat(129)] {
            let e = s.create_collection(name, 3, Distance::L2).await.unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT", "{name:?}");
        }
        for dim in [0, 4097] {
            let e = s.create_collection("c", dim, Distance::L2).await.unwrap_err();
            assert!(e.to_string().contains(&dim.to_string()), "{e}");
        }
        assert!(kv.is_empty(), "rejected creates wrote nothing");
        s.create_collection("c", 3, Distance::L2).await.unwrap();
        let before = kv.dump();
        let good = || Record::new("ok", vec![1.0, 2.0, 3.0], None);
        let cases: Vec<(Vec<Record>, &str)> = vec![
            (vec![good(), Record::new("short", vec![1.0], None)], "record 1 (id \"short\"): vector has dimension 1"),
            (vec![Record::new("nan", vec![1.0, f32::NAN, 0.0], None)], "vector[1] is NaN"),
            (vec![Record::new("inf", vec![f32::NEG_INFINITY, 0.0, 0.0], None)], "vector[0] is -inf"),
            (vec![], "batch is empty"),
            (vec![good(), good()], "record 1 (id \"ok\"): duplicate id"),
            (vec![Record::new("m", vec![1.0, 2.0, 3.0], Some(json!("str")))], "metadata must be a JSON object"),
        ];
        for (batch, needle) in cases {
            let e = s.write_segment_with_data("c", &batch).await.unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert!(e.to_string().contains(needle), "{e} should contain {needle}");
            assert_eq!(kv.dump(), before, "a rejected batch changed the store ({needle})");
        }
        assert_eq!(s.write_segment_with_data("nope", &[good()]).await.unwrap_err().code(), "NOT_FOUND");
        assert_eq!(s.delete_records("c", &[]).await.unwrap_err().code(), "INVALID_ARGUMENT");
        assert_eq!(kv.dump(), before);
    });
}

#[test]
fn corrupt_segment_objects_are_detected() {
    let (kv, s) = memory_storage();
    run(async {
        s.create_collection("c", 3, Distance::L2).await.unwrap();
        let r = s.write_segment_with_data("c", &records("x", 4, 3, 3)).await.unwrap();
        let m = s.load_manifest("c").await.unwrap();
        let key = s.segment_key("c", m.incarnation, m.segment(&r.segment_id.unwrap()).unwrap());
        let mut bytes = kv.get(&key).await.unwrap().unwrap().value;
        bytes[30] ^= 0x40;
        kv.put(&key, bytes.clone(), PutCondition::Any).await.unwrap();
        assert_eq!(s.load_segment(&m, &m.segments[0]).await.unwrap_err().code(), "CORRUPT");
        kv.put(&key, bytes[..20].to_vec(), PutCondition::Any).await.unwrap();
        assert_eq!(s.load_segment(&m, &m.segments[0]).await.unwrap_err().code(), "CORRUPT");
        kv.delete(&key).await.unwrap();
        assert_eq!(s.load_segment(&m, &m.segments[0]).await.unwrap_err().code(), "CORRUPT");
        kv.put("collections/c/manifest.json", b"{ not json".to_vec(), PutCondition::Any).await.unwrap();
        assert_eq!(s.load_manifest("c").await.unwrap_err().code(), "CORRUPT");
    });
}

fn always_conflicting(clock: Arc<ManualClock>, policy: RetryPolicy) -> (Arc<MemoryKv>, Storage) {
    let mem = Arc::new(MemoryKv::new());
    let chaos = ChaosKv::new(
        mem.clone(),
        ChaosConfig { max_delay: Duration::ZERO, always_conflict: true, ..Default::default() },
    );
    let s = Storage::new(Arc::new(chaos) as Arc<dyn Kv>).with_clock(clock as Arc<dyn Clock>).with_retry_policy(policy);
    (mem, s)
}

#[test]
fn retry_exhaustion_follows_the_seed_schedule() {
    let clock = Arc::new(ManualClock::new());
    let (mem, s) = always_conflicting(clock.clone(), RetryPolicy::seed());
    run(async {
        s.create_collection("c", 3, Distance::L2).await.unwrap();
        let e = s.write_segment_with_data("c", &records("x", 2, 3, 4)).await.unwrap_err();
        assert_eq!(e.code(), "CONFLICT");
        assert_eq!(
            e.to_string(),
            "Manifest version mismatch: expected 1, found 1. Retry operation. \
             Gave up after 10 retries in 10230 ms (limits: 10 retries, time limit none)."
        );
        let ms: Vec<u128> = clock.sleeps().iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120], "exactly max_retries backoffs");
        let m = s.metrics().snapshot();
        assert_eq!(m.manifest_conflict_retries_total, 10);
        assert_eq!(m.manifest_conflict_failures_total, 1);
        assert_eq!(m.manifest_commits_total, 0);
        // The segment object is an orphan; the manifest never listed it.
        assert_eq!(s.load_manifest("c").await.unwrap().segments.len(), 0);
        assert_eq!(mem.list("collections/c/1/segments/").await.unwrap().len(), 1);
    });
}

#[test]
fn retries_are_also_bounded_by_time() {
    let clock = Arc::new(ManualClock::new());
    let policy = RetryPolicy { max_elapsed: Some(Duration::from_millis(100)), ..RetryPolicy::seed() };
    let (_mem, s) = always_conflicting(clock.clone(), policy);
    run(async {
        s.create_collection("c", 3, Distance::L2).await.unwrap();
        let id = s.write_segment_with_data("c", &records("x", 1, 3, 4)).await.unwrap_err();
        assert_eq!(id.code(), "CONFLICT");
        // 10 + 20 + 40 = 70 ms < 100; after 80 more the budget is spent.
        let ms: Vec<u128> = clock.sleeps().iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![10, 20, 40, 80]);
    });
}

#[test]
fn ambiguous_put_that_landed_is_not_applied_twice() {
    let mem = Arc::new(MemoryKv::new());
    let chaos =
        ChaosKv::new(mem.clone(), ChaosConfig { max_delay: Duration::ZERO, fail_after_put: 1.0, ..Default::default() });
    let clock = Arc::new(ManualClock::new());
    let s = Storage::new(Arc::new(chaos) as Arc<dyn Kv>).with_clock(clock as Arc<dyn Clock>);
    let plain = Storage::new(mem.clone() as Arc<dyn Kv>);
    run(async {
        plain.create_collection("c", 3, Distance::L2).await.unwrap();
        // Every put's answer is lost, though every put lands.
        let r = s.write_segment_with_data("c", &records("x", 3, 3, 5)).await.unwrap();
        let m = plain.load_manifest("c").await.unwrap();
        assert_eq!(m.version, 2, "exactly one commit");
        assert_eq!(m.segments.len(), 1);
        assert_eq!(r.version, 2);
        assert_eq!(mem.list("collections/c/1/segments/").await.unwrap().len(), 1, "segment written once");
        let d = s.delete_records("c", &["x1".into()]).await.unwrap();
        assert_eq!(d.version, 3);
        assert_eq!(plain.load_manifest("c").await.unwrap().version, 3, "delete applied once");
    });
}

#[test]
fn transient_failures_before_the_put_are_retried() {
    let mem = Arc::new(MemoryKv::new());
    let chaos = ChaosKv::new(
        mem.clone(),
        ChaosConfig { max_delay: Duration::ZERO, fail_before_put: 0.5, seed: 11, ..Default::default() },
    );
    let clock = Arc::new(ManualClock::new());
    let s = Storage::new(Arc::new(chaos) as Arc<dyn Kv>)
        .with_clock(clock as Arc<dyn Clock>)
        .with_retry_policy(RetryPolicy { max_retries: 30, ..RetryPolicy::default() });
    run(async {
        Storage::new(mem.clone() as Arc<dyn Kv>).create_collection("c", 3, Distance::L2).await.unwrap();
        for i in 0..20 {
            s.write_segment_with_data("c", &records(&format!("b{i}-"), 2, 3, i + 1)).await.unwrap();
        }
        let m = s.load_manifest("c").await.unwrap();
        assert_eq!(m.segments.len(), 20);
        assert_eq!(m.version, 21);
    });
}

#[test]
fn gc_deletes_only_fenced_off_unreferenced_segments() {
    let clock = Arc::new(ManualClock::new());
    let (mem, failing) = always_conflicting(clock.clone(), RetryPolicy::none());
    let s = Storage::new(mem.clone() as Arc<dyn Kv>).with_clock(clock.clone() as Arc<dyn Clock>);
    run(async {
        s.create_collection("c", 3, Distance::L2).await.unwrap();
        let kept = s.write_segment_with_data("c", &records("a", 2, 3, 1)).await.unwrap();
        // A failed commit leaves an orphan segment object behind.
        assert_eq!(failing.write_segment_with_data("c", &records("b", 2, 3, 2)).await.unwrap_err().code(), "CONFLICT");
        assert_eq!(mem.list("collections/c/1/segments/").await.unwrap().len(), 2);
        let first = s.collect_garbage("c").await.unwrap();
        assert_eq!(
            (first.generation, first.deleted.len(), first.kept_recent),
            (2, 0, 1),
            "one generation back is kept"
        );
        // However much time passes: time decides nothing.
        clock.sleep(Duration::from_secs(30 * 86_400)).await;
        let second = s.collect_garbage("c").await.unwrap();
        assert_eq!((second.generation, second.deleted.len()), (3, 1));
        let left = mem.list("collections/c/1/segments/").await.unwrap();
        let m = s.load_manifest("c").await.unwrap();
        let listed = m.segment(&kept.segment_id.unwrap()).unwrap();
        assert_eq!(left, vec![s.segment_key("c", 1, listed)], "listed segment survives");
        s.load_segment(&m, &m.segments[0]).await.unwrap();
    });
}

/// Get-or-create from many callers at once (two tabs, React StrictMode's double effect): every
/// caller gets the same collection, exactly one manifest exists, and a different spec is
/// ALREADY_EXISTS naming the difference. The interleaving comes from a chaos store whose every
/// call yields to the executor (no timers, so it runs the same on wasm); the negative control is plain
/// `create_collection` under the same schedule, where all but one caller fail.
// Native only: under wasm-bindgen-test the blocking executor cannot fire the JS timers a
// commit retry's backoff waits on, so the race would hang there (the browser suite covers
// concurrent get-or-create on real IndexedDB instead).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn ensure_collection_is_idempotent_under_concurrent_callers() {
    use akidb_core::Database;
    run(async {
        for seed in 1..=5u64 {
            let mem = Arc::new(MemoryKv::new());
            let chaos = ChaosKv::new(
                mem.clone(),
                ChaosConfig { max_delay: Duration::ZERO, yields: 1 + seed as u32, seed, ..ChaosConfig::default() },
            );
            let db = Database::new(Storage::new(Arc::new(chaos) as Arc<dyn Kv>));
            let calls = (0..6).map(|_| db.ensure_collection("docs", 8, Distance::Cosine));
            let infos = futures::future::join_all(calls).await;
            for info in &infos {
                let info = info.as_ref().expect("every concurrent get-or-create succeeds");
                assert_eq!(
                    (info.name.as_str(), info.dimension, info.distance, info.version),
                    ("docs", 8, Distance::Cosine, 1)
                );
            }
            assert_eq!(db.list_collections().await.unwrap().len(), 1);
            // Negative control: the plain create under the same schedule rejects all but one.
            let calls = (0..6).map(|_| db.create_collection("other", 8, Distance::Cosine));
            let results = futures::future::join_all(calls).await;
            let ok = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(ok, 1, "seed {seed}: exactly one plain create wins");
            assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code() == "ALREADY_EXISTS"));
        }
        let db = Database::new(Storage::new(Arc::new(MemoryKv::new()) as Arc<dyn Kv>));
        db.ensure_collection("docs", 8, Distance::Cosine).await.unwrap();
        let e = db.ensure_collection("docs", 16, Distance::L2).await.unwrap_err();
        assert_eq!(e.code(), "ALREADY_EXISTS");
        let msg = e.to_string();
        assert!(msg.contains("dimension 8 (asked: 16)") && msg.contains("distance 'cosine' (asked: 'l2')"), "{msg}");
        // After a drop, get-or-create creates it again (the manifest's tombstone is no obstacle).
        db.drop_collection("docs").await.unwrap();
        assert_eq!(db.ensure_collection("docs", 16, Distance::L2).await.unwrap().dimension, 16);
        // Validation runs first: a bad spec is INVALID_ARGUMENT, not a lookup.
        assert_eq!(db.ensure_collection("docs", 0, Distance::L2).await.unwrap_err().code(), "INVALID_ARGUMENT");
    });
}
