//! Cold ANN queries by byte range. When a snapshot is not in memory, an ANN search on a
//! collection whose oldest segment carries a partition index (format v2) reads that segment's
//! header (centroids and block table) and only the blocks of the partitions the query probes —
//! chosen exactly as an in-memory ANN search chooses them — instead of the whole object. Newer
//! segments are read whole (they are small after compaction), so every record that could shadow
//! or delete an indexed row is known: newest-wins and deletes hold as in a full read.
//!
//! Only the oldest segment is read partially. A row of an older segment could be shadowed by a
//! row in an unread partition of a newer indexed one; rather than guess, a snapshot whose
//! indexed segment is not the oldest is read whole (the full path).
//!
//! Headers and partitions are cached per database by (segment, partition) within a byte budget
//! (default [`PARTITION_CACHE_BYTES`]; `Database::with_partition_cache_bytes`), least recently
//! used first out; segments are immutable, so an entry never goes stale.

use std::collections::HashMap;
use std::rc::Rc;

use futures::StreamExt;
use uuid::Uuid;

use super::Collection;
use crate::error::{Error, Result};
use crate::kernels::quant::{self, QuantizedMatrix};
use crate::limits::MAX_PARALLEL_READS;
use crate::limits::{IVF_MIN_ROWS, PARTITION_CACHE_BYTES};
use crate::manifest::SegmentDescriptor;
use crate::search::exec::{self, ann, ScanMode, SearchHit, SearchOptions, SnapshotView};
use crate::segment::{v2, Segment};

/// Blocks closer than this are fetched by one request (fewer requests for a few wasted bytes).
pub const MERGE_GAP_BYTES: u64 = 256 << 10;
/// Index headers kept per database (each is the centroids: partitions × dimension × 4 bytes).
const MAX_HEADERS: usize = 8;

/// A segment's index header with the int8 codes of its centroids.
pub struct IndexHeader {
    /// The decoded header.
    pub header: v2::Header,
    centroids: QuantizedMatrix,
}

/// Index headers and partitions read by range, shared by a database's handles.
pub struct PartitionCache {
    /// Most bytes of decoded partitions kept.
    pub budget: usize,
    /// `None`: the segment has no index (a v1 object), so reading it by range is pointless.
    headers: HashMap<Uuid, Option<Rc<IndexHeader>>>,
    parts: HashMap<(Uuid, u32), (Rc<Segment>, usize, u64)>,
    used: usize,
    tick: u64,
}

impl Default for PartitionCache {
    fn default() -> Self {
        PartitionCache {
            budget: PARTITION_CACHE_BYTES,
            headers: HashMap::new(),
            parts: HashMap::new(),
            used: 0,
            tick: 0,
        }
    }
}

impl PartitionCache {
    fn part(&mut self, id: Uuid, p: u32) -> Option<Rc<Segment>> {
        self.tick += 1;
        let tick = self.tick;
        self.parts.get_mut(&(id, p)).map(|e| {
            e.2 = tick;
            e.0.clone()
        })
    }

    fn insert_part(&mut self, id: Uuid, p: u32, seg: Rc<Segment>) {
        self.tick += 1;
        let bytes = seg.heap_bytes();
        if let Some(old) = self.parts.insert((id, p), (seg, bytes, self.tick)) {
            self.used -= old.1;
        }
        self.used += bytes;
        while self.used > self.budget && !self.parts.is_empty() {
            let oldest = *self.parts.iter().min_by_key(|(_, e)| e.2).map(|(k, _)| k).expect("not empty");
            let (_, b, _) = self.parts.remove(&oldest).expect("present");
            self.used -= b;
        }
    }

    fn insert_header(&mut self, id: Uuid, h: Option<Rc<IndexHeader>>) {
        if self.headers.len() >= MAX_HEADERS {
            self.headers.clear();
        }
        self.headers.insert(id, h);
    }

    /// Bytes of decoded partitions held.
    pub fn bytes(&self) -> usize {
        self.used
    }

    /// Partitions held.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// True when no partition is held.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// The ANN search of `opts` by range reads, or `None` when this snapshot or store does not
/// allow it (then the caller reads whole segments).
pub async fn search(
    c: &Collection,
    query: &[f32],
    opts: &SearchOptions,
    probes: Option<usize>,
) -> Result<Option<Vec<SearchHit>>> {
    let m = c.snapshot();
    let kv = c.storage.kv();
    // A filter may need any row's metadata (and a selective one makes the search exact).
    if opts.filter.is_some() || !kv.supports_ranges() {
        return Ok(None);
    }
    let Some(first) = m.segments.first() else { return Ok(None) };
    if (first.record_count as usize) < IVF_MIN_ROWS || c.cache.get(&c.name, &first.id).is_some() {
        return Ok(None);
    }
    let key = c.storage.segment_key(&m.collection, m.incarnation, first);
    let Some(h) = header(c, &key, first).await? else { return Ok(None) };
    let q = exec::prepare(m.distance, m.dimension as usize, query, opts.k)?;
    let parts = h.header.blocks.len();
    let probes = ann::probes_for(&h.header.partitioning, probes, opts.recall).min(parts);
    let mut wanted = ann::probe_order(m.distance, &quant::quantize_query(&q), &h.centroids, probes);
    wanted.sort_unstable();
    // Newer segments whole (usually cached or small), then the missing partitions.
    let newer = c.segments_of(&m, &m.segments[1..]).await?;
    c.state.borrow_mut().cold = newer.clone();
    let mut have: HashMap<u32, Rc<Segment>> = HashMap::new();
    let mut missing = Vec::new();
    {
        let mut cache = c.cache.partitions.borrow_mut();
        for &p in &wanted {
            match cache.part(first.id, p) {
                Some(s) => {
                    have.insert(p, s);
                }
                None => missing.push(p),
            }
        }
    }
    let fetches = futures::stream::iter(runs(&h.header, &missing).into_iter().map(|run| {
        let key = &key;
        let h = &h;
        async move { fetch_run(kv, key, &h.header, run).await }
    }))
    .buffered(MAX_PARALLEL_READS)
    .collect::<Vec<_>>()
    .await;
    {
        let mut cache = c.cache.partitions.borrow_mut();
        for fetched in fetches {
            for (p, seg) in fetched? {
                let seg = Rc::new(seg);
                cache.insert_part(first.id, p, seg.clone());
                have.insert(p, seg);
            }
        }
    }
    let mut segments: Vec<Rc<Segment>> = wanted.iter().map(|p| have[p].clone()).collect();
    let mut seqs = vec![first.seq; segments.len()];
    seqs.extend(m.segments[1..].iter().map(|d| d.seq));
    segments.extend(newer);
    let view = SnapshotView::build_with_seqs(&m, segments, seqs);
    // Exact over the probed rows: the rows an in-memory ANN search scans, so the same hits.
    let exact = SearchOptions { mode: ScanMode::Exact, ..opts.clone() };
    exec::search(&view, query, &exact).map(Some)
}

/// The header of `desc`'s object (cached), or `None` when it has no index.
async fn header(c: &Collection, key: &str, desc: &SegmentDescriptor) -> Result<Option<Rc<IndexHeader>>> {
    if let Some(h) = c.cache.partitions.borrow().headers.get(&desc.id) {
        return Ok(h.clone());
    }
    let kv = c.storage.kv();
    let missing = || Error::SegmentMissing { key: key.to_string() };
    let fixed = kv.get_range(key, 0, v2::FIXED_HEADER as u64).await?.ok_or_else(missing)?;
    if fixed.len() != v2::FIXED_HEADER || !v2::is_indexed(&fixed) {
        c.cache.partitions.borrow_mut().insert_header(desc.id, None);
        return Ok(None);
    }
    let len = v2::header_len(&fixed)?;
    if len as u64 > desc.size_bytes {
        return Err(Error::corrupt(format!("segment object {key}: index header longer than the object")));
    }
    let bytes = kv.get_range(key, 0, len as u64).await?.ok_or_else(missing)?;
    let header = v2::decode_header(&bytes)?;
    let end = header.blocks.last().map_or(header.len as u64, |b| b.offset + b.len as u64);
    if header.rows as u64 != desc.record_count || header.dimension != desc.dimension || end + 4 != desc.size_bytes {
        return Err(Error::corrupt(format!("segment object {key} does not match its descriptor")));
    }
    let centroids = QuantizedMatrix::from_f32(&header.partitioning.centroids, header.dimension as usize);
    let h = Rc::new(IndexHeader { header, centroids });
    c.cache.partitions.borrow_mut().insert_header(desc.id, Some(h.clone()));
    Ok(Some(h))
}

/// Runs of partitions (ascending) whose blocks lie within [`MERGE_GAP_BYTES`] of each other:
/// each run is one range request.
pub fn runs(h: &v2::Header, partitions: &[u32]) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    for &p in partitions {
        let b = h.blocks[p as usize];
        match out.last_mut() {
            Some(run) => {
                let last = h.blocks[*run.last().expect("runs are not empty") as usize];
                if b.offset.saturating_sub(last.offset + last.len as u64) <= MERGE_GAP_BYTES {
                    run.push(p);
                } else {
                    out.push(vec![p]);
                }
            }
            None => out.push(vec![p]),
        }
    }
    out
}

/// Reads one run of blocks with a single range request and decodes its partitions.
async fn fetch_run(kv: &dyn crate::kv::Kv, key: &str, h: &v2::Header, run: Vec<u32>) -> Result<Vec<(u32, Segment)>> {
    let first = h.blocks[run[0] as usize];
    let last = h.blocks[*run.last().expect("runs are not empty") as usize];
    let start = first.offset;
    let len = last.offset + last.len as u64 - start;
    let bytes = kv.get_range(key, start, len).await?.ok_or_else(|| Error::SegmentMissing { key: key.to_string() })?;
    if bytes.len() as u64 != len {
        return Err(Error::corrupt(format!(
            "segment object {key}: range read returned {} of {len} bytes",
            bytes.len()
        )));
    }
    run.into_iter()
        .map(|p| {
            let b = h.blocks[p as usize];
            let at = (b.offset - start) as usize;
            let part = v2::decode_partition(h, p as usize, &bytes[at..at + b.len as usize])?;
            Ok((p, part.segment))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn part(rows: usize) -> Rc<Segment> {
        let recs: Vec<Record> = (0..rows).map(|i| Record::new(format!("r{i}"), vec![i as f32; 8], None)).collect();
        Rc::new(Segment::from_records(&recs, 8, 0))
    }

    #[test]
    fn the_partition_cache_keeps_its_budget_and_evicts_the_least_recently_used() {
        let id = crate::runtime::new_uuid();
        let one = part(100).heap_bytes();
        let mut c = PartitionCache { budget: one * 3, ..Default::default() };
        for p in 0..3 {
            c.insert_part(id, p, part(100));
        }
        assert_eq!((c.len(), c.bytes()), (3, one * 3));
        // Partition 0 used again: 1 is now the least recently used and goes first.
        assert!(c.part(id, 0).is_some());
        c.insert_part(id, 3, part(100));
        assert_eq!(c.len(), 3);
        assert!(c.bytes() <= c.budget);
        assert!(c.part(id, 1).is_none(), "the least recently used partition was kept");
        assert!(c.part(id, 0).is_some() && c.part(id, 2).is_some() && c.part(id, 3).is_some());
        // Re-inserting a key replaces its bytes instead of counting them twice.
        c.insert_part(id, 3, part(100));
        assert_eq!(c.bytes(), one * 3);
        // Something larger than the whole budget is not kept.
        c.insert_part(id, 9, part(1000));
        assert!(c.bytes() <= c.budget && c.part(id, 9).is_none());
    }
}
