//! Commit latency and throughput of the manifest compare-and-swap loop on MemoryKv (issue 2).
//!
//! For 1, 2, 4, 8 and 16 writers, each writer is its own std thread with its own `Storage` (like
//! separate tabs or edge instances) over one shared store, and does sequential 1-record upserts
//! (`write_segment_with_data`: segment object put + manifest CAS commit). Every row commits the
//! same total number of upserts into a fresh collection, so every row ends with a manifest of the
//! same size (the manifest lists one segment per commit and is re-parsed on every attempt).
//!
//! Two stores: the raw `MemoryKv` (contention only from real thread parallelism) and `MemoryKv`
//! behind `ChaosKv` with a random 0..200 µs delay around every operation (a stand-in for a
//! network store: the read-to-CAS window is wide, so writers conflict a lot).
//!
//! Run: `cargo bench --bench commit` (env `AKIDB_BENCH_COMMITS` overrides the commits per row).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, MemoryKv};
use akidb_core::metrics::Metrics;
use akidb_core::retry::{Jitter, RetryPolicy};
use akidb_core::{Distance, Error, Record, Storage};

const WRITERS: [usize; 5] = [1, 2, 4, 8, 16];
const DIMENSION: u32 = 16;
const CHAOS_MAX_DELAY: Duration = Duration::from_micros(200);
const COLLECTION: &str = "bench";

#[derive(Clone, Copy)]
enum Store {
    Raw,
    Chaos,
}

impl Store {
    fn label(self) -> &'static str {
        match self {
            Store::Raw => "MemoryKv",
            Store::Chaos => "ChaosKv 0..200µs",
        }
    }

    fn build(self, seed: u64) -> SharedKv {
        let mem = Arc::new(MemoryKv::new());
        match self {
            Store::Raw => SharedKv::Raw(mem),
            Store::Chaos => SharedKv::Chaos(Arc::new(ChaosKv::new(
                mem,
                ChaosConfig { max_delay: CHAOS_MAX_DELAY, seed, ..Default::default() },
            ))),
        }
    }
}

/// The shared store with its concrete (thread-safe) type; each writer casts it to `dyn Kv`.
#[derive(Clone)]
enum SharedKv {
    Raw(Arc<MemoryKv>),
    Chaos(Arc<ChaosKv<Arc<MemoryKv>>>),
}

impl SharedKv {
    fn dyn_kv(&self) -> Arc<dyn Kv> {
        match self {
            SharedKv::Raw(k) => k.clone() as Arc<dyn Kv>,
            SharedKv::Chaos(k) => k.clone() as Arc<dyn Kv>,
        }
    }
}

/// Lets every commit succeed: exponential 1 ms → 50 ms with full jitter, practically unbounded
/// retries, no time limit.
fn patient() -> RetryPolicy {
    RetryPolicy {
        max_retries: 100_000,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(50),
        multiplier: 2.0,
        jitter: Jitter::Full,
        max_elapsed: None,
    }
}

fn describe(p: &RetryPolicy) -> String {
    format!(
        "{:?} doubling (×{}) to {:?}, max {} retries, {:?} jitter, time limit {:?}",
        p.initial_backoff, p.multiplier, p.max_backoff, p.max_retries, p.jitter, p.max_elapsed
    )
}

struct Row {
    store: Store,
    writers: usize,
    ok: usize,
    failures: usize,
    other_errors: usize,
    wall: Duration,
    /// Successful commits only, sorted.
    latencies: Vec<Duration>,
    retries_total: u64,
    max_retries: u32,
    manifest_bytes: usize,
    segments: usize,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn record(writer: usize, i: usize) -> Record {
    let vector = (0..DIMENSION as usize).map(|d| ((writer * 31 + i * 7 + d) % 97) as f32 / 97.0).collect();
    Record::new(format!("w{writer}-{i}"), vector, Some(serde_json::json!({ "writer": writer, "i": i })))
}

fn run_row(store: Store, writers: usize, total: usize, policy: &RetryPolicy, seed: u64) -> Row {
    let kv = store.build(seed);
    let setup = Storage::new(kv.dyn_kv());
    futures::executor::block_on(setup.create_collection(COLLECTION, DIMENSION, Distance::L2))
        .expect("create collection");
    let metrics = Arc::new(Metrics::new());
    let per_writer = total / writers;
    let barrier = Arc::new(Barrier::new(writers + 1));

    let (wall, results) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (kv, metrics, barrier) = (kv.clone(), metrics.clone(), barrier.clone());
                let policy = policy.clone();
                s.spawn(move || {
                    let storage = Storage::new(kv.dyn_kv()).with_metrics(metrics).with_retry_policy(policy);
                    let batches: Vec<[Record; 1]> = (0..per_writer).map(|i| [record(w, i)]).collect();
                    let mut out = Vec::with_capacity(per_writer);
                    barrier.wait();
                    for batch in &batches {
                        let t = Instant::now();
                        let r = futures::executor::block_on(storage.write_segment_with_data(COLLECTION, batch));
                        out.push((t.elapsed(), r));
                    }
                    out
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let results: Vec<_> = handles.into_iter().flat_map(|h| h.join().expect("writer thread panicked")).collect();
        (start.elapsed(), results)
    });

    let mut latencies = Vec::new();
    let (mut failures, mut other_errors, mut max_retries) = (0, 0, 0);
    for (d, r) in results {
        match r {
            Ok(receipt) => {
                latencies.push(d);
                max_retries = max_retries.max(receipt.retries);
            }
            Err(Error::Conflict(_)) => failures += 1,
            Err(e) => {
                eprintln!("unexpected error: {e}");
                other_errors += 1;
            }
        }
    }
    latencies.sort();
    let snap = metrics.snapshot();
    let ok = latencies.len();
    assert_eq!(snap.manifest_commits_total as usize, ok, "metrics count every commit");
    let manifest = futures::executor::block_on(setup.load_manifest(COLLECTION)).expect("manifest");
    assert_eq!(manifest.segments.len(), ok, "every acknowledged commit is listed");
    Row {
        store,
        writers,
        ok,
        failures,
        other_errors,
        wall,
        latencies,
        retries_total: snap.manifest_conflict_retries_total,
        max_retries,
        manifest_bytes: manifest.to_json().len(),
        segments: manifest.segments.len(),
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "| store | writers | commits | commits/s | p50 ms | p99 ms | max ms | retries/commit | max retries | failures |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let attempted = (r.ok + r.failures + r.other_errors).max(1);
        let failures = if r.other_errors > 0 {
            format!("{} (+{} other errors)", r.failures, r.other_errors)
        } else {
            r.failures.to_string()
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.2} | {} | {} |",
            r.store.label(),
            r.writers,
            r.ok,
            r.ok as f64 / r.wall.as_secs_f64(),
            ms(percentile(&r.latencies, 0.50)),
            ms(percentile(&r.latencies, 0.99)),
            ms(r.latencies.last().copied().unwrap_or_default()),
            r.retries_total as f64 / attempted as f64,
            r.max_retries,
            failures,
        );
    }
}

fn run_table(total: usize, policy: &RetryPolicy) -> Vec<Row> {
    let mut rows = Vec::new();
    for (si, store) in [Store::Raw, Store::Chaos].into_iter().enumerate() {
        for (wi, &writers) in WRITERS.iter().enumerate() {
            let seed = 1 + (si * 10 + wi) as u64;
            rows.push(run_row(store, writers, total, policy, seed));
        }
    }
    rows
}

fn main() {
    let total: usize = std::env::var("AKIDB_BENCH_COMMITS").ok().and_then(|v| v.parse().ok()).unwrap_or(800);
    let total = (total / 16).max(1) * 16;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let started = Instant::now();

    println!("## Native commit benchmark (std threads, one `Storage` per writer, shared store)\n");
    println!(
        "{cores} cores; {total} one-record upserts per row split evenly over the writers, each row into a \
         fresh collection (dimension {DIMENSION}, l2). Latency = one `write_segment_with_data` call \
         (segment put + manifest CAS, including retries and backoff), successful commits only. \
         retries/commit = conflict retries (metrics) ÷ upserts attempted. A commit attempt is \
         1 manifest get + 1 segment put + 1 manifest put; each retry adds 1 get + 1 put. ChaosKv \
         sleeps 0..{}µs before every op and after every get (`runtime::sleep`; real delays \
         overshoot by the timer slack).\n",
        CHAOS_MAX_DELAY.as_micros()
    );

    let patient = patient();
    run_row(Store::Raw, 2, 160, &patient, 99); // warm-up, not reported
    println!("### Retry policy that lets every commit succeed: {}\n", describe(&patient));
    let rows = run_table(total, &patient);
    print_table(&rows);
    let last = rows.last().expect("rows");
    println!(
        "\nManifest at the end of each row: {} segments, {} KB of JSON.\n",
        last.segments,
        last.manifest_bytes / 1024
    );

    let default = RetryPolicy::default();
    println!("### Default policy: {}\n", describe(&default));
    let rows = run_table(total, &default);
    print_table(&rows);
    let failed: usize = rows.iter().map(|r| r.failures).sum();
    println!("\nDefault policy: {failed} of {} upserts failed with CONFLICT (retries exhausted).", rows.len() * total);
    println!("\nTotal bench time {:.1} s.", started.elapsed().as_secs_f64());
}
