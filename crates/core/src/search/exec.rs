//! Search execution over one manifest snapshot: which records are live (newest per id wins,
//! tombstones hide older records), then an exact scan or an int8 scan with f32 re-ranking,
//! with optional metadata pre-filtering.
//!
//! **Exact search** returns the same hits, with the same f32 scores, as scoring every live
//! row with [`kernels::score`]. When it pays off (dimension ≥ 16 and `k` well below the
//! number of live rows) it gets there faster: it scans the int8 codes of each segment and
//! keeps, next to every approximate score, a rigorous bound on its error
//! ([`QuantizedQuery::bound`]). Rows whose upper bound cannot reach the k-th best lower bound
//! are skipped; the rest are re-scored exactly in f32, best upper bound first, stopping as
//! soon as no remaining upper bound can enter the top k. Otherwise it is a plain f32 scan.
//!
//! **Int8 search** is the same scan, but re-scores at most `k · oversample` candidates (the
//! best upper bounds): never slower than exact search, and approximate only when more
//! candidates than that remain (weak bounds, many near-ties); then a true neighbour can be
//! missed. It also screens when exact search would not (small dimension, large `k`).
//!
//! **Filters** are evaluated lazily: a row is tested only when its score (or upper bound)
//! could still enter the top k. Rows that fail are never kept, so the results are exactly
//! those of pre-filtering (the best k among matching rows) while most rows are never
//! tested. A filter used a second time on the same snapshot is evaluated once for every
//! live row; if it is selective (at most half the rows match), the list of matching rows
//! is kept (for up to [`FILTER_CACHE`] filters per snapshot, dropped with the snapshot) and
//! later searches with that filter scan only those rows.
//!
//! The int8 codes of a segment are computed once, on first use, and shared by every
//! snapshot that contains the segment (segments are immutable and cached by id). Exact search
//! first uses them on the second search of a snapshot (or at once if every segment already
//! has codes): a snapshot searched only once is scanned in f32 and holds no codes.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use serde_json::Value;

use super::filter::Filter;
use crate::error::{Error, Result};
use crate::kernels;
use crate::kernels::quant::{self, QuantizedMatrix, QuantizedQuery};
use crate::kernels::topk::TopK;
use crate::limits::MAX_K;
use crate::manifest::{CollectionManifest, Distance};
use crate::segment::Segment;

/// Rows scored per kernel call (scores live on the stack).
const BLOCK: usize = 256;

/// Smallest dimension for which exact search screens with int8 codes; below it a plain
/// f32 scan is as cheap and the bounds are loose.
const SCREEN_MIN_DIM: usize = 16;

/// Exact search screens only if `k · SCREEN_MAX_K_FRACTION <= live rows`: with a large
/// `k` most rows end up re-scored anyway.
const SCREEN_MAX_K_FRACTION: usize = 8;

/// Filters whose matching rows a snapshot remembers (oldest forgotten first).
pub const FILTER_CACHE: usize = 8;

/// How the candidates are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanMode {
    /// Exact f32 scores for every live record (results identical to a full f32 scan).
    #[default]
    Exact,
    /// Exact, always by a plain f32 scan: never computes int8 codes, so the snapshot holds
    /// only the records (for memory-bound hosts; usually slower from the second search on).
    Flat,
    /// Approximate nearest neighbours: in segments with a partition index only the `probes`
    /// partitions nearest the query are scanned (default [`ann::default_probes`]); other
    /// segments are scanned whole. Scores of returned hits are exact.
    Ann {
        /// Partitions probed per indexed segment.
        probes: Option<usize>,
        /// Skip probed partitions whose centroid trails the best hits by more than a margin
        /// (see [`ann::PRUNE_SIGMAS`]); `false` scans every probed partition.
        prune: bool,
    },
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
    /// ANN only: the recall@10 to aim for, in (0, 1]; the partitioning's calibration turns it
    /// into probes (`probes` overrides it). `None`: [`ann::DEFAULT_RECALL`].
    pub recall: Option<f32>,
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
    /// First global row index of each segment.
    offsets: Vec<usize>,
    live: Vec<Vec<bool>>,
    /// Per segment: every row is live (the common case; skips the lookups).
    all_live: Vec<bool>,
    live_count: usize,
    quantized: Vec<OnceCell<Rc<QuantizedMatrix>>>,
    filters: RefCell<Vec<FilterEntry>>,
    /// Searches run on this snapshot (codes are built from the second on; see [`screen_now`]).
    searches: Cell<u32>,
    /// Live row of every id (segment, row), built on the first [`SnapshotView::find_id`].
    ids: OnceCell<HashMap<Box<str>, (u32, u32)>>,
}

/// What a snapshot knows about one filter.
struct FilterEntry {
    filter: Filter,
    state: FilterState,
}

enum FilterState {
    /// Used once: evaluated lazily.
    Seen,
    /// Live matching rows of every segment, ascending.
    Selective(Rc<Vec<Vec<u32>>>),
    /// Matches more than half of the rows: the lazy full scan is as good.
    Broad,
}

impl SnapshotView {
    /// Computes liveness for `segments`, which must be the manifest's segments in order.
    pub fn build(manifest: &CollectionManifest, segments: Vec<Rc<Segment>>) -> Self {
        let seqs = (0..segments.len()).map(|si| manifest.segments.get(si).map_or(0, |s| s.seq)).collect();
        Self::build_with_seqs(manifest, segments, seqs)
    }

    /// [`SnapshotView::build`] over any pieces of the manifest's records, oldest first, with the
    /// commit sequence of the segment each piece came from (for tombstones). Pieces of one
    /// segment may share rows: the same id at the same sequence is one record, live once.
    pub fn build_with_seqs(manifest: &CollectionManifest, segments: Vec<Rc<Segment>>, seqs: Vec<u64>) -> Self {
        purge_quantized();
        let tombs: HashMap<&str, u64> = manifest.tombstones.iter().map(|t| (t.id.as_str(), t.seq)).collect();
        // Newest occurrence of every id: segments are in commit order, later rows win.
        let mut newest: HashMap<&str, (usize, usize)> = HashMap::new();
        for (si, seg) in segments.iter().enumerate() {
            for (row, id) in seg.ids.iter().enumerate() {
                newest.insert(id, (si, row));
            }
        }
        let mut live: Vec<Vec<bool>> = segments.iter().map(|s| vec![false; s.len()]).collect();
        let mut live_count = 0;
        for (id, (si, row)) in newest {
            let seg_seq = seqs.get(si).copied().unwrap_or(0);
            if tombs.get(id).is_none_or(|t| *t < seg_seq) {
                live[si][row] = true;
                live_count += 1;
            }
        }
        let offsets = segments
            .iter()
            .scan(0usize, |acc, s| {
                let o = *acc;
                *acc += s.len();
                Some(o)
            })
            .collect();
        SnapshotView {
            distance: manifest.distance,
            dimension: manifest.dimension as usize,
            all_live: live.iter().map(|l| l.iter().all(|x| *x)).collect(),
            quantized: segments.iter().map(|_| OnceCell::new()).collect(),
            segments,
            offsets,
            live,
            live_count,
            filters: RefCell::new(Vec::new()),
            searches: Cell::new(0),
            ids: OnceCell::new(),
        }
    }

    /// The decoded segments, in the manifest's order.
    pub fn segments(&self) -> &[Rc<Segment>] {
        &self.segments
    }

    /// Live records in this snapshot.
    pub fn live_count(&self) -> usize {
        self.live_count
    }

    /// Whether row `row` of segment `si` is live (the newest row of its id, not deleted).
    pub fn row_is_live(&self, si: usize, row: usize) -> bool {
        self.is_live(si, row)
    }

    /// The live row (segment index, row) holding `id`, if any. The first call builds a map of
    /// every live id (kept with the snapshot), so lookups by id cost O(1) after it.
    pub fn find_id(&self, id: &str) -> Option<(usize, usize)> {
        let map = self.ids.get_or_init(|| {
            let mut m = HashMap::with_capacity(self.live_count);
            for (si, seg) in self.segments.iter().enumerate() {
                for (row, id) in seg.ids.iter().enumerate() {
                    if self.is_live(si, row) {
                        m.insert(Box::from(id), (si as u32, row as u32));
                    }
                }
            }
            m
        });
        map.get(id).map(|&(si, row)| (si as usize, row as usize))
    }

    fn quantized(&self, si: usize) -> &QuantizedMatrix {
        self.quantized[si].get_or_init(|| quantized_segment(&self.segments[si], self.dimension))
    }

    #[inline]
    fn is_live(&self, si: usize, row: usize) -> bool {
        self.all_live[si] || self.live[si][row]
    }

    /// The live rows matching `filter`, per segment, when this filter was used before on
    /// this snapshot and is selective; `None` means "scan everything, filter lazily".
    /// With `eager`, a filter seen for the first time is evaluated at once.
    fn filter_rows(&self, filter: &Filter, eager: bool) -> Option<Rc<Vec<Vec<u32>>>> {
        let mut cache = self.filters.try_borrow_mut().ok()?;
        let at = match cache.iter().position(|e| &e.filter == filter) {
            Some(at) => at,
            None => {
                if cache.len() >= FILTER_CACHE {
                    cache.remove(0);
                }
                cache.push(FilterEntry { filter: filter.clone(), state: FilterState::Seen });
                if !eager {
                    return None;
                }
                cache.len() - 1
            }
        };
        let e = &mut cache[at];
        if let FilterState::Seen = e.state {
            let mut matching = 0;
            let rows: Vec<Vec<u32>> = self
                .segments
                .iter()
                .enumerate()
                .map(|(si, seg)| {
                    let r: Vec<u32> = (0..seg.len())
                        .filter(|&row| self.is_live(si, row) && filter.matches_view(seg.metadata.row(row)))
                        .map(|row| row as u32)
                        .collect();
                    matching += r.len();
                    r
                })
                .collect();
            e.state = if matching * 2 <= self.live_count {
                FilterState::Selective(Rc::new(rows))
            } else {
                FilterState::Broad
            };
        }
        match &e.state {
            FilterState::Selective(rows) => Some(rows.clone()),
            _ => None,
        }
    }

    /// (segment, row) of a global row index.
    fn locate(&self, idx: usize) -> (usize, usize) {
        let si = self.offsets.partition_point(|o| *o <= idx) - 1;
        (si, idx - self.offsets[si])
    }

    /// The exact score of a global row.
    fn exact_score(&self, q: &[f32], idx: u32) -> f32 {
        let (si, row) = self.locate(idx as usize);
        kernels::score(self.distance, q, self.segments[si].vector(row))
    }
}

/// Checks a query and prepares it for scoring (normalised for cosine).
fn prepare_query(view: &SnapshotView, query: &[f32], k: usize) -> Result<Vec<f32>> {
    prepare(view.distance, view.dimension, query, k)
}

/// Checks a query against a collection's `distance` and `dimension` and prepares it for
/// scoring (normalised for cosine). Errors are `INVALID_ARGUMENT`.
pub fn prepare(distance: Distance, dimension: usize, query: &[f32], k: usize) -> Result<Vec<f32>> {
    if k == 0 || k > MAX_K {
        return Err(Error::invalid(format!("k must be between 1 and {MAX_K}, got {k}")));
    }
    if query.len() != dimension {
        return Err(Error::invalid(format!("query has dimension {}, collection expects {dimension}", query.len())));
    }
    if let Some(i) = query.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid(format!("query[{i}] is {} (must be finite)", query[i])));
    }
    let mut q = query.to_vec();
    if distance == Distance::Cosine && !kernels::normalize(&mut q) {
        return Err(Error::invalid("query is a zero vector, which has no cosine similarity"));
    }
    Ok(q)
}

/// Liveness plus the (optional) filter of one search.
struct Admit<'a> {
    view: &'a SnapshotView,
    filter: Option<&'a Filter>,
    /// The live matching rows per segment, when known: then only those are scanned.
    rows: Option<Rc<Vec<Vec<u32>>>>,
}

impl Admit<'_> {
    #[inline]
    fn live(&self, si: usize, row: usize) -> bool {
        self.view.is_live(si, row)
    }

    #[inline]
    fn matches(&self, si: usize, row: usize) -> bool {
        self.filter.is_none_or(|f| f.matches_view(self.view.segments[si].metadata.row(row)))
    }
}

/// Runs one search on `view`.
pub fn search(view: &SnapshotView, query: &[f32], opts: &SearchOptions) -> Result<Vec<SearchHit>> {
    let q = prepare_query(view, query, opts.k)?;
    let filter = opts.filter.as_ref().filter(|f| !f.is_empty());
    // ANN evaluates a filter at once: a selective one makes the search exact over its rows.
    let eager = matches!(opts.mode, ScanMode::Ann { .. });
    let admit = Admit { view, filter, rows: filter.and_then(|f| view.filter_rows(f, eager)) };
    let best = match opts.mode {
        ScanMode::Exact if screening_pays(view, opts.k) && screen_now(view) => {
            screened(view, &q, opts.k, usize::MAX, &admit)
        }
        ScanMode::Exact | ScanMode::Flat => exact_f32(view, &q, opts.k, &admit),
        ScanMode::Ann { probes, prune } => ann::search(view, &q, opts.k, probes, opts.recall, prune, &admit).0,
        ScanMode::Int8 { oversample } => {
            let cap = opts.k.saturating_mul(oversample.max(1));
            screened(view, &q, opts.k, cap, &admit)
        }
    };
    Ok(best
        .into_sorted()
        .into_iter()
        .map(|(score, idx)| {
            let (si, row) = view.locate(idx as usize);
            let seg = &view.segments[si];
            SearchHit {
                id: seg.ids[row].to_string(),
                score,
                metadata: if opts.include_metadata { seg.metadata.value(row) } else { None },
            }
        })
        .collect())
}

/// Whether exact search screens now: once every segment has int8 codes, or from the second
/// search of a snapshot on. Computing codes costs more than one plain f32 scan, so a snapshot
/// searched once (a cold edge request) never pays for them, nor holds their memory
/// (dimension + 16 bytes per record); a snapshot searched again builds them once for all.
fn screen_now(view: &SnapshotView) -> bool {
    let n = view.searches.get();
    view.searches.set(n.saturating_add(1));
    n >= 1 || view.segments.iter().zip(&view.quantized).all(|(seg, q)| q.get().is_some() || has_quantized(seg))
}

fn screening_pays(view: &SnapshotView, k: usize) -> bool {
    view.dimension >= SCREEN_MIN_DIM && k.saturating_mul(SCREEN_MAX_K_FRACTION) <= view.live_count
}

pub mod ann;
pub mod calibrate;
mod codes;
mod scan;
use codes::{has_quantized, purge_quantized, quantized_segment};
use scan::{exact_f32, rescore, screen_bounds, screened};
#[cfg(test)]
mod tests;
