//! Exactly-once under lost answers, intervening commits and failed re-reads: each scenario is an
//! explicit interleaving on a scripted store (`akidb_core::testkit::InstrumentedKv`). On the
//! code before operation ids, each of these lost or hid acknowledged data, or reported a landed
//! commit as failed; the negative control shows the hazard the history guards against.

// Storage holds `Arc<dyn Kv>` whose stores need not be Send (browser stores hold JS values).
#![allow(clippy::arc_with_non_send_sync)]

mod common;

use std::rc::Rc;
use std::sync::Arc;

use akidb_core::kv::{Kv, MemoryKv};
use akidb_core::manifest::OP_HISTORY;
use akidb_core::retry::{Clock, ManualClock};
use akidb_core::search::exec::SearchOptions;
use akidb_core::storage::OperationStatus;
use akidb_core::testkit::{lost_answer, unavailable, Action, InstrumentedKv};
use akidb_core::{Database, Distance, Record, Storage};
use common::run;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

struct Setup {
    mem: Arc<MemoryKv>,
    kv: Arc<InstrumentedKv<Arc<MemoryKv>>>,
    /// The writer under test, on the scripted store, with a virtual clock (backoffs are instant).
    s: Storage,
    /// Another writer on the same data, not scripted.
    other: Rc<Storage>,
}

fn setup() -> Setup {
    let mem = Arc::new(MemoryKv::new());
    let kv = Arc::new(InstrumentedKv::new(mem.clone()));
    let s = Storage::new(kv.clone() as Arc<dyn Kv>).with_clock(Arc::new(ManualClock::new()) as Arc<dyn Clock>);
    let other = Rc::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    Setup { mem, kv, s, other }
}

fn rec(id: &str, v: [f32; 2]) -> Record {
    Record::new(id, v.to_vec(), None)
}

/// Ids a fresh reader sees.
async fn live(mem: &Arc<MemoryKv>) -> Vec<String> {
    let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    let c = db.collection("c").await.unwrap();
    let n = c.count().await.unwrap().max(1);
    let mut ids: Vec<String> = c
        .search(&[1.0, 0.0], &SearchOptions { k: n, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    ids.sort();
    ids
}

/// Another writer: re-inserts "x" (a new version of it), then `n - 1` other records.
async fn other_commits(other: Rc<Storage>, n: usize) {
    other.write_segment_with_data("c", &[rec("x", [0.5, 0.5])]).await.unwrap();
    for i in 1..n {
        other.write_segment_with_data("c", &[rec(&format!("y{i}"), [1.0, 1.0])]).await.unwrap();
    }
}

/// The operation's first manifest put lands but its answer is lost (503 after apply); before
/// it re-reads, `n` other commits land, the first re-inserting "x".
fn lose_answer_then_others_commit(t: &Setup, n: usize) {
    let other = t.other.clone();
    let mut step = 0;
    t.kv.script(move |call| {
        if call.is_manifest_put() && step == 0 {
            step = 1;
            return Action::LoseAnswer(lost_answer());
        }
        if call.is_manifest_get() && step == 1 {
            step = 2;
            return Action::RunFirst(Box::pin(other_commits(other.clone(), n)));
        }
        Action::Pass
    });
}

async fn with_x(t: &Setup) {
    t.other.create_collection("c", 2, Distance::L2).await.unwrap();
    t.other.write_segment_with_data("c", &[rec("x", [1.0, 0.0])]).await.unwrap();
}

#[test]
fn a_lost_delete_answer_followed_by_many_commits_is_resolved_not_reapplied() {
    let t = setup();
    run(async {
        with_x(&t).await;
        let n = OP_HISTORY - 28;
        lose_answer_then_others_commit(&t, n);
        let r = t.s.delete_records("c", &["x".into()]).await.expect("the delete landed: resolved, not failed");
        assert_eq!(r.version, 3, "the receipt names the version the delete created");
        let m = t.other.load_manifest("c").await.unwrap();
        assert_eq!(m.version, 3 + n as u64, "one commit per operation: the delete was not applied twice");
        assert!(live(&t.mem).await.contains(&"x".to_string()), "the upsert of x after the delete stays visible");
    });
}

#[test]
fn beyond_the_history_the_outcome_is_unknown_and_nothing_is_reapplied() {
    let t = setup();
    run(async {
        with_x(&t).await;
        let n = OP_HISTORY + 72;
        lose_answer_then_others_commit(&t, n);
        let e = t.s.delete_records("c", &["x".into()]).await.unwrap_err();
        assert_eq!(e.code(), "OUTCOME_UNKNOWN", "{e}");
        let token = e.operation().expect("carries the operation").to_string();
        assert_eq!(t.other.load_manifest("c").await.unwrap().version, 3 + n as u64, "not re-applied");
        assert!(live(&t.mem).await.contains(&"x".to_string()), "the later upsert of x is not hidden");
        assert_eq!(t.other.operation_status("c", &token).await.unwrap(), OperationStatus::Unknown);
    });
}

/// Negative control: on the same schedule, applying the delete a second time (what the engine
/// did once its 64 commit ids no longer reached back, and what a caller does after an error
/// that hides a landed commit) hides the acknowledged upsert of x.
#[test]
fn negative_control_a_reapplied_delete_hides_the_later_upsert() {
    let t = setup();
    run(async {
        with_x(&t).await;
        lose_answer_then_others_commit(&t, OP_HISTORY + 72);
        let _ = t.s.delete_records("c", &["x".into()]).await;
        t.s.delete_records("c", &["x".into()]).await.unwrap();
        assert!(!live(&t.mem).await.contains(&"x".to_string()), "the schedule does hide x when re-applied");
    });
}

#[test]
fn a_resolved_upsert_reports_the_version_it_created() {
    let t = setup();
    run(async {
        t.other.create_collection("c", 2, Distance::L2).await.unwrap();
        lose_answer_then_others_commit(&t, 3);
        let r = t.s.write_segment_with_data("c", &[rec("a", [1.0, 0.0])]).await.unwrap();
        assert_eq!(r.version, 2, "its own version, not the latest (5)");
        let m = t.other.load_manifest("c").await.unwrap();
        assert_eq!(m.version, 5);
        assert_eq!(m.segments.iter().filter(|d| Some(d.id) == r.segment_id).count(), 1, "listed once");
    });
}

/// The next manifest put is uncertain: it `lands` (or not) and its answer is lost; every
/// manifest read after it fails, so the writer cannot find out.
fn uncertain_put_then_blind(kv: &InstrumentedKv<Arc<MemoryKv>>, lands: bool) {
    let mut sent = false;
    kv.script(move |call| {
        if call.is_manifest_put() && !sent {
            sent = true;
            return if lands { Action::LoseAnswer(lost_answer()) } else { Action::Fail(lost_answer()) };
        }
        if call.is_manifest_get() && sent {
            return Action::Fail(unavailable());
        }
        Action::Pass
    });
}

#[test]
fn a_landed_commit_whose_rereads_fail_is_outcome_unknown_and_later_committed() {
    let t = setup();
    run(async {
        t.other.create_collection("c", 2, Distance::L2).await.unwrap();
        uncertain_put_then_blind(&t.kv, true);
        let e = t.s.write_segment_with_data("c", &[rec("a", [1.0, 0.0])]).await.unwrap_err();
        assert_eq!(e.code(), "OUTCOME_UNKNOWN", "not STORAGE: a caller must not blindly retry ({e})");
        t.kv.heal();
        let status = t.other.operation_status("c", e.operation().unwrap()).await.unwrap();
        assert_eq!(status, OperationStatus::Committed { version: 2 });
        assert_eq!(live(&t.mem).await, ["a"]);
    });
}

#[test]
fn an_unlanded_ambiguous_commit_is_unknown_until_the_manifest_moves_on() {
    let t = setup();
    run(async {
        t.other.create_collection("c", 2, Distance::L2).await.unwrap();
        uncertain_put_then_blind(&t.kv, false);
        let e = t.s.write_segment_with_data("c", &[rec("a", [1.0, 0.0])]).await.unwrap_err();
        assert_eq!(e.code(), "OUTCOME_UNKNOWN");
        let token = e.operation().unwrap().to_string();
        t.kv.heal();
        // Still at the version the lost put was conditioned on: it could land yet.
        assert_eq!(t.other.operation_status("c", &token).await.unwrap(), OperationStatus::Unknown);
        t.other.write_segment_with_data("c", &[rec("b", [1.0, 0.0])]).await.unwrap();
        assert_eq!(t.other.operation_status("c", &token).await.unwrap(), OperationStatus::NotCommitted);
        assert_eq!(live(&t.mem).await, ["b"]);
    });
}

#[test]
fn a_durable_bulk_upsert_is_not_failed_by_the_refresh_after_it() {
    let t = setup();
    let db = Database::new(Storage::new(t.kv.clone() as Arc<dyn Kv>));
    run(async {
        t.other.create_collection("c", 2, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let mut committed = false;
        t.kv.script(move |call| {
            if call.is_manifest_put() {
                committed = true;
            } else if committed && call.is_manifest_get() {
                return Action::Fail(unavailable());
            }
            Action::Pass
        });
        let recs: Vec<Record> = (0..5).map(|i| rec(&format!("r{i}"), [1.0, i as f32])).collect();
        let r = c.upsert_batched(&recs, 2, &mut |_, _| {}).await.expect("durable, so acknowledged");
        assert_eq!((r.version, r.segment_ids.len()), (2, 3));
    });
}

#[test]
fn create_and_checked_persist_resolve_their_lost_answers() {
    let t = setup();
    run(async {
        let mut lost = false;
        t.kv.script(move |call| {
            if call.is_manifest_put() && !lost {
                lost = true;
                return Action::LoseAnswer(lost_answer());
            }
            Action::Pass
        });
        let m = t.s.create_collection("c", 2, Distance::L2).await.expect("our own create landed: not ALREADY_EXISTS");
        assert_eq!(m.version, 1);
        let mut lost = false;
        t.kv.script(move |call| {
            if call.is_manifest_put() && !lost {
                lost = true;
                return Action::LoseAnswer(lost_answer());
            }
            Action::Pass
        });
        let mut next = t.s.load_manifest("c").await.unwrap();
        next.version = 2;
        t.s.persist_manifest_with_check(&next, 1).await.expect("landed: resolved by re-reading");
        assert_eq!(t.other.load_manifest("c").await.unwrap().version, 2);
    });
}

#[test]
fn an_uncertain_create_is_settled_by_its_token() {
    let t = setup();
    run(async {
        uncertain_put_then_blind(&t.kv, true);
        let e = t.s.create_collection("c", 2, Distance::L2).await.unwrap_err();
        assert_eq!(e.code(), "OUTCOME_UNKNOWN", "{e}");
        t.kv.heal();
        let status = t.other.operation_status("c", e.operation().unwrap()).await.unwrap();
        assert_eq!(status, OperationStatus::Committed { version: 1 });
        // A create that did not land, over a collection someone else created meanwhile.
        uncertain_put_then_blind(&t.kv, false);
        let e = t.s.create_collection("d", 2, Distance::L2).await.unwrap_err();
        t.kv.heal();
        let token = e.operation().unwrap().to_string();
        assert_eq!(t.other.operation_status("d", &token).await.unwrap(), OperationStatus::Unknown, "could still land");
        t.other.create_collection("d", 2, Distance::L2).await.unwrap();
        assert_eq!(t.other.operation_status("d", &token).await.unwrap(), OperationStatus::NotCommitted);
    });
}

/// The publish hook (what live updates announce to other tabs) fires for every commit that
/// landed — a lost answer resolved as committed included — and never for one that did not.
#[test]
fn the_publish_hook_announces_landed_commits_and_no_failed_one() {
    let t = setup();
    let heard = Rc::new(std::cell::RefCell::new(Vec::<u64>::new()));
    let log = heard.clone();
    let s = Storage::new(t.kv.clone() as Arc<dyn Kv>)
        .with_clock(Arc::new(ManualClock::new()) as Arc<dyn Clock>)
        .with_publish_hook(Rc::new(move |c: &str, v: u64| {
            assert_eq!(c, "c");
            log.borrow_mut().push(v);
        }));
    run(async {
        with_x(&t).await;
        let r = s.write_segment_with_data("c", &[rec("y", [0.0, 1.0])]).await.unwrap();
        assert_eq!(*heard.borrow(), vec![r.version], "a plain commit is announced with its version");
        // Refused outright: not committed, not announced.
        t.kv.script(|call| {
            if call.is_manifest_put() {
                Action::Fail(akidb_core::kv::KvError::Backend("disk".into()))
            } else {
                Action::Pass
            }
        });
        assert!(s.write_segment_with_data("c", &[rec("z", [1.0, 1.0])]).await.is_err());
        assert_eq!(heard.borrow().len(), 1, "a failed commit was announced");
        // The answer is lost, then 3 other commits: resolved as committed, announced once.
        lose_answer_then_others_commit(&t, 3);
        let d = s.delete_records("c", &["x".into()]).await.expect("resolved as committed");
        let latest = t.other.load_manifest("c").await.unwrap().version;
        assert_eq!(heard.borrow().len(), 2, "{:?}", heard.borrow());
        let v = heard.borrow()[1];
        assert!(v >= d.version && v <= latest, "announced {v}, committed at {}, latest {latest}", d.version);
    });
}
