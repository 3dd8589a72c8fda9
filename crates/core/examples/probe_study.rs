//! Which partitions must an ANN search scan? A study of probe policies on the real Debian
//! MiniLM set (../shared/datasets/debian-minilm-384), in rows scanned and recall@10, without
//! timing (the kernels do not matter here). It chose the pruning rule of `search::exec::ann`:
//!
//! - `fixed P`: the P partitions with the best centroid scores (the unpruned scan);
//! - `oracle b`: of those, the ones whose centroid score is within `b` of the query's true
//!   10th-best score (an upper bound on what any margin rule can do);
//! - `dynamic b`: the search's rule — best centroid first, stop at the first centroid more than
//!   `b` below the 10th-best score found so far;
//! - `sigmas s`: `dynamic` with `b = s·σ`, σ measured by `index::spread::residual_sigma`.
//!
//! `cargo run --release --example probe_study [-- nospill]`

use std::collections::HashSet;

use akidb_core::index::ivf::{build, BuildOptions};
use akidb_core::index::spread::residual_sigma;
use akidb_core::segment::Segment;
use akidb_core::{Distance, Record};

/// The dataset beside the repository (`../shared` from its root).
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/datasets/debian-minilm-384");
const DIM: usize = 384;
const K: usize = 10;

fn f32s(path: &str) -> Vec<f32> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn unit(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    v.iter().map(|x| x / n).collect()
}

/// One query: centroid scores best first, its true top-10 (dataset ids) and 10th-best score.
struct Query {
    q: Vec<f32>,
    order: Vec<(f32, usize)>,
    top: Vec<usize>,
    kth: f32,
}

fn main() {
    let spill = !std::env::args().any(|a| a == "nospill");
    let base = f32s(&format!("{DIR}/base.f32"));
    let queries = f32s(&format!("{DIR}/queries.f32"));
    let gt: Vec<usize> = std::fs::read(format!("{DIR}/gt.i32"))
        .unwrap()
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as usize)
        .collect();
    let n = base.len() / DIM;
    let recs: Vec<Record> =
        (0..n).map(|i| Record::new(i.to_string(), base[i * DIM..(i + 1) * DIM].to_vec(), None)).collect();
    let seg = build(
        Distance::Cosine,
        &Segment::from_records(&recs, DIM as u16, 0),
        &BuildOptions { spill, ..Default::default() },
    );
    let idx = seg.index.as_ref().unwrap();
    let parts = idx.partitions();
    let id_of: Vec<usize> = (0..n).map(|r| seg.ids[r].parse().unwrap()).collect();
    // Each partition's entries (primary rows, then spill entries) as segment rows.
    let entries: Vec<Vec<usize>> =
        (0..parts).map(|p| idx.rows(p).chain(idx.spilled(p).iter().map(|&r| r as usize)).collect()).collect();
    let total: usize = entries.iter().map(Vec::len).sum();
    let sigma = residual_sigma(Distance::Cosine, &seg);
    println!("{parts} partitions, {total} entries (spill {spill}), σ = {sigma:.4}\n");
    let qs: Vec<Query> = (0..queries.len() / DIM)
        .map(|qi| {
            let q = unit(&queries[qi * DIM..(qi + 1) * DIM]);
            let mut order: Vec<(f32, usize)> = (0..parts).map(|p| (dot(&q, idx.centroid(p)), p)).collect();
            order.sort_by(|a, b| b.0.total_cmp(&a.0));
            let top = gt[qi * 100..qi * 100 + K].to_vec();
            let kth = dot(&q, &unit(&base[top[K - 1] * DIM..top[K - 1] * DIM + DIM]));
            Query { q, order, top, kth }
        })
        .collect();
    // Rows scanned per query and recall@10 of a policy choosing partitions per query.
    let eval = |choose: &dyn Fn(&Query) -> Vec<usize>| -> (f64, f64) {
        let (mut rows, mut hits) = (0usize, 0usize);
        for q in &qs {
            let mut seen = HashSet::new();
            for p in choose(q) {
                rows += entries[p].len();
                seen.extend(entries[p].iter().map(|&r| id_of[r]));
            }
            hits += q.top.iter().filter(|t| seen.contains(t)).count();
        }
        (rows as f64 / qs.len() as f64, hits as f64 / (qs.len() * K) as f64)
    };
    let dynamic = |q: &Query, pmax: usize, b: f32| -> Vec<usize> {
        let mut best: Vec<f32> = Vec::new();
        let mut found = HashSet::new();
        let mut chosen = Vec::new();
        for &(c, p) in &q.order[..pmax] {
            if best.len() >= K && c + b < best[K - 1] {
                break;
            }
            chosen.push(p);
            for &r in &entries[p] {
                if found.insert(id_of[r]) {
                    best.push(dot(&q.q, seg.vector(r)));
                }
            }
            best.sort_by(|x, y| y.total_cmp(x));
            best.truncate(K);
        }
        chosen
    };
    println!("| policy | probes | rows scanned | recall@10 |\n|---|---:|---:|---:|");
    let row = |name: String, pmax: usize, (rows, recall): (f64, f64)| {
        println!("| {name} | {pmax} | {rows:.0} ({:.1} %) | {recall:.4} |", rows / n as f64 * 100.0)
    };
    for pmax in [128, 184, 256, 368, 512] {
        row("fixed".into(), pmax, eval(&|q| q.order[..pmax].iter().map(|x| x.1).collect()));
    }
    for pmax in [256, 368] {
        for b in [0.22f32, 0.25, 0.28] {
            let oracle = |q: &Query| q.order[..pmax].iter().filter(|x| x.0 >= q.kth - b).map(|x| x.1).collect();
            row(format!("oracle b={b}"), pmax, eval(&oracle));
            row(format!("dynamic b={b}"), pmax, eval(&|q| dynamic(q, pmax, b)));
        }
        for s in [2.5f32, 2.9, 3.3] {
            row(format!("sigmas {s} (b={:.3})", s * sigma), pmax, eval(&|q| dynamic(q, pmax, s * sigma)));
        }
    }
}
