//! Search execution over one manifest snapshot: which records are live (newest per id wins,
//! tombstones hide older records), then an exact f32 scan or an int8 scan with f32 re-ranking,
//! with optional metadata pre-filtering.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use super::filter::Filter;
use super::kernels;
use super::quant::{self, QuantizedMatrix};
use super::topk::TopK;
use crate::error::{Error, Result};
use crate::manifest::{CollectionManifest, Distance};
use crate::segment::Segment;

/// Largest `k` a search accepts.
pub const MAX_K: usize = 10_000;

/// How the candidates are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanMode {
    /// Exact f32 scores for every live record.
    #[default]
    Exact,
    /// int8 approximate scores, then exact f32 re-ranking of the best `k * oversample`.
    Int8 {
        /// Candidate multiplier for re-ranking (≥ 1).
        oversample: usize,
    },
}

/// Options of one search.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Number of results, 1..=10,000.
    pub k: usize,
    /// Metadata pre-filter.
    pub filter: Option<Filter>,
    /// Return each hit's metadata.
    pub include_metadata: bool,
    /// Exact or int8 + re-rank.
    pub mode: ScanMode,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// Record id.
    pub id: String,
    /// Higher is better: cosine similarity, dot product, or negative squared L2.
    pub score: f32,
    /// The record's metadata when requested.
    pub metadata: Option<Value>,
}

/// The searchable state of one manifest version.
pub struct SnapshotView {
    distance: Distance,
    dimension: usize,
    segments: Vec<Rc<Segment>>,
    live: Vec<Vec<bool>>,
    live_count: usize,
    quantized: OnceCell<Vec<QuantizedMatrix>>,
}

impl SnapshotView {
    /// Computes liveness for `segments`, which must be the manifest's segments in order.
    pub fn build(manifest: &CollectionManifest, segments: Vec<Rc<Segment>>) -> Self {
        let tombs: HashMap<&str, u64> = manifest.tombstones.iter().map(|t| (t.id.as_str(), t.seq)).collect();
        // Newest occurrence of every id: segments are in commit order, later rows win.
        let mut newest: HashMap<&str, (usize, usize)> = HashMap::new();
        for (si, seg) in segments.iter().enumerate() {
            for (row, id) in seg.ids.iter().enumerate() {
                newest.insert(id.as_str(), (si, row));
            }
        }
        let mut live: Vec<Vec<bool>> = segments.iter().map(|s| vec![false; s.len()]).collect();
        let mut live_count = 0;
        for (id, (si, row)) in newest {
            let seg_seq = manifest.segments[si].seq;
            if tombs.get(id).is_none_or(|t| *t < seg_seq) {
                live[si][row] = true;
                live_count += 1;
            }
        }
        SnapshotView {
            distance: manifest.distance,
            dimension: manifest.dimension as usize,
            segments,
            live,
            live_count,
            quantized: OnceCell::new(),
        }
    }

    /// Live records in this snapshot.
    pub fn live_count(&self) -> usize {
        self.live_count
    }

    fn quantized(&self) -> &[QuantizedMatrix] {
        self.quantized.get_or_init(|| {
            self.segments.iter().map(|s| QuantizedMatrix::from_f32(&s.vectors, self.dimension)).collect()
        })
    }
}

/// Checks a query and prepares it for scoring (normalised for cosine).
fn prepare_query(view: &SnapshotView, query: &[f32], k: usize) -> Result<Vec<f32>> {
    if k == 0 || k > MAX_K {
        return Err(Error::invalid(format!("k must be between 1 and {MAX_K}, got {k}")));
    }
    if query.len() != view.dimension {
        return Err(Error::invalid(format!(
            "query has dimension {}, collection expects {}",
            query.len(),
            view.dimension
        )));
    }
    if let Some(i) = query.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid(format!("query[{i}] is {} (must be finite)", query[i])));
    }
    let mut q = query.to_vec();
    if view.distance == Distance::Cosine && !kernels::normalize(&mut q) {
        return Err(Error::invalid("query is a zero vector, which has no cosine similarity"));
    }
    Ok(q)
}

/// Runs one search on `view`.
pub fn search(view: &SnapshotView, query: &[f32], opts: &SearchOptions) -> Result<Vec<SearchHit>> {
    let q = prepare_query(view, query, opts.k)?;
    let admit = |si: usize, row: usize| -> bool {
        view.live[si][row] && opts.filter.as_ref().is_none_or(|f| f.matches(view.segments[si].metadata[row].as_ref()))
    };
    let mut best = TopK::new(opts.k);
    let mut scores = Vec::new();
    // Global candidate index -> (segment, row), via per-segment offsets.
    let offsets: Vec<usize> = view
        .segments
        .iter()
        .scan(0usize, |acc, s| {
            let o = *acc;
            *acc += s.len();
            Some(o)
        })
        .collect();
    match opts.mode {
        ScanMode::Exact => {
            for (si, seg) in view.segments.iter().enumerate() {
                if opts.filter.is_some() {
                    // Pre-filter: score only admitted rows.
                    for row in 0..seg.len() {
                        if admit(si, row) {
                            best.push(kernels::score(view.distance, &q, seg.vector(row)), (offsets[si] + row) as u32);
                        }
                    }
                } else {
                    scores.resize(seg.len(), 0.0);
                    kernels::score_many(view.distance, &q, &seg.vectors, view.dimension, &mut scores);
                    for (row, s) in scores.iter().enumerate() {
                        if *s >= best.threshold() && view.live[si][row] {
                            best.push(*s, (offsets[si] + row) as u32);
                        }
                    }
                }
            }
        }
        ScanMode::Int8 { oversample } => {
            let qq = quant::quantize_query(&q);
            let mut candidates = TopK::new(opts.k.saturating_mul(oversample.max(1)).min(MAX_K * 16));
            for (si, qm) in view.quantized().iter().enumerate() {
                scores.resize(view.segments[si].len(), 0.0);
                quant::approx_scores(view.distance, &qq, qm, &mut scores);
                for (row, s) in scores.iter().enumerate() {
                    if *s >= candidates.threshold() && admit(si, row) {
                        candidates.push(*s, (offsets[si] + row) as u32);
                    }
                }
            }
            for (_, idx) in candidates.into_sorted() {
                let (si, row) = locate(&offsets, idx as usize);
                best.push(kernels::score(view.distance, &q, view.segments[si].vector(row)), idx);
            }
        }
    }
    Ok(best
        .into_sorted()
        .into_iter()
        .map(|(score, idx)| {
            let (si, row) = locate(&offsets, idx as usize);
            let seg = &view.segments[si];
            SearchHit {
                id: seg.ids[row].clone(),
                score,
                metadata: if opts.include_metadata { seg.metadata[row].clone() } else { None },
            }
        })
        .collect())
}

fn locate(offsets: &[usize], idx: usize) -> (usize, usize) {
    let si = offsets.partition_point(|o| *o <= idx) - 1;
    (si, idx - offsets[si])
}
