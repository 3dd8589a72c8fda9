//! ANN on the real Debian MiniLM set (../shared/datasets/debian-minilm-384), natively: index
//! build time and the recall@10 / QPS curve over `probes`, against exact search in the same
//! run. (The peers run in Node: bench/ann/run.mjs.) `cargo bench --bench ann [-- rows_per_partition]`

use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use akidb_core::index::ivf::{build, BuildOptions};
use akidb_core::manifest::OpId;
use akidb_core::search::exec::{search, ScanMode, SearchOptions, SnapshotView};
use akidb_core::segment::Segment;
use akidb_core::{CollectionManifest, Distance, Record};

#[path = "support/counting.rs"]
mod counting;
use counting::LIVE;

/// The dataset beside the repository (`../shared` from its root).
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/datasets/debian-minilm-384");
const DIM: usize = 384;

fn f32s(path: &str) -> Vec<f32> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// `SYNTH=n cargo bench --bench ann`: build time of an index over n × 128 clustered rows.
fn synthetic(n: usize) {
    let dim = 128;
    // 1000 centres, noise a quarter of their spread.
    let vectors = akidb_core::testkit::clustered(n, dim, 1000, 0.25, 42);
    let recs: Vec<Record> = vectors.into_iter().enumerate().map(|(i, v)| Record::new(i.to_string(), v, None)).collect();
    let flat = Segment::from_records(&recs, dim as u16, 0);
    drop(recs);
    let t = Instant::now();
    let seg = build(Distance::L2, &flat, &BuildOptions::default());
    let build_s = t.elapsed().as_secs_f64();
    drop(flat);
    let seg_bytes = seg.heap_bytes() as f64 / n as f64;
    let before = LIVE.load(Ordering::Relaxed);
    let m = CollectionManifest::new("s", dim as u16, Distance::L2, 0, 1, OpId::new());
    let (parts, spills) = (seg.index.as_ref().unwrap().partitions(), seg.index.as_ref().unwrap().spills.len());
    let view = SnapshotView::build(&m, vec![Rc::new(seg)]);
    let opts = SearchOptions { k: 10, mode: ScanMode::Ann { probes: Some(8), prune: true }, ..Default::default() };
    search(&view, &vec![0.0; dim], &opts).unwrap();
    let extra = (LIVE.load(Ordering::Relaxed) - before) as f64 / n as f64;
    println!("{n} × {dim}: {parts} partitions, {spills} spill entries, build {build_s:.2} s");
    println!(
        "resident per vector: decoded segment {seg_bytes:.0} B + view, int8 and ANN codes {extra:.0} B = {:.0} B",
        seg_bytes + extra
    );
}

fn main() {
    if let Some(n) = std::env::var("SYNTH").ok().and_then(|v| v.parse().ok()) {
        return synthetic(n);
    }
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with('-')).collect();
    let rpp: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(akidb_core::index::ivf::ROWS_PER_PARTITION);
    let base = f32s(&format!("{DIR}/base.f32"));
    let queries = f32s(&format!("{DIR}/queries.f32"));
    let gt: Vec<i32> = std::fs::read(format!("{DIR}/gt.i32"))
        .unwrap()
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let n = base.len() / DIM;
    let recs: Vec<Record> =
        (0..n).map(|i| Record::new(i.to_string(), base[i * DIM..(i + 1) * DIM].to_vec(), None)).collect();
    let flat = Segment::from_records(&recs, DIM as u16, 0);
    drop(recs);
    let t = Instant::now();
    let opts = BuildOptions { rows_per_partition: rpp, ..Default::default() };
    let indexed = build(Distance::Cosine, &flat, &opts);
    let build_s = t.elapsed().as_secs_f64();
    let idx = indexed.index.as_ref().unwrap();
    let sizes: Vec<usize> = (0..idx.partitions()).map(|p| idx.rows(p).len()).collect();
    println!(
        "# cargo bench --bench ann -- {rpp}\n\n{n} × {DIM}: {} partitions (rows: min {}, max {}), {} spill entries, build {:.2} s\n",
        idx.partitions(),
        sizes.iter().min().unwrap(),
        sizes.iter().max().unwrap(),
        idx.spills.len(),
        build_s
    );
    let m = CollectionManifest::new("d", DIM as u16, Distance::Cosine, 0, 1, OpId::new());
    let nq = queries.len() / DIM;
    let run = |view: &SnapshotView, mode: ScanMode| -> (f64, f64) {
        let opts = SearchOptions { k: 10, mode, ..Default::default() };
        // Warm-up (codes), then timed.
        search(view, &queries[..DIM], &opts).unwrap();
        search(view, &queries[..DIM], &opts).unwrap();
        let t = Instant::now();
        let mut hit = 0;
        for qi in 0..nq {
            let got = search(view, &queries[qi * DIM..(qi + 1) * DIM], &opts).unwrap();
            let want = &gt[qi * 100..qi * 100 + 10];
            hit += got.iter().filter(|h| want.contains(&h.id.parse::<i32>().unwrap())).count();
        }
        (hit as f64 / (nq * 10) as f64, nq as f64 / t.elapsed().as_secs_f64())
    };
    let flat_view = SnapshotView::build(&m, vec![Rc::new(flat)]);
    let (r, qps) = run(&flat_view, ScanMode::Exact);
    println!("| mode | probes | rows scanned | recall@10 | QPS (native) |\n|---|---:|---:|---:|---:|");
    println!("| exact | – | 100 % | {r:.4} | {qps:.0} |");
    drop(flat_view);
    let parts = idx.partitions();
    let entries = n + idx.spills.len();
    let probe_rows = |p: usize| -> f64 { (entries as f64 / parts as f64) * p as f64 / n as f64 * 100.0 };
    // Building a view forgets the int8 codes of dropped segments (the exact run's).
    drop(SnapshotView::build(&m, Vec::new()));
    let before = LIVE.load(Ordering::Relaxed);
    let view = SnapshotView::build(&m, vec![Rc::new(indexed.clone())]);
    run(&view, ScanMode::Ann { probes: Some(8), prune: true });
    let resident = (LIVE.load(Ordering::Relaxed) - before) as f64 / n as f64;
    println!(
        "\nresident per vector (decoded segment {:.0} B + view + int8 codes + ANN codes): {resident:.0} B\n",
        indexed.heap_bytes() as f64 / n as f64
    );
    println!("| mode | probes | rows scanned | recall@10 | QPS (native) |\n|---|---:|---:|---:|---:|");
    for probes in std::env::var("PROBES")
        .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect::<Vec<usize>>())
        .unwrap_or(vec![1, 2, 8, 16, 32, 64, 128, 184, 256])
    {
        if probes > parts {
            break;
        }
        let (r, qps) = run(&view, ScanMode::Ann { probes: Some(probes), prune: true });
        println!("| ann | {probes} | {:.1} % | {r:.4} | {qps:.0} |", probe_rows(probes));
    }
    let enc = akidb_core::segment::encode(&indexed);
    println!(
        "\nencoded: {:.1} MB ({:.0} B per vector; flat v1 would be ~{:.0} B)",
        enc.len() as f64 / 1e6,
        enc.len() as f64 / n as f64,
        DIM as f64 * 4.0 + 16.0
    );
}
