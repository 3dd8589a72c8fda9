//! The concurrency tests' wasm counterpart: one JS thread, many async writers whose store
//! operations are separated by real `setTimeout` delays (ChaosKv), so their reads and
//! conditional writes interleave exactly as tabs or worker requests do. The legacy path runs
//! the same schedule and loses segments.
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;
use std::time::Duration;

use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, MemoryKv};
use akidb_core::retry::{Jitter, RetryPolicy};
use akidb_core::testkit::records;
use akidb_core::{Distance, Storage};
use futures::future::join_all;
use wasm_bindgen_test::wasm_bindgen_test;

fn chaos(mem: &Arc<MemoryKv>, seed: u64) -> Arc<dyn Kv> {
    Arc::new(ChaosKv::new(mem.clone(), ChaosConfig { max_delay: Duration::from_millis(3), seed, ..Default::default() }))
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 100,
        max_backoff: Duration::from_millis(40),
        jitter: Jitter::Full,
        ..RetryPolicy::seed()
    }
}

#[wasm_bindgen_test]
async fn async_writers_interleave_and_lose_nothing() {
    akidb::runtime::install();
    let mem = Arc::new(MemoryKv::new());
    Storage::new(mem.clone() as Arc<dyn Kv>).create_collection("c", 4, Distance::L2).await.unwrap();
    let writers: Vec<Storage> = (0..8).map(|w| Storage::new(chaos(&mem, w + 1)).with_retry_policy(policy())).collect();
    let acked: Vec<_> = join_all(writers.iter().enumerate().map(|(w, s)| async move {
        let mut ids = Vec::new();
        for c in 0..4 {
            let r = s.write_segment_with_data("c", &records(&format!("w{w}c{c}-"), 1, 4, 3)).await.unwrap();
            ids.push(r.segment_id.unwrap());
        }
        ids
    }))
    .await
    .into_iter()
    .flatten()
    .collect();
    let m = Storage::new(mem.clone() as Arc<dyn Kv>).load_manifest("c").await.unwrap();
    assert_eq!(m.segments.len(), 32);
    assert_eq!(m.version, 33);
    assert!(acked.iter().all(|id| m.segment(id).is_some()));
    let retries: u64 = writers.iter().map(|s| s.metrics().snapshot().manifest_conflict_retries_total).sum();
    assert!(retries > 0, "the schedule must interleave writers");
}

#[wasm_bindgen_test]
async fn legacy_path_loses_segments_on_the_same_schedule() {
    akidb::runtime::install();
    let mem = Arc::new(MemoryKv::new());
    Storage::new(mem.clone() as Arc<dyn Kv>).create_collection("c", 4, Distance::L2).await.unwrap();
    let writers: Vec<Storage> = (0..8).map(|w| Storage::new(chaos(&mem, w + 1))).collect();
    // Legacy: read, add a descriptor, write back unconditionally.
    let written: Vec<_> = join_all(writers.iter().map(|s| async move {
        let mut m = s.load_manifest("c").await.unwrap();
        let id = akidb_core::runtime::new_uuid();
        m.add_segment(akidb_core::SegmentDescriptor {
            id,
            state: akidb_core::SegmentState::Active,
            record_count: 1,
            dimension: 4,
            size_bytes: 0,
            checksum: String::new(),
            seq: 0,
            gen: 1,
        })
        .unwrap();
        m.version += 1;
        s.persist_manifest(&m).await.unwrap();
        id
    }))
    .await;
    let m = Storage::new(mem.clone() as Arc<dyn Kv>).load_manifest("c").await.unwrap();
    let lost = written.iter().filter(|id| m.segment(id).is_none()).count();
    assert!(lost > 0, "unconditional writes should lose segments when interleaved");
}

#[wasm_bindgen_test]
async fn real_sleep_uses_set_timeout() {
    akidb::runtime::install();
    let t0 = akidb_core::runtime::monotonic_ms();
    akidb_core::runtime::sleep(Duration::from_millis(20)).await;
    let dt = akidb_core::runtime::monotonic_ms() - t0;
    assert!(dt >= 15.0, "slept only {dt} ms");
}
