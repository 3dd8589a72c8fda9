//! Real interleavings: std threads, each its own `Storage` (like separate tabs or workers),
//! sharing one MemoryKv behind a ChaosKv that sleeps a random time around every operation, so
//! reads and conditional writes of different writers overlap. The negative control runs the
//! same schedule through the legacy unconditional path and shows it loses segments.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, MemoryKv, PutCondition};
use akidb_core::metrics::Metrics;
use akidb_core::retry::{Jitter, RetryPolicy};
use akidb_core::segment::{self, Segment};
use akidb_core::{Distance, SegmentDescriptor, SegmentState, Storage};
use common::{records, run};
use uuid::Uuid;

type Shared = Arc<ChaosKv<Arc<MemoryKv>>>;

fn shared_store(max_delay_us: u64, seed: u64) -> (Arc<MemoryKv>, Shared) {
    let mem = Arc::new(MemoryKv::new());
    let chaos = ChaosKv::new(
        mem.clone(),
        ChaosConfig { max_delay: Duration::from_micros(max_delay_us), seed, ..Default::default() },
    );
    (mem, Arc::new(chaos))
}

/// A patient policy for heavy contention: still exponential with full jitter, more retries.
fn patient() -> RetryPolicy {
    RetryPolicy {
        max_retries: 200,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(50),
        multiplier: 2.0,
        jitter: Jitter::Full,
        max_elapsed: Some(Duration::from_secs(60)),
    }
}

fn storage(kv: &Shared, metrics: &Arc<Metrics>, policy: RetryPolicy) -> Storage {
    Storage::new(kv.clone() as Arc<dyn Kv>).with_metrics(metrics.clone()).with_retry_policy(policy)
}

fn setup(kv: &Shared, name: &str) {
    let s = Storage::new(kv.clone() as Arc<dyn Kv>);
    run(s.create_collection(name, 4, Distance::L2)).unwrap();
}

fn assert_no_duplicates(segs: &[SegmentDescriptor]) {
    let ids: HashSet<_> = segs.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), segs.len(), "a segment is listed twice");
}

/// Runs `writers` threads doing `per_writer` safe upserts each; returns the segment ids
/// acknowledged.
fn safe_writers(
    kv: &Shared,
    metrics: &Arc<Metrics>,
    name: &str,
    writers: usize,
    per_writer: usize,
    policy: RetryPolicy,
) -> Vec<Uuid> {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..writers)
            .map(|w| {
                let (kv, metrics, policy) = (kv.clone(), metrics.clone(), policy.clone());
                s.spawn(move || {
                    let st = storage(&kv, &metrics, policy);
                    (0..per_writer)
                        .map(|c| {
                            let recs = records(&format!("w{w}c{c}-"), 2, 4, (w * 1000 + c + 1) as u64);
                            run(st.write_segment_with_data(name, &recs)).expect("safe upsert").segment_id.unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// The same work through the legacy path: load, add, unconditional persist.
fn legacy_writers(kv: &Shared, name: &str, writers: usize, per_writer: usize) -> Vec<Uuid> {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..writers)
            .map(|w| {
                let kv = kv.clone();
                s.spawn(move || {
                    let st = Storage::new(kv.clone() as Arc<dyn Kv>);
                    (0..per_writer)
                        .map(|c| {
                            let seg = Segment::from_records(&records(&format!("w{w}c{c}-"), 2, 4, 9), 4, 0);
                            let bytes = segment::encode(&seg);
                            let desc = SegmentDescriptor {
                                id: akidb_core::runtime::new_uuid(),
                                state: SegmentState::Active,
                                record_count: 2,
                                dimension: 4,
                                size_bytes: bytes.len() as u64,
                                checksum: segment::checksum_hex(&bytes),
                                seq: 0,
                                gen: 1,
                            };
                            run(async {
                                kv.put(&st.segment_key(name, 1, &desc), bytes, PutCondition::IfAbsent).await.unwrap();
                                let mut m = st.load_manifest(name).await.unwrap();
                                m.add_segment(desc.clone()).unwrap();
                                m.version += 1;
                                st.persist_manifest(&m).await.unwrap();
                            });
                            desc.id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn ten_concurrent_writes_all_land() {
    let (_mem, kv) = shared_store(2000, 1);
    setup(&kv, "c");
    let metrics = Arc::new(Metrics::new());
    let acked = safe_writers(&kv, &metrics, "c", 10, 1, RetryPolicy::default());
    let m = run(storage(&kv, &metrics, RetryPolicy::default()).load_manifest("c")).unwrap();
    assert_eq!(m.segments.len(), 10);
    assert_eq!(m.version, 11);
    assert_no_duplicates(&m.segments);
    for id in acked {
        assert!(m.segment(&id).is_some(), "acknowledged segment {id} missing");
    }
    let snap = metrics.snapshot();
    assert_eq!(snap.manifest_commits_total, 10);
    assert_eq!(snap.manifest_conflict_failures_total, 0);
    assert!(snap.manifest_conflict_retries_total > 0, "the schedule should produce conflicts");
}

#[test]
fn negative_control_legacy_path_loses_segments_on_the_same_schedule() {
    let (_mem, kv) = shared_store(2000, 1);
    setup(&kv, "c");
    let written = legacy_writers(&kv, "c", 10, 1);
    let m = run(Storage::new(kv.clone() as Arc<dyn Kv>).load_manifest("c")).unwrap();
    let lost = written.iter().filter(|id| m.segment(id).is_none()).count();
    eprintln!("legacy path: {} of {} acknowledged segments lost", lost, written.len());
    assert!(lost > 0, "the unconditional path should lose segments under this schedule");
}

#[test]
fn ten_concurrent_seals_all_apply() {
    let (_mem, kv) = shared_store(2000, 2);
    setup(&kv, "c");
    let metrics = Arc::new(Metrics::new());
    let ids = safe_writers(&kv, &metrics, "c", 1, 10, RetryPolicy::default());
    let before = run(storage(&kv, &metrics, RetryPolicy::default()).load_manifest("c")).unwrap().version;
    std::thread::scope(|s| {
        for id in &ids {
            let (kv, metrics) = (kv.clone(), metrics.clone());
            s.spawn(move || {
                let st = storage(&kv, &metrics, RetryPolicy::default());
                let r = run(st.seal_segment("c", id)).unwrap();
                assert!(r.committed);
            });
        }
    });
    let m = run(storage(&kv, &metrics, RetryPolicy::default()).load_manifest("c")).unwrap();
    assert!(m.segments.iter().all(|s| s.state == SegmentState::Sealed), "a seal was lost");
    assert_eq!(m.version, before + 10);
}

#[test]
fn mixed_writes_seals_and_deletes() {
    let (_mem, kv) = shared_store(1000, 3);
    setup(&kv, "c");
    let metrics = Arc::new(Metrics::new());
    let first = safe_writers(&kv, &metrics, "c", 1, 5, RetryPolicy::default());
    let base = run(storage(&kv, &metrics, RetryPolicy::default()).load_manifest("c")).unwrap().version;
    let new_ids: Vec<Uuid> = std::thread::scope(|s| {
        let mut writers = Vec::new();
        for w in 0..4 {
            let (kv, metrics) = (kv.clone(), metrics.clone());
            writers.push(s.spawn(move || {
                let st = storage(&kv, &metrics, patient());
                (0..3)
                    .map(|c| {
                        run(st.write_segment_with_data("c", &records(&format!("m{w}-{c}-"), 1, 4, 5)))
                            .unwrap()
                            .segment_id
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            }));
        }
        for id in &first {
            let (kv, metrics) = (kv.clone(), metrics.clone());
            s.spawn(move || run(storage(&kv, &metrics, patient()).seal_segment("c", id)).unwrap());
        }
        for d in 0..3 {
            let (kv, metrics) = (kv.clone(), metrics.clone());
            s.spawn(move || run(storage(&kv, &metrics, patient()).delete_records("c", &[format!("gone{d}")])).unwrap());
        }
        writers.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let m = run(storage(&kv, &metrics, RetryPolicy::default()).load_manifest("c")).unwrap();
    assert_eq!(m.segments.len(), 5 + 12);
    assert_no_duplicates(&m.segments);
    assert!(new_ids.iter().all(|id| m.segment(id).is_some()));
    assert!(first.iter().all(|id| m.segment(id).unwrap().state == SegmentState::Sealed));
    assert_eq!(m.tombstones.len(), 3);
    assert_eq!(m.version, base + 12 + 5 + 3);
}

#[test]
fn stress_16_writers_by_50_commits() {
    let (_mem, kv) = shared_store(300, 4);
    setup(&kv, "c");
    let metrics = Arc::new(Metrics::new());
    let acked = safe_writers(&kv, &metrics, "c", 16, 50, patient());
    assert_eq!(acked.len(), 800);
    let m = run(storage(&kv, &metrics, RetryPolicy::default()).load_manifest("c")).unwrap();
    assert_eq!(m.segments.len(), 800, "every acknowledged segment is listed");
    assert_eq!(m.version, 800 + 1, "version = commits + initial");
    assert_no_duplicates(&m.segments);
    assert!(acked.iter().all(|id| m.segment(id).is_some()));
    assert_eq!(m.total_vectors, 1600);
    let snap = metrics.snapshot();
    eprintln!("stress: {} retries for 800 commits", snap.manifest_conflict_retries_total);
    assert_eq!(snap.manifest_commits_total, 800);
}
