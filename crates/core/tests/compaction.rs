//! Compaction: merges preserve newest-wins and delete semantics exactly, never lose or block a
//! concurrent write, survive a crash at every step, and hand replaced segments to GC only after
//! the readers' retention.

// Storage holds `Arc<dyn Kv>` whose stores need not be Send (browser stores hold JS values).
#![allow(clippy::arc_with_non_send_sync)]

mod common;

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use akidb_core::kv::{Kv, KvError, MemoryKv};
use akidb_core::retry::{Clock, ManualClock};
use akidb_core::search::exec::{SearchHit, SearchOptions};
use akidb_core::storage::{compaction_plan, CompactOptions};
use akidb_core::testkit::{Action, Call, InstrumentedKv};
use akidb_core::{Database, Distance, Record, Storage};
use common::{run, Rng};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn full() -> CompactOptions {
    CompactOptions { full: true, ..Default::default() }
}

/// Every live record of collection "c" as a fresh reader sees it: id → (score, metadata).
async fn everything(mem: &Arc<MemoryKv>, query: &[f32]) -> BTreeMap<String, (f32, Option<serde_json::Value>)> {
    let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    let c = db.collection("c").await.unwrap();
    let n = c.count().await.unwrap().max(1);
    let opts = SearchOptions { k: n, include_metadata: true, ..Default::default() };
    let hits: Vec<SearchHit> = c.search(query, &opts).await.unwrap();
    assert_eq!(hits.len(), c.count().await.unwrap());
    hits.into_iter().map(|h| (h.id, (h.score, h.metadata))).collect()
}

fn rec(id: &str, v: Vec<f32>, meta: Option<serde_json::Value>) -> Record {
    Record::new(id, v, meta)
}

/// A collection holding every record shape: metadata and none, overwrites across segments and
/// within one segment (group commit), deletes, deletes of ids never written, delete then
/// re-upsert, sealed segments.
async fn every_shape(s: &Storage, distance: Distance) {
    s.create_collection("c", 3, distance).await.unwrap();
    let mut rng = Rng(7);
    for i in 0..6 {
        let batch: Vec<Record> = (0..5)
            .map(|j| {
                rec(&format!("r{}", (i * 3 + j) % 12), rng.vec(3), (j % 2 == 0).then(|| json!({ "i": i, "j": j })))
            })
            .collect();
        s.write_segment_with_data("c", &batch).await.unwrap();
    }
    // An id twice in one segment (two group-commit batches): the later one wins.
    let a = [rec("dup", vec![1.0, 0.0, 0.0], Some(json!({ "v": 1 })))];
    let b = [rec("dup", vec![0.0, 1.0, 0.0], Some(json!({ "v": 2 })))];
    s.write_segment_batches("c", &[&a, &b]).await.unwrap();
    s.delete_records("c", &["r1".into(), "r5".into(), "never-written".into(), "nope".into()]).await.unwrap();
    s.write_segment_with_data("c", &[rec("r5", vec![0.5, 0.5, 0.5], Some(json!({ "back": true })))]).await.unwrap();
    let m = s.load_manifest("c").await.unwrap();
    s.seal_segment("c", &m.segments[1].id).await.unwrap();
}

#[test]
fn full_compaction_preserves_every_record_shape_exactly() {
    for distance in [Distance::Cosine, Distance::L2, Distance::Dot] {
        let mem = Arc::new(MemoryKv::new());
        let s = Storage::new(mem.clone() as Arc<dyn Kv>);
        run(async {
            every_shape(&s, distance).await;
            let q = [0.3, -0.2, 0.9];
            let before = everything(&mem, &q).await;
            let m0 = s.load_manifest("c").await.unwrap();
            let r = s.compact("c", &full()).await.unwrap();
            let m = s.load_manifest("c").await.unwrap();
            assert_eq!(everything(&mem, &q).await, before, "{distance:?}: same records, scores and metadata");
            assert_eq!((r.merges, m.segments.len(), m.tombstones.len()), (1, 1, 0), "{distance:?}");
            assert_eq!(r.segments_before, m0.segments.len());
            assert_eq!(r.tombstones_retired, 4);
            let stored: u64 = m0.segments.iter().map(|d| d.record_count).sum();
            assert_eq!(r.records_dropped, stored - before.len() as u64);
            assert_eq!((m.total_vectors, m.segments[0].record_count), (before.len() as u64, before.len() as u64));
            assert_eq!(m.version, m0.version + 1, "one commit");
            assert_eq!(m.retired.len(), m0.segments.len(), "inputs retired, not yet deleted");
            assert_eq!(before.get("dup").unwrap().1, Some(json!({ "v": 2 })));
            assert!(!before.contains_key("r1") && before.contains_key("r5"));
        });
    }
}

#[test]
fn the_policy_keeps_segments_logarithmic_and_merges_contiguous_runs() {
    let mem = Arc::new(MemoryKv::new());
    let s = Storage::new(mem.clone() as Arc<dyn Kv>);
    run(async {
        s.create_collection("c", 2, Distance::L2).await.unwrap();
        let mut max_segments = 0;
        for i in 0..300 {
            s.write_segment_with_data("c", &[rec(&format!("k{}", i % 200), vec![i as f32, 1.0], None)]).await.unwrap();
            let r = s.compact("c", &CompactOptions { auto: true, ..Default::default() }).await.unwrap();
            max_segments = max_segments.max(r.segments_after);
            let m = s.load_manifest("c").await.unwrap();
            assert!(m.segments.windows(2).all(|w| w[0].seq < w[1].seq), "segments stay in commit order");
        }
        eprintln!("300 single-record commits with auto compaction: at most {max_segments} segments");
        assert!(max_segments < 8 + 10, "bounded: {max_segments}");
        let m = s.load_manifest("c").await.unwrap();
        assert_eq!(everything(&mem, &[1.0, 0.0]).await.len(), 200);
        assert!(
            compaction_plan(&m, &CompactOptions { auto: true, ..Default::default() }).is_none()
                || m.segments.len() >= 8
        );
    });
}

/// A write, a delete and a seal that land between compaction's read and its commit are kept:
/// the mutator rebases; a record deleted meanwhile stays deleted.
#[test]
fn compaction_rebases_onto_writes_that_land_meanwhile() {
    let mem = Arc::new(MemoryKv::new());
    let kv = Arc::new(InstrumentedKv::new(mem.clone()));
    // A virtual clock: the lost race's backoff must not wait on a real timer (block_on on wasm).
    let compactor = Storage::new(kv.clone() as Arc<dyn Kv>).with_clock(Arc::new(ManualClock::new()) as Arc<dyn Clock>);
    let other = Rc::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    run(async {
        other.create_collection("c", 2, Distance::L2).await.unwrap();
        for i in 0..4 {
            other.write_segment_with_data("c", &[rec(&format!("a{i}"), vec![1.0, i as f32], None)]).await.unwrap();
        }
        let o = other.clone();
        let mut raced = false;
        kv.script(move |call| {
            if call.is_manifest_put() && !raced {
                raced = true;
                let o = o.clone();
                return Action::RunFirst(Box::pin(async move {
                    o.write_segment_with_data("c", &[rec("new", vec![2.0, 2.0], None)]).await.unwrap();
                    o.delete_records("c", &["a2".into()]).await.unwrap();
                    let m = o.load_manifest("c").await.unwrap();
                    o.seal_segment("c", &m.segments[0].id).await.unwrap();
                }));
            }
            Action::Pass
        });
        let r = compactor.compact("c", &CompactOptions { max_rounds: 1, ..full() }).await.unwrap();
        assert_eq!((r.merges, r.superseded), (1, 0));
        let m = other.load_manifest("c").await.unwrap();
        assert_eq!(m.version, 1 + 4 + 3 + 1, "versions dense: every write and the compaction, once each");
        let live = everything(&mem, &[1.0, 0.0]).await;
        let ids: Vec<&str> = live.keys().map(|k| k.as_str()).collect();
        assert_eq!(ids, ["a0", "a1", "a3", "new"]);
        assert_eq!(m.segments.len(), 2, "the output and the segment written meanwhile");
    });
}

#[test]
fn two_compactors_at_once_one_wins_the_other_leaves_an_orphan_for_gc() {
    let mem = Arc::new(MemoryKv::new());
    let kv = Arc::new(InstrumentedKv::new(mem.clone()));
    let first = Storage::new(kv.clone() as Arc<dyn Kv>).with_clock(Arc::new(ManualClock::new()) as Arc<dyn Clock>);
    let second = Rc::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    run(async {
        second.create_collection("c", 2, Distance::L2).await.unwrap();
        for i in 0..5 {
            second.write_segment_with_data("c", &[rec(&format!("a{i}"), vec![1.0, i as f32], None)]).await.unwrap();
        }
        let s2 = second.clone();
        let mut raced = false;
        kv.script(move |call| {
            if call.is_manifest_put() && !raced {
                raced = true;
                let s2 = s2.clone();
                return Action::RunFirst(Box::pin(async move {
                    assert_eq!(s2.compact("c", &full()).await.unwrap().merges, 1);
                }));
            }
            Action::Pass
        });
        let r = first.compact("c", &CompactOptions { max_rounds: 1, ..full() }).await.unwrap();
        assert_eq!((r.merges, r.superseded), (0, 1));
        let m = second.load_manifest("c").await.unwrap();
        assert_eq!((m.segments.len(), m.version), (1, 7));
        assert_eq!(everything(&mem, &[1.0, 0.0]).await.len(), 5);
        // The loser's output is never listed: two GC passes delete it, and the retired inputs.
        let objects = || async { mem.list("collections/c/1/segments/").await.unwrap().len() };
        assert_eq!(objects().await, 1 + 5 + 1);
        second.collect_garbage("c").await.unwrap();
        assert_eq!(objects().await, 7, "retention: nothing deleted after one pass");
        second.collect_garbage("c").await.unwrap();
        assert_eq!(objects().await, 1, "only the listed output is left");
        assert!(second.load_manifest("c").await.unwrap().retired.is_empty());
        assert_eq!(everything(&mem, &[1.0, 0.0]).await.len(), 5);
    });
}

/// Kills the compaction at its k-th store call (for every k it makes): the collection stays
/// readable with the same content, and a later compaction completes.
#[test]
fn a_crash_at_every_step_of_compaction_leaves_a_readable_collection() {
    let mut steps = 0;
    for k in 0.. {
        let mem = Arc::new(MemoryKv::new());
        let kv = Arc::new(InstrumentedKv::new(mem.clone()));
        let plain = Storage::new(mem.clone() as Arc<dyn Kv>);
        let crashing = Storage::new(kv.clone() as Arc<dyn Kv>)
            .with_retry_policy(akidb_core::RetryPolicy { max_retries: 0, ..akidb_core::RetryPolicy::seed() });
        let finished = run(async {
            every_shape(&plain, Distance::L2).await;
            let q = [0.3, -0.2, 0.9];
            let before = everything(&mem, &q).await;
            let mut n = 0;
            kv.script(move |_c: &Call| {
                n += 1;
                if n == k + 1 {
                    Action::Fail(KvError::Backend("process killed (injected)".into()))
                } else if n > k + 1 {
                    Action::Hang
                } else {
                    Action::Pass
                }
            });
            let opts = full();
            let crashed = futures::future::select(
                Box::pin(crashing.compact("c", &opts)),
                Box::pin(async {
                    // The "process" stops at the crash: once the store hangs, give up on it.
                    for _ in 0..1000 {
                        futures::future::ready(()).await;
                    }
                }),
            )
            .await;
            let finished = matches!(&crashed, futures::future::Either::Left((Ok(r), _)) if r.merges == 1);
            drop(crashed);
            assert_eq!(everything(&mem, &q).await, before, "crash at step {k}: content unchanged");
            assert_eq!(
                plain.compact("c", &full()).await.unwrap().segments_after,
                1,
                "step {k}: compaction completes later"
            );
            assert_eq!(everything(&mem, &q).await, before);
            for _ in 0..2 {
                plain.collect_garbage("c").await.unwrap();
            }
            assert_eq!(everything(&mem, &q).await, before);
            finished
        });
        if finished {
            break;
        }
        steps += 1;
    }
    eprintln!("compaction crashed at each of its {steps} store calls");
    assert!(steps >= 4);
}

/// A reader whose snapshot still lists segments compaction replaced keeps working through
/// GC's retention, and after it, reloads the manifest instead of failing.
#[test]
fn readers_on_an_older_snapshot_survive_compaction_and_gc() {
    let mem = Arc::new(MemoryKv::new());
    let s = Storage::new(mem.clone() as Arc<dyn Kv>);
    run(async {
        s.create_collection("c", 2, Distance::L2).await.unwrap();
        for i in 0..5 {
            s.write_segment_with_data("c", &[rec(&format!("a{i}"), vec![1.0, i as f32], None)]).await.unwrap();
        }
        let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
        let old = db.collection("c").await.unwrap();
        s.compact("c", &full()).await.unwrap();
        s.collect_garbage("c").await.unwrap();
        assert_eq!(old.count().await.unwrap(), 5, "within retention the old snapshot reads its segments");
        let stale = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>)).collection("c").await.unwrap();
        let m_old = stale.snapshot();
        s.write_segment_with_data("c", &[rec("b", vec![1.0, 9.0], None)]).await.unwrap();
        s.compact("c", &full()).await.unwrap();
        s.collect_garbage("c").await.unwrap();
        s.collect_garbage("c").await.unwrap();
        assert_eq!(stale.snapshot().version, m_old.version, "still on the old snapshot");
        assert_eq!(stale.count().await.unwrap(), 6, "segments gone: reloaded the manifest and read the new ones");
    });
}

/// Deletes of ids never written add tombstones that merges can only retire when the oldest
/// segment is an input; a handle with its segments in memory retires them directly.
#[test]
fn tombstones_that_hide_nothing_are_retired() {
    let mem = Arc::new(MemoryKv::new());
    let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    run(async {
        db.create_collection("c", 2, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        c.upsert(&[rec("a", vec![1.0, 0.0], None), rec("b", vec![0.0, 1.0], None)]).await.unwrap();
        c.delete(&["ghost-1".into(), "ghost-2".into(), "a".into()]).await.unwrap();
        c.upsert(&[rec("c", vec![1.0, 1.0], None)]).await.unwrap();
        assert_eq!(c.count().await.unwrap(), 2, "view built: b, c");
        let r = c.compact(&CompactOptions { max_rounds: 0, ..Default::default() }).await.unwrap();
        assert_eq!((r.merges, r.tombstones_retired), (0, 2), "the ghosts go, the tombstone of a stays");
        let m = c.manifest().await.unwrap();
        assert_eq!(m.tombstones.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert_eq!(everything(&mem, &[1.0, 0.0]).await.keys().cloned().collect::<Vec<_>>(), ["b", "c"]);
    });
}

/// A compaction that merged and then found the tombstones it meant to retire already retired
/// by someone else commits nothing more, so its receipt must still name the merge's version —
/// not the newer version another writer created meanwhile (two receipts naming one version
/// broke the S3 race test's "every receipt names a distinct version" once in CI).
#[test]
fn a_retirement_that_finds_nothing_left_keeps_the_merges_version() {
    let mem = Arc::new(MemoryKv::new());
    let kv = Arc::new(InstrumentedKv::new(mem.clone()));
    let storage = Storage::new(kv.clone() as Arc<dyn Kv>).with_clock(Arc::new(ManualClock::new()) as Arc<dyn Clock>);
    let db = Database::new(storage);
    let other = Rc::new(Database::new(Storage::new(mem.clone() as Arc<dyn Kv>)));
    run(async {
        db.create_collection("c", 2, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        for i in 0..4 {
            c.upsert(&[rec(&format!("a{i}"), vec![1.0, i as f32], None)]).await.unwrap();
        }
        // 1st manifest put (the merge): a ghost delete lands first, so the merge rebases (2nd put)
        // and the ghost's tombstone survives it. 3rd (the retirement): another handle retires the
        // ghost and a writer commits first, so the retirement has nothing left to do.
        let (o, mut puts) = (other.clone(), 0);
        kv.script(move |call| {
            if !call.is_manifest_put() {
                return Action::Pass;
            }
            puts += 1;
            let o = o.clone();
            match puts {
                1 => Action::RunFirst(Box::pin(async move {
                    let h = o.collection("c").await.unwrap();
                    h.delete(&["ghost".into()]).await.unwrap();
                })),
                3 => Action::RunFirst(Box::pin(async move {
                    let h = o.collection("c").await.unwrap();
                    assert_eq!(h.count().await.unwrap(), 4, "view built");
                    let r = h.compact(&CompactOptions { max_rounds: 0, ..Default::default() }).await.unwrap();
                    assert_eq!(r.tombstones_retired, 1, "the other handle retires the ghost");
                    h.upsert(&[rec("late", vec![3.0, 3.0], None)]).await.unwrap();
                })),
                _ => Action::Pass,
            }
        });
        assert_eq!(c.count().await.unwrap(), 4, "view built: the retirement step runs");
        let r = c.compact(&CompactOptions { max_rounds: 1, ..full() }).await.unwrap();
        assert_eq!((r.merges, r.commits, r.tombstones_retired), (1, 1, 0));
        // 1 create + 4 upserts, the ghost delete (6), the merge (7), the other's retirement
        // (8), the late upsert (9).
        assert_eq!(other.collection("c").await.unwrap().manifest().await.unwrap().version, 9);
        assert_eq!(r.version, 7, "the receipt names the merge's own commit");
    });
}
