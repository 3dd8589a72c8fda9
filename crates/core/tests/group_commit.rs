//! Group commit inside one instance: concurrent upserts share commits, each caller is
//! acknowledged only by the commit holding its records, and a failing commit fails exactly the
//! callers it carried. A store that yields to the executor on every operation gives real
//! interleaving of async callers in one thread (native and wasm alike).

// Storage holds `Arc<dyn Kv>` whose stores need not be Send (browser stores hold JS values).
#![allow(clippy::arc_with_non_send_sync)]

mod common;

use std::sync::Arc;

use akidb_core::group_commit::GroupCommitConfig;
use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, KvError, MemoryKv};
use akidb_core::search::exec::SearchOptions;
use akidb_core::testkit::{Action, Entry, InstrumentedKv, Op, PutKind};
use akidb_core::{Database, Distance, Record, Storage};
use common::{records, run};
use futures::future::join_all;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn yielding(mem: &Arc<MemoryKv>) -> Arc<dyn Kv> {
    Arc::new(ChaosKv::new(
        mem.clone(),
        ChaosConfig { max_delay: std::time::Duration::ZERO, yields: 2, ..Default::default() },
    ))
}

fn db_over(kv: Arc<dyn Kv>, gc: GroupCommitConfig) -> Database {
    Database::new(Storage::new(kv)).with_group_commit(gc)
}

async fn live_ids(db: &Database, name: &str) -> std::collections::HashSet<String> {
    let c = db.collection(name).await.unwrap();
    let n = c.count().await.unwrap();
    let hits = c.search(&[1.0, 0.0, 0.0, 0.0], &SearchOptions { k: n.max(1), ..Default::default() }).await.unwrap();
    hits.into_iter().map(|h| h.id).collect()
}

#[test]
fn concurrent_upserts_share_commits_and_all_land() {
    let mem = Arc::new(MemoryKv::new());
    let db = db_over(yielding(&mem), GroupCommitConfig::default());
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let batches: Vec<Vec<Record>> = (0..20).map(|i| records(&format!("u{i}-"), 2, 4, i + 1)).collect();
        let acks = join_all(batches.iter().map(|b| c.upsert(b))).await;
        let acks: Vec<_> = acks.into_iter().map(|a| a.expect("every upsert is acknowledged")).collect();
        let commits = db.metrics().manifest_commits_total;
        eprintln!("20 concurrent upserts -> {commits} commits");
        assert!(commits <= 5, "20 concurrent upserts took {commits} commits");
        let m = c.manifest().await.unwrap();
        assert_eq!(m.version, 1 + commits);
        assert_eq!(m.segments.len() as u64, commits);
        // Callers acknowledged by the same commit share its segment and version.
        for a in &acks {
            let seg = m.segment(&a.segment_id.unwrap()).expect("acknowledged segment is listed");
            assert!(seg.record_count >= 2);
        }
        let live = live_ids(&db, "c").await;
        assert_eq!(live.len(), 40);
        for b in &batches {
            assert!(b.iter().all(|r| live.contains(&r.id)), "acknowledged records are searchable");
        }
    });
}

#[test]
fn without_group_commit_every_upsert_is_a_commit() {
    let mem = Arc::new(MemoryKv::new());
    // Independent commits contend; retry without sleeping so this also runs under block_on on wasm.
    let no_wait = akidb_core::RetryPolicy {
        max_retries: 1000,
        initial_backoff: std::time::Duration::ZERO,
        max_backoff: std::time::Duration::ZERO,
        ..akidb_core::RetryPolicy::seed()
    };
    let db = Database::new(Storage::new(yielding(&mem)).with_retry_policy(no_wait))
        .with_group_commit(GroupCommitConfig { enabled: false, ..Default::default() });
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let batches: Vec<Vec<Record>> = (0..10).map(|i| records(&format!("u{i}-"), 1, 4, i + 1)).collect();
        for a in join_all(batches.iter().map(|b| c.upsert(b))).await {
            a.unwrap();
        }
        assert_eq!(db.metrics().manifest_commits_total, 10);
        assert!(db.metrics().manifest_conflict_retries_total > 0, "ungrouped writers contend");
    });
}

#[test]
fn a_lone_writer_commits_at_once() {
    let mem = Arc::new(MemoryKv::new());
    let db = db_over(yielding(&mem), GroupCommitConfig::default());
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        for i in 0..5 {
            let r = c.upsert(&records(&format!("s{i}-"), 3, 4, i + 1)).await.unwrap();
            assert_eq!(r.version, 2 + i, "each sequential upsert is its own commit, with no waiting");
        }
    });
}

#[test]
fn group_size_is_bounded() {
    let mem = Arc::new(MemoryKv::new());
    let db = db_over(yielding(&mem), GroupCommitConfig { max_records: 5, ..Default::default() });
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let batches: Vec<Vec<Record>> = (0..20).map(|i| records(&format!("u{i}-"), 1, 4, i + 1)).collect();
        for a in join_all(batches.iter().map(|b| c.upsert(b))).await {
            a.unwrap();
        }
        let m = c.manifest().await.unwrap();
        assert!(m.segments.iter().all(|s| s.record_count <= 5), "a group exceeded max_records");
        assert!(m.segments.len() >= 4);
        // One upsert larger than the bound still commits, alone and whole.
        let big = records("big-", 12, 4, 99);
        let r = c.upsert(&big).await.unwrap();
        assert_eq!(c.manifest().await.unwrap().segment(&r.segment_id.unwrap()).unwrap().record_count, 12);
    });
}

#[test]
fn invalid_input_is_rejected_before_joining_a_group() {
    let mem = Arc::new(MemoryKv::new());
    let db = db_over(yielding(&mem), GroupCommitConfig::default());
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let good: Vec<Vec<Record>> = (0..4).map(|i| records(&format!("g{i}-"), 1, 4, i + 1)).collect();
        let bad = vec![Record::new("bad", vec![f32::NAN; 4], None)];
        let mut calls: Vec<_> = good.iter().map(|b| c.upsert(b)).collect();
        calls.insert(2, c.upsert(&bad));
        let out = join_all(calls).await;
        assert_eq!(out[2].as_ref().unwrap_err().code(), "INVALID_ARGUMENT");
        assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 4, "one bad caller fails nobody else");
    });
}

#[test]
fn a_failing_commit_fails_exactly_the_callers_it_carried() {
    let mem = Arc::new(MemoryKv::new());
    let db = db_over(scripted(yielding(&mem), false), GroupCommitConfig::default());
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let mut batches: Vec<Vec<Record>> = (0..12).map(|i| records(&format!("u{i}-"), 1, 4, i + 1)).collect();
        batches[5][0].id = "poison-5".into();
        let out = join_all(batches.iter().map(|b| c.upsert(b))).await;
        let live = live_ids(&db, "c").await;
        let failed: Vec<usize> = (0..12).filter(|i| out[*i].is_err()).collect();
        eprintln!("failed callers: {failed:?}");
        assert!(failed.contains(&5), "the poisoned caller fails");
        assert!(failed.len() < 12, "other groups still commit");
        for (i, r) in out.iter().enumerate() {
            let present = live.contains(&batches[i][0].id);
            match r {
                Ok(_) => assert!(present, "caller {i} was acknowledged but its record is missing"),
                Err(e) => {
                    assert_eq!(e.code(), "STORAGE");
                    assert!(!present, "caller {i} got an error but its record is visible");
                }
            }
        }
        // Later writes are unaffected.
        c.upsert(&records("after-", 1, 4, 77)).await.unwrap();
    });
}

#[test]
fn an_uncontended_upsert_costs_three_requests_in_protocol_order() {
    let kv = Arc::new(InstrumentedKv::new(MemoryKv::new()).with_log());
    let db = Database::new(Storage::new(kv.clone() as Arc<dyn Kv>));
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        kv.reset();
        c.upsert(&records("a", 3, 4, 1)).await.unwrap();
        let label = |e: &Entry| match e.op {
            Op::Get => format!("GET {}", e.key.rsplit('/').next().unwrap_or(&e.key)),
            Op::Put { kind, .. } if e.call().is_manifest_put() => format!("PUT manifest {kind:?}"),
            Op::Put { kind, .. } => format!("PUT segment {kind:?}"),
            op => format!("{op:?} {}", e.key),
        };
        let log: Vec<String> = kv.log().iter().map(label).collect();
        // Data first (create-only), then read-modify-CAS of the manifest; the handle reads its
        // own write from the commit, with no further request.
        assert_eq!(log, ["PUT segment IfAbsent", "GET manifest.json", "PUT manifest IfVersion"]);
        assert_eq!(c.snapshot().version, 2);
        assert_eq!(c.count().await.unwrap(), 3);
    });
}

/// Polling mode (Workers runtimes): waiting callers check their outcome on their own timer and
/// take over leadership by themselves; nobody is woken by another caller.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn polling_followers_coalesce_and_take_over() {
    let mem = Arc::new(MemoryKv::new());
    let chaos: Arc<dyn Kv> = Arc::new(ChaosKv::new(
        mem.clone(),
        ChaosConfig { max_delay: std::time::Duration::from_millis(2), ..Default::default() },
    ));
    let cfg = GroupCommitConfig { poll_interval: Some(std::time::Duration::from_millis(1)), ..Default::default() };
    let db = db_over(chaos, cfg);
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let batches: Vec<Vec<Record>> = (0..30).map(|i| records(&format!("p{i}-"), 1, 4, i + 1)).collect();
        for a in join_all(batches.iter().map(|b| c.upsert(b))).await {
            a.unwrap();
        }
        let commits = db.metrics().manifest_commits_total;
        eprintln!("polling mode: 30 concurrent upserts -> {commits} commits");
        assert!(commits < 10, "30 upserts took {commits} commits");
        assert_eq!(live_ids(&db, "c").await.len(), 30);
    });
}

/// Fails any segment put whose bytes contain "poison" (the commit carrying it fails), and with
/// `lose_first_race` also loses the first manifest compare-and-swap (as if another instance had
/// just committed), so a test can schedule a retry and a failed part.
fn scripted(inner: Arc<dyn Kv>, lose_first_race: bool) -> Arc<dyn Kv> {
    let kv = InstrumentedKv::new(inner);
    let mut lost = !lose_first_race;
    kv.script(move |call| {
        let cas = call.is_manifest_put() && matches!(call.op, Op::Put { kind: PutKind::IfVersion, .. });
        if cas && !std::mem::replace(&mut lost, true) {
            return Action::Fail(KvError::PreconditionFailed);
        }
        if call.is_segment_put() && call.value.is_some_and(|v| v.windows(6).any(|w| w == b"poison")) {
            return Action::Fail(KvError::Backend("disk full (injected)".into()));
        }
        Action::Pass
    });
    Arc::new(kv)
}

fn losing_first_race(mem: &Arc<MemoryKv>) -> Database {
    let kv = scripted(yielding(mem), true);
    // No sleeping between attempts, so this runs under block_on on wasm too.
    let no_wait = akidb_core::RetryPolicy {
        initial_backoff: std::time::Duration::ZERO,
        max_backoff: std::time::Duration::ZERO,
        ..akidb_core::RetryPolicy::default()
    };
    Database::new(Storage::new(kv).with_retry_policy(no_wait)).with_group_commit(GroupCommitConfig::default())
}

#[test]
fn a_retrying_commit_absorbs_the_callers_queued_meanwhile() {
    let mem = Arc::new(MemoryKv::new());
    let db = losing_first_race(&mem);
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let batches: Vec<Vec<Record>> = (0..10).map(|i| records(&format!("u{i}-"), 2, 4, i + 1)).collect();
        // The first caller leads alone and loses the race; the other nine queue during its
        // commit and ride along on its retry instead of committing after it.
        let acks: Vec<_> =
            join_all(batches.iter().map(|b| c.upsert(b))).await.into_iter().map(|a| a.unwrap()).collect();
        let metrics = db.metrics();
        assert_eq!(metrics.manifest_commits_total, 1, "ten callers, one lost race, one commit");
        assert_eq!(metrics.manifest_conflict_retries_total, 1);
        let m = c.manifest().await.unwrap();
        assert_eq!(m.version, 2);
        assert_eq!(m.segments.len(), 2, "the leader's segment and one for the absorbed callers");
        assert!(acks.iter().all(|a| a.version == 2));
        assert_ne!(acks[0].segment_id, acks[1].segment_id);
        assert!(acks[1..].iter().all(|a| a.segment_id == acks[1].segment_id));
        for (a, b) in acks.iter().zip(&batches) {
            let seg = m.segment(&a.segment_id.unwrap()).expect("acknowledged segment is listed");
            assert_eq!(seg.record_count as usize, if a.segment_id == acks[0].segment_id { b.len() } else { 18 });
        }
        assert_eq!(live_ids(&db, "c").await.len(), 20, "every acknowledged record is searchable");
    });
}

#[test]
fn an_absorbed_part_that_fails_fails_only_its_callers() {
    let mem = Arc::new(MemoryKv::new());
    let db = losing_first_race(&mem);
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let mut batches: Vec<Vec<Record>> = (0..6).map(|i| records(&format!("u{i}-"), 1, 4, i + 1)).collect();
        batches[3][0].id = "poison-3".into();
        let out = join_all(batches.iter().map(|b| c.upsert(b))).await;
        assert!(out[0].is_ok(), "the leader's own part still commits");
        assert!(out[1..].iter().all(|r| r.as_ref().unwrap_err().code() == "STORAGE"));
        let live = live_ids(&db, "c").await;
        assert_eq!(live.len(), 1);
        assert!(live.contains(&batches[0][0].id));
        assert_eq!(c.manifest().await.unwrap().segments.len(), 1, "the failed part is not listed");
    });
}

#[test]
fn after_a_contended_commit_the_next_group_waits_one_commit_and_an_uncontended_one_never_waits() {
    let mem = Arc::new(MemoryKv::new());
    let clock = Arc::new(akidb_core::retry::ManualClock::new());
    let kv = scripted(yielding(&mem), true);
    let storage = Storage::new(kv).with_retry_policy(akidb_core::RetryPolicy::seed()).with_clock(clock.clone());
    let db = Database::new(storage).with_group_commit(GroupCommitConfig::default());
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let c = db.collection("c").await.unwrap();
        // Loses the race once: backs off 10 ms (virtual), then commits; the commit took 10 ms.
        assert_eq!(c.upsert(&records("a", 1, 4, 1)).await.unwrap().retries, 1);
        assert_eq!(clock.sleeps(), [std::time::Duration::from_millis(10)]);
        // Other instances are committing: the next group first lets that much time pass.
        assert_eq!(c.upsert(&records("b", 1, 4, 2)).await.unwrap().retries, 0);
        assert_eq!(clock.sleeps(), [std::time::Duration::from_millis(10); 2]);
        // That commit met no contention, so the one after it starts at once.
        c.upsert(&records("c", 1, 4, 3)).await.unwrap();
        assert_eq!(clock.sleeps().len(), 2, "no pause after an uncontended commit");
        assert_eq!(db.metrics().manifest_commits_total, 3);
    });
}

/// Everything that could only fail inside the group's segment (a zero vector under cosine,
/// metadata the decoder would not read back) is checked per caller: on the code before, the
/// zero vector passed validation and then failed the whole group, naming another caller's
/// record in everyone's error.
#[test]
fn a_caller_whose_records_cannot_be_encoded_fails_alone() {
    let mem = Arc::new(MemoryKv::new());
    let db = db_over(yielding(&mem), GroupCommitConfig::default());
    run(async {
        db.create_collection("c", 4, Distance::Cosine).await.unwrap();
        let c = db.collection("c").await.unwrap();
        let good: Vec<Vec<Record>> = (0..4).map(|i| records(&format!("g{i}-"), 1, 4, i + 1)).collect();
        let zero = vec![Record::new("zero", vec![0.0; 4], None)];
        let mut deep = serde_json::json!(1);
        for _ in 0..300 {
            deep = serde_json::json!([deep]);
        }
        let deep = vec![Record::new("deep", vec![1.0; 4], Some(serde_json::json!({ "m": deep })))];
        let mut calls: Vec<_> = good.iter().map(|b| c.upsert(b)).collect();
        calls.insert(1, c.upsert(&zero));
        calls.insert(3, c.upsert(&deep));
        let out = join_all(calls).await;
        let e = out[1].as_ref().unwrap_err();
        assert!(e.code() == "INVALID_ARGUMENT" && e.to_string().contains("\"zero\""), "{e}");
        let e = out[3].as_ref().unwrap_err();
        assert!(e.code() == "INVALID_ARGUMENT" && e.to_string().contains("\"deep\""), "{e}");
        assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 4, "the others commit");
        assert_eq!(live_ids(&db, "c").await.len(), 4);
    });
}

mod liveness {
    //! Group commit liveness with real timers: natively (futures-timer under block_on) and on
    //! wasm (setTimeout, async tests), the same schedules.

    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Poll;
    use std::time::Duration;

    use super::*;
    use akidb_core::storage::OperationStatus;

    /// Polls `f` once with the current task's waker.
    async fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        futures::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx))).await
    }

    fn polling(lease: Duration) -> GroupCommitConfig {
        GroupCommitConfig { poll_interval: Some(Duration::from_millis(2)), leader_lease: lease, ..Default::default() }
    }

    /// The leader loses its first race (so the caller that queued meanwhile is absorbed into
    /// its commit), then its request stops being polled in the middle of the retried put — a
    /// cancelled Workers request. Returns the absorbed caller's outcome and whether it arrived
    /// within `patience`.
    async fn stalled_leader_schedule(
        lease: Duration,
        patience: Duration,
    ) -> (Option<akidb_core::Result<()>>, Database, String) {
        let mem = Arc::new(MemoryKv::new());
        let kv = Arc::new(InstrumentedKv::new(mem.clone()));
        let policy = akidb_core::RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            jitter: akidb_core::retry::Jitter::None,
            ..akidb_core::RetryPolicy::seed()
        };
        let db = Database::new(Storage::new(kv.clone() as Arc<dyn Kv>).with_retry_policy(policy))
            .with_group_commit(polling(lease));
        let hung = Rc::new(Cell::new(false));
        let mut token = String::new();
        let outcome = async {
            db.create_collection("c", 4, Distance::L2).await.unwrap();
            let c = db.collection("c").await.unwrap();
            let (h, mut puts) = (hung.clone(), 0);
            kv.script(move |call| {
                if !call.is_manifest_put() {
                    return Action::Pass;
                }
                puts += 1;
                match puts {
                    1 => Action::Fail(KvError::PreconditionFailed),
                    2 => {
                        h.set(true);
                        Action::Hang
                    }
                    _ => Action::Pass,
                }
            });
            let (a, b) = (records("leader", 1, 4, 1), records("carried", 1, 4, 2));
            let mut leader = Box::pin(c.upsert(&a));
            let mut carried = Box::pin(c.upsert(&b));
            let start = akidb_core::runtime::monotonic_ms();
            let out = loop {
                if !hung.get() {
                    let _ = poll_once(&mut leader).await;
                }
                if let Poll::Ready(r) = poll_once(&mut carried).await {
                    break Some(r);
                }
                if akidb_core::runtime::monotonic_ms() - start > patience.as_millis() as f64 {
                    break None;
                }
                akidb_core::runtime::sleep(Duration::from_millis(1)).await;
            };
            if let Some(Err(e)) = &out {
                token = e.operation().unwrap_or_default().to_string();
            }
            // Later writes go through (a new leader), however the stalled one ends.
            if out.is_some() {
                let r = c.upsert(&records("later", 1, 4, 3)).await.expect("the queue is not wedged");
                assert_eq!(r.version, 2);
            }
            std::mem::forget(leader); // never polled again, never dropped: like a cancelled request
            out.map(|r| r.map(|_| ()))
        }
        .await;
        (outcome, db, token)
    }

    async fn stalled_leader_is_replaced() {
        let (out, db, token) = stalled_leader_schedule(Duration::from_millis(60), Duration::from_secs(10)).await;
        let e = out.expect("the carried caller is answered").unwrap_err();
        assert_eq!(e.code(), "OUTCOME_UNKNOWN", "{e}");
        let c = db.collection("c").await.unwrap();
        // Its commit's put was conditioned on version 1; the manifest moved on: provably not committed.
        assert_eq!(c.operation_status(&token).await.unwrap(), OperationStatus::NotCommitted);
        assert_eq!(live_ids(&db, "c").await, ["later0".to_string()].into_iter().collect());
    }

    /// Negative control: without an expiring lease the same schedule leaves the carried caller
    /// (and the queue behind it) waiting for a leader that will never run again.
    async fn without_a_lease_it_wedges() {
        let (out, _, _) = stalled_leader_schedule(Duration::from_secs(3600), Duration::from_millis(500)).await;
        assert!(out.is_none(), "wedged: no answer while the leader is stalled");
    }

    /// A waiting caller whose future is dropped (natively: a cancelled task) leaves the queue;
    /// on the code before, leadership was handed to its dead slot and every later upsert waited
    /// forever.
    async fn dropped_waiter_does_not_wedge() {
        let mem = Arc::new(MemoryKv::new());
        let kv = Arc::new(InstrumentedKv::new(mem.clone()));
        let db = Database::new(Storage::new(kv.clone() as Arc<dyn Kv>))
            .with_group_commit(GroupCommitConfig { leader_lease: Duration::from_secs(3600), ..Default::default() });
        {
            db.create_collection("c", 4, Distance::L2).await.unwrap();
            let c = db.collection("c").await.unwrap();
            let (gate_tx, gate_rx) = futures::channel::oneshot::channel::<()>();
            let mut gate = Some(gate_rx);
            kv.script(move |call| match (call.is_manifest_put(), gate.take()) {
                (true, Some(rx)) => Action::RunFirst(Box::pin(async move {
                    let _ = rx.await;
                })),
                (_, g) => {
                    gate = g;
                    Action::Pass
                }
            });
            let (a, b, x) = (records("a", 1, 4, 1), records("b", 1, 4, 2), records("x", 1, 4, 3));
            let mut leader = Box::pin(c.upsert(&a));
            assert!(poll_once(&mut leader).await.is_pending(), "the leader waits at the gate");
            let mut waiter = Box::pin(c.upsert(&b));
            assert!(poll_once(&mut waiter).await.is_pending());
            drop(waiter);
            gate_tx.send(()).unwrap();
            leader.await.unwrap();
            let next = Box::pin(c.upsert(&x));
            let timeout = Box::pin(akidb_core::runtime::sleep(Duration::from_secs(5)));
            match futures::future::select(next, timeout).await {
                futures::future::Either::Left((r, _)) => assert_eq!(r.unwrap().version, 3),
                futures::future::Either::Right(_) => panic!("the queue is wedged"),
            }
            let live = live_ids(&db, "c").await;
            assert!(live.contains("a0") && live.contains("x0") && !live.contains("b0"), "{live:?}");
        }
    }

    /// The leader loses its first race (absorbing the caller queued meanwhile), then its request
    /// stops being polled mid-put, like a cancelled Workers request: after the lease a waiting
    /// caller takes over and the carried caller learns its outcome.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_stalled_polling_leader_is_replaced_and_its_carried_caller_learns_the_outcome() {
        run(stalled_leader_is_replaced());
    }

    /// Negative control: without an expiring lease the same schedule leaves the carried caller
    /// (and the queue behind it) waiting for a leader that will never run again.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn negative_control_without_a_lease_the_same_schedule_wedges() {
        run(without_a_lease_it_wedges());
    }

    /// A waiting caller whose future is dropped leaves the queue; on the code before,
    /// leadership was handed to its dead slot and every later upsert waited forever.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_dropped_waiter_never_wedges_the_queue() {
        run(dropped_waiter_does_not_wedge());
    }

    /// The leader lease is waited out and measured on the storage's clock, in both modes: with
    /// a virtual clock a leader hung in its manifest put is replaced after its 60 s lease at
    /// once in real time. On the code before (ticks and lease timeouts on the runtime's timer,
    /// staleness on the clock), virtual time never moved and the next caller waited forever.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_stalled_leader_is_replaced_after_its_lease_on_virtual_time() {
        use akidb_core::retry::Clock;
        use futures::future::{select, Either};
        let lease = Duration::from_secs(60);
        for config in [polling(lease), GroupCommitConfig { leader_lease: lease, ..Default::default() }] {
            let polls = config.poll_interval.is_some();
            let kv = Arc::new(InstrumentedKv::new(Arc::new(MemoryKv::new())));
            let clock = Arc::new(akidb_core::retry::ManualClock::new());
            let storage = Storage::new(kv.clone() as Arc<dyn Kv>).with_clock(clock.clone());
            let db = Database::new(storage).with_group_commit(config);
            run(async {
                db.create_collection("c", 4, Distance::L2).await.unwrap();
                let c = db.collection("c").await.unwrap();
                let mut hung = false;
                kv.script(move |call| match (call.is_manifest_put(), hung) {
                    (true, false) => {
                        hung = true;
                        Action::Hang
                    }
                    _ => Action::Pass,
                });
                let (a, b) = (records("stalled", 1, 4, 1), records("next", 1, 4, 2));
                let mut leader = Box::pin(c.upsert(&a));
                assert!(poll_once(&mut leader).await.is_pending(), "the leader hangs in its manifest put");
                let started = std::time::Instant::now();
                let guard = Box::pin(akidb_core::runtime::sleep(Duration::from_secs(5)));
                let r = match select(Box::pin(c.upsert(&b)), guard).await {
                    Either::Left((r, _)) => r,
                    Either::Right(_) => panic!("wedged (polling: {polls}): the lease never ran out on the clock"),
                };
                assert_eq!(r.unwrap().version, 2, "the next caller took over and committed");
                assert!(clock.now_ms() >= 60_000.0, "a full lease of virtual time passed: {}", clock.now_ms());
                assert!(started.elapsed() < Duration::from_secs(5), "and almost no real time");
                std::mem::forget(leader);
            });
        }
    }

    /// A handle whose snapshot is behind GC's fence: its group is fenced once, re-uploaded at
    /// the generation learned, and callers absorbed after that are written at it too (they were
    /// written at the snapshot's stale generation and fenced again, round after round, until the
    /// group failed with CONFLICT).
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn segments_are_written_at_the_newest_generation_seen() {
        let mem = Arc::new(MemoryKv::new());
        let kv = Arc::new(InstrumentedKv::new(mem.clone()).with_log());
        let policy = akidb_core::RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            jitter: akidb_core::retry::Jitter::None,
            ..akidb_core::RetryPolicy::seed()
        };
        let db = Database::new(Storage::new(kv.clone() as Arc<dyn Kv>).with_retry_policy(policy));
        let gc = Storage::new(mem.clone() as Arc<dyn Kv>);
        run(async {
            db.create_collection("c", 4, Distance::L2).await.unwrap();
            let c = db.collection("c").await.unwrap();
            for _ in 0..3 {
                gc.collect_garbage("c").await.unwrap();
            }
            let mut lost = false;
            kv.script(move |call| {
                if call.is_manifest_put() && !lost {
                    lost = true;
                    return Action::Fail(KvError::PreconditionFailed);
                }
                Action::Pass
            });
            let (a, b) = (records("a", 1, 4, 1), records("b", 1, 4, 2));
            let (ra, rb) = futures::future::join(c.upsert(&a), c.upsert(&b)).await;
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert_eq!(ra.version, rb.version, "b was absorbed into a's retried commit");
            let puts = kv.log().iter().filter(|e| e.call().is_segment_put()).count();
            assert_eq!(puts, 3, "a at the stale generation, a again after the fence, b once at the new one");
            let m = c.manifest().await.unwrap();
            assert!(m.segments.iter().all(|d| d.gen == 4), "{:?}", m.segments);
        });
    }

    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn a_stalled_polling_leader_is_replaced_and_its_carried_caller_learns_the_outcome() {
        crate::common::setup();
        stalled_leader_is_replaced().await;
    }

    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn negative_control_without_a_lease_the_same_schedule_wedges() {
        crate::common::setup();
        without_a_lease_it_wedges().await;
    }

    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn a_dropped_waiter_never_wedges_the_queue() {
        crate::common::setup();
        dropped_waiter_does_not_wedge().await;
    }
}
