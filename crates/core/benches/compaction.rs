//! Compaction and the long run (issue 11), natively on MemoryKv; prints tables.
//!
//! 1. 4 writer threads × 400 mixed commits (1–3 record upserts, overwrites, deletes of existing and
//!    of never-written ids) over a store with 0..200 µs of random latency per operation. Then, before
//!    and after compaction: segments, manifest bytes, tombstones; a cold open + search from a fresh
//!    database (store requests, bytes read, time); sequential commit latency on that manifest;
//!    compaction time and bytes rewritten.
//! 2. Resident memory per record (a counting allocator): a 10k × 128 collection with small
//!    metadata, decoded and searched, against the record bytes (vector + id + metadata JSON).
//!
//! Run: `cargo bench --bench compaction`.

// Storage holds `Arc<dyn Kv>` whose stores need not be Send (the counting store is single-threaded).
#![allow(clippy::arc_with_non_send_sync)]

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, MemoryKv, PutCondition};
use akidb_core::retry::{Jitter, RetryPolicy};
use akidb_core::search::exec::SearchOptions;
use akidb_core::storage::CompactOptions;
use akidb_core::testkit::{vector, InstrumentedKv};
use akidb_core::{Database, Distance, Record, Storage};
use futures::executor::block_on;

#[path = "support/counting.rs"]
mod counting;
use counting::LIVE;

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_retries: 1000,
        initial_backoff: Duration::from_micros(500),
        max_backoff: Duration::from_millis(20),
        multiplier: 2.0,
        jitter: Jitter::Full,
        max_elapsed: None,
    }
}

const DIM: usize = 32;

/// One row of the before/after table.
fn snapshot_row(label: &str, mem: &Arc<MemoryKv>) {
    let kv = Arc::new(InstrumentedKv::new(mem.clone()));
    let db = Database::new(Storage::new(kv.clone() as Arc<dyn Kv>));
    let manifest_bytes = block_on(mem.get("collections/c/manifest.json")).unwrap().unwrap().value.len();
    let start = Instant::now();
    let (segments, tombstones, live) = block_on(async {
        let c = db.collection("c").await.unwrap();
        let hits = c.search(&vector(1, DIM), &SearchOptions { k: 10, ..Default::default() }).await.unwrap();
        assert!(!hits.is_empty());
        let m = c.snapshot();
        (m.segments.len(), m.tombstones.len(), c.count().await.unwrap())
    });
    let cold_ms = start.elapsed().as_secs_f64() * 1000.0;
    // Sequential commit latency on this manifest (each commit moves all of it), on a copy of
    // the store so the table's later rows are not changed by it.
    let copy = Arc::new(MemoryKv::new());
    for (k, v) in mem.dump() {
        block_on(copy.put(&k, v, PutCondition::Any)).unwrap();
    }
    let s = Storage::new(copy as Arc<dyn Kv>);
    let mut lat = Vec::new();
    for i in 0..100 {
        let t = Instant::now();
        block_on(s.write_segment_with_data("c", &[Record::new(format!("lat{i}"), vector(9000 + i, DIM), None)]))
            .unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "| {label} | {segments} | {manifest_bytes} | {tombstones} | {live} | {} | {} | {cold_ms:.1} | {:.0} |",
        kv.counts().reads(),
        kv.counts().bytes_read,
        lat[lat.len() / 2]
    );
}

fn lifecycle() {
    let mem = Arc::new(MemoryKv::new());
    let chaos = Arc::new(ChaosKv::new(
        mem.clone(),
        ChaosConfig { max_delay: Duration::from_micros(200), seed: 5, ..Default::default() },
    ));
    block_on(Storage::new(mem.clone() as Arc<dyn Kv>).create_collection("c", DIM as u32, Distance::Cosine)).unwrap();
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..4u64 {
            let chaos = chaos.clone();
            s.spawn(move || {
                let st = Storage::new(chaos as Arc<dyn Kv>).with_retry_policy(patient());
                for i in 0..400u64 {
                    let r = (w * 7919 + i * 104_729) % 10;
                    if r < 2 {
                        let ids = vec![format!("w{w}-{}", i % 150), format!("never-{w}-{i}")];
                        block_on(st.delete_records("c", &ids)).unwrap();
                    } else {
                        let n = 1 + (i % 3);
                        let recs: Vec<Record> = (0..n)
                            .map(|j| {
                                let id = format!("w{w}-{}", (i + j * 37) % 150);
                                Record::new(
                                    id,
                                    vector(w * 100_000 + i * 10 + j, DIM),
                                    Some(serde_json::json!({ "w": w, "i": i })),
                                )
                            })
                            .collect();
                        block_on(st.write_segment_with_data("c", &recs)).unwrap();
                    }
                }
            });
        }
    });
    println!(
        "4 writers × 400 mixed commits (upserts, overwrites, deletes incl. never-written ids): {:.1} s\n",
        t.elapsed().as_secs_f64()
    );
    println!("| state | segments | manifest bytes | tombstones | live records | cold open+search: requests | bytes read | ms | commit p50 µs |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    snapshot_row("before compaction", &mem);
    let s = Storage::new(mem.clone() as Arc<dyn Kv>);
    let t = Instant::now();
    let policy = block_on(s.compact("c", &CompactOptions { max_rounds: 64, ..Default::default() })).unwrap();
    let policy_ms = t.elapsed().as_secs_f64() * 1000.0;
    snapshot_row("after policy compaction", &mem);
    let t = Instant::now();
    let full = block_on(s.compact("c", &CompactOptions { full: true, ..Default::default() })).unwrap();
    let full_ms = t.elapsed().as_secs_f64() * 1000.0;
    snapshot_row("after full compaction", &mem);
    let objects_before = block_on(mem.list("collections/c/")).unwrap().len();
    for _ in 0..2 {
        block_on(s.collect_garbage("c")).unwrap();
    }
    let objects_after = block_on(mem.list("collections/c/")).unwrap().len();
    snapshot_row("after two GC passes", &mem);
    println!();
    println!("| compaction | merges | ms | records dropped | tombstones retired | bytes read | bytes written |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (label, r, ms) in [("policy", &policy, policy_ms), ("full", &full, full_ms)] {
        println!(
            "| {label} | {} | {ms:.1} | {} | {} | {} | {} |",
            r.merges, r.records_dropped, r.tombstones_retired, r.bytes_read, r.bytes_written
        );
    }
    println!("\nobjects in the store: {objects_before} before GC, {objects_after} after two GC passes\n");
}

fn memory_per_record() {
    let (n, dim) = (10_000usize, 128usize);
    let records: Vec<Record> = (0..n)
        .map(|i| {
            Record::new(format!("doc-{i:06}"), vector(i as u64, dim), Some(serde_json::json!({ "group": i % 10 })))
        })
        .collect();
    let record_bytes: usize = records
        .iter()
        .map(|r| r.vector.len() * 4 + r.id.len() + r.metadata.as_ref().map_or(0, |m| m.to_string().len()))
        .sum();
    let mem = Arc::new(MemoryKv::new());
    let s = Storage::new(mem.clone() as Arc<dyn Kv>);
    block_on(s.create_collection("m", dim as u32, Distance::L2)).unwrap();
    let mut noop = |_: usize, _: usize| {};
    block_on(s.write_segments_with_data("m", &records, 10_000, &mut noop)).unwrap();
    drop(records);
    let base = LIVE.load(Ordering::Relaxed);
    let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    let c = block_on(db.collection("m")).unwrap();
    block_on(c.search(&vector(3, dim), &SearchOptions { k: 10, ..Default::default() })).unwrap();
    let engine = (LIVE.load(Ordering::Relaxed) - base) as f64;
    block_on(c.search(&vector(4, dim), &SearchOptions { k: 10, ..Default::default() })).unwrap();
    let warm = (LIVE.load(Ordering::Relaxed) - base) as f64;
    let store: usize = block_on(mem.list("collections/m/"))
        .unwrap()
        .iter()
        .map(|k| block_on(mem.get(k)).unwrap().unwrap().value.len())
        .sum();
    println!("| 10k × 128, metadata {{group}} | per record |");
    println!("|---|---:|");
    println!("| record bytes (vector + id + metadata JSON) | {:.0} B |", record_bytes as f64 / n as f64);
    println!(
        "| engine resident after open + one search (decoded segment, view) | {:.0} B ({:.2}×) |",
        engine / n as f64,
        engine / record_bytes as f64
    );
    println!(
        "| … after a second search (+ int8 screening codes: dimension + 16 B) | {:.0} B ({:.2}×) |",
        warm / n as f64,
        warm / record_bytes as f64
    );
    println!(
        "| memory store's copy (encoded objects) | {:.0} B ({:.2}×) |",
        store as f64 / n as f64,
        store as f64 / record_bytes as f64
    );
    drop(c);
}

fn main() {
    println!("# cargo bench --bench compaction\n");
    lifecycle();
    memory_per_record();
}
