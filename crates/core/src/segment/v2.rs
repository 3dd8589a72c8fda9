//! Segment formats v2 and v3: a segment with a partition index, laid out so that an object
//! store can serve the centroids and any one partition by byte range (docs/FORMAT.md). v3 (what
//! compaction writes) adds the shared partitioning's identity and calibration after the fixed
//! header; v2 objects still decode (their centroids are their own).
//!
//! ```text
//! header   "AKSG" u16 version, u16 flags, u32 dim, u32 rows, u64 created_at_ms,
//!          u32 partitions, u32 spill entries, u64 body offset                    (40 bytes)
//!          v3 only: 16-byte partitioning id, u32 trained rows, u32 calibration entries,
//!          per entry f32 recall@10 and u32 probes
//!          centroids: per partition an f32 power-of-two scale and dim × i8 codes
//!          table: per partition u64 offset, u32 length, u32 rows, u32 spills    (20 bytes each)
//!          u32 CRC-32 of the header so far
//! blocks   per partition, at its offset: spills × u32 (the row each spill copies), then the
//!          records (primary rows, then spill copies: ids, vectors, metadata as in v1),
//!          then u32 CRC-32 of the block
//! trailer  u32 CRC-32 of everything before it (the descriptor's checksum covers the object)
//! ```
//!
//! Rows are numbered in partition order: partition `p`'s primary rows follow those of
//! `p - 1`. A block holds full copies of its spilled rows, so a range read of one block is
//! self-contained; a whole-object decode keeps only the primary rows and the spill row numbers.

use super::codec::{self, Reader};
use super::partition::{centroid_code, centroid_scale, Calibration, PartitionIndex, Partitioning};
use super::{check_dimension, Segment, SegmentBuilder, MAGIC};
use crate::error::{Error, Result};

/// The format version compaction writes for indexed segments (a shared partitioning).
pub const VERSION: u16 = 3;
/// The first indexed format (a segment's own centroids), still read.
pub const VERSION_V2: u16 = 2;
/// Most calibration entries a header may hold.
const MAX_CALIBRATION: usize = 64;
/// Bytes of the fixed part of the header.
pub const FIXED_HEADER: usize = 40;
const TABLE_ENTRY: usize = 20;

/// Where one partition's block lies in the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Byte offset in the object.
    pub offset: u64,
    /// Length in bytes (its CRC included).
    pub len: u32,
    /// Primary rows.
    pub rows: u32,
    /// Spill copies.
    pub spills: u32,
}

/// The decoded header of a v2 segment: enough to choose partitions and read them by range.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Vector dimension.
    pub dimension: u16,
    /// Primary rows in the segment.
    pub rows: usize,
    /// Creation time, ms since the epoch.
    pub created_at_ms: u64,
    /// The centroids (and for v3 their identity and calibration).
    pub partitioning: Partitioning,
    /// One block per partition.
    pub blocks: Vec<Block>,
    /// Bytes of the header (the first block starts here).
    pub len: usize,
}

/// Encodes `seg` (rows in partition order) with its index, in format [`VERSION`].
pub fn encode(seg: &Segment, index: &PartitionIndex) -> Vec<u8> {
    encode_as(seg, index, VERSION)
}

/// [`encode`] in format `version` (2 or 3). Only compatibility tests write v2 (which drops the
/// partitioning's identity and calibration).
pub fn encode_as(seg: &Segment, index: &PartitionIndex, version: u16) -> Vec<u8> {
    let dim = seg.dimension as usize;
    let parts = index.partitions();
    let metas = codec::encoded_metadata(seg);
    let shared = &index.shared;
    let cal = &shared.calibration[..shared.calibration.len().min(MAX_CALIBRATION)];
    let ext = if version >= VERSION { 24 + cal.len() * 8 } else { 0 };
    let header_len = FIXED_HEADER + ext + parts * (4 + dim) + parts * TABLE_ENTRY + 4;
    let mut out = Vec::with_capacity(header_len + seg.vectors.len() * 4 * 2);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(dim as u32).to_le_bytes());
    out.extend_from_slice(&(seg.len() as u32).to_le_bytes());
    out.extend_from_slice(&seg.created_at_ms.to_le_bytes());
    out.extend_from_slice(&(parts as u32).to_le_bytes());
    out.extend_from_slice(&(index.spills.len() as u32).to_le_bytes());
    out.extend_from_slice(&(header_len as u64).to_le_bytes());
    if version >= VERSION {
        out.extend_from_slice(shared.id.unwrap_or_default().as_bytes());
        out.extend_from_slice(&shared.trained_rows.to_le_bytes());
        out.extend_from_slice(&(cal.len() as u32).to_le_bytes());
        for c in cal {
            out.extend_from_slice(&c.recall.to_le_bytes());
            out.extend_from_slice(&c.probes.to_le_bytes());
        }
    }
    for c in index.centroids().chunks_exact(dim) {
        let scale = centroid_scale(c);
        out.extend_from_slice(&scale.to_le_bytes());
        out.extend(c.iter().map(|&x| centroid_code(x, scale) as u8));
    }
    let table_at = out.len();
    out.resize(table_at + parts * TABLE_ENTRY, 0);
    out.extend_from_slice(&[0; 4]); // header CRC, once the table is filled in
    let mut rows: Vec<u32> = Vec::new();
    for p in 0..parts {
        let start = out.len();
        let spilled = index.spilled(p);
        for &r in spilled {
            out.extend_from_slice(&r.to_le_bytes());
        }
        rows.clear();
        rows.extend(index.rows(p).map(|r| r as u32));
        rows.extend_from_slice(spilled);
        codec::write_records(&mut out, seg, &rows, &metas);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
        let entry = table_at + p * TABLE_ENTRY;
        out[entry..entry + 8].copy_from_slice(&(start as u64).to_le_bytes());
        let len = (out.len() - start) as u32;
        out[entry + 8..entry + 12].copy_from_slice(&len.to_le_bytes());
        out[entry + 12..entry + 16].copy_from_slice(&(index.rows(p).len() as u32).to_le_bytes());
        out[entry + 16..entry + 20].copy_from_slice(&(spilled.len() as u32).to_le_bytes());
    }
    let crc = crc32fast::hash(&out[..header_len - 4]);
    out[header_len - 4..header_len].copy_from_slice(&crc.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Whether the first bytes of an object are those of an indexed (v2 or v3) segment.
pub fn is_indexed(fixed: &[u8]) -> bool {
    fixed.len() >= 6
        && &fixed[..4] == MAGIC
        && [VERSION_V2, VERSION].contains(&u16::from_le_bytes([fixed[4], fixed[5]]))
}

/// The header length an indexed object declares, from its first [`FIXED_HEADER`] bytes.
pub fn header_len(fixed: &[u8]) -> Result<usize> {
    let mut r = Reader { buf: fixed, pos: 0 };
    if !is_indexed(fixed) {
        return Err(Error::corrupt("not an indexed (v2/v3) segment object"));
    }
    r.pos = 6;
    r.pos = 32;
    usize::try_from(r.u64("header length")?).map_err(|_| Error::corrupt("v2 header length out of range"))
}

/// Decodes and verifies the header from the first bytes of a v2 object (at least its
/// declared header length).
pub fn decode_header(bytes: &[u8]) -> Result<Header> {
    let len = header_len(bytes)?;
    if len < FIXED_HEADER + 4 || len > bytes.len() {
        return Err(Error::corrupt(format!("v2 header of {len} bytes does not fit {} bytes", bytes.len())));
    }
    let (head, crc) = bytes[..len].split_at(len - 4);
    if crc32fast::hash(head) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(Error::corrupt("v2 segment header checksum mismatch"));
    }
    let version = u16::from_le_bytes([head[4], head[5]]);
    let mut r = Reader { buf: head, pos: 8 };
    let dim = check_dimension(r.u32("dimension")?)?;
    let rows = r.u32("record count")? as usize;
    let created_at_ms = r.u64("creation time")?;
    let parts = r.u32("partitions")? as usize;
    let _spills = r.u32("spill entries")?;
    r.u64("header length")?;
    let d = dim as usize;
    let mut partitioning = Partitioning { dim: d, ..Default::default() };
    if version >= VERSION {
        let id: [u8; 16] = r.take(16, "partitioning id")?.try_into().expect("16 bytes");
        partitioning.id = Some(uuid::Uuid::from_bytes(id));
        partitioning.trained_rows = r.u32("trained rows")?;
        let n = r.u32("calibration entries")? as usize;
        if n > MAX_CALIBRATION {
            return Err(Error::corrupt(format!("v3 header claims {n} calibration entries")));
        }
        for _ in 0..n {
            let recall = f32::from_le_bytes(r.take(4, "calibrated recall")?.try_into().expect("4 bytes"));
            partitioning.calibration.push(Calibration { recall, probes: r.u32("calibrated probes")? });
        }
    }
    if parts.checked_mul(4 + d + TABLE_ENTRY).is_none_or(|n| n != r.remaining()) {
        return Err(Error::corrupt(format!("v2 header claims {parts} partitions but holds {} bytes", r.remaining())));
    }
    let centroids = &mut partitioning.centroids;
    centroids.reserve(parts * d);
    for p in 0..parts {
        let scale = f32::from_le_bytes(r.take(4, "centroid scale")?.try_into().expect("4 bytes"));
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::corrupt(format!("partition {p}: centroid scale {scale} out of range")));
        }
        centroids.extend(r.take(d, "centroid")?.iter().map(|&c| c as i8 as f32 * scale));
    }
    let mut blocks = Vec::with_capacity(parts);
    let mut next = len as u64;
    let mut total = 0usize;
    for p in 0..parts {
        let b = Block {
            offset: r.u64("block offset")?,
            len: r.u32("block length")?,
            rows: r.u32("rows")?,
            spills: r.u32("spills")?,
        };
        // Blocks are contiguous and in order; anything else is not a layout we wrote.
        if b.offset != next || (b.len as usize) < 4 {
            return Err(Error::corrupt(format!("partition {p}: block at {} is not where it belongs", b.offset)));
        }
        next += b.len as u64;
        total = total.saturating_add(b.rows as usize);
        blocks.push(b);
    }
    if total != rows {
        return Err(Error::corrupt(format!("partitions hold {total} rows, the header says {rows}")));
    }
    Ok(Header { dimension: dim, rows, created_at_ms, partitioning, blocks, len })
}

/// One partition read on its own: its primary rows then its spill copies, and for each spill
/// copy the segment row it copies.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// The records (primary rows first, then spill copies).
    pub segment: Segment,
    /// Primary rows in `segment`.
    pub rows: usize,
    /// Segment row of each spill copy (`segment` rows `rows..`).
    pub spill_rows: Vec<u32>,
}

/// Decodes and verifies partition `p`'s block (exactly its bytes, as a range read returns).
pub fn decode_partition(h: &Header, p: usize, block: &[u8]) -> Result<Partition> {
    let b = *h.blocks.get(p).ok_or_else(|| Error::corrupt(format!("no partition {p}")))?;
    if block.len() != b.len as usize {
        return Err(Error::corrupt(format!("partition {p}: {} bytes, the header says {}", block.len(), b.len)));
    }
    let (body, crc) = block.split_at(block.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(Error::corrupt(format!("partition {p}: block checksum mismatch")));
    }
    let mut r = Reader { buf: body, pos: 0 };
    let spill_rows = read_spill_rows(&mut r, b.spills as usize, h.rows)?;
    let n = (b.rows + b.spills) as usize;
    let mut sb = SegmentBuilder::new(h.dimension, h.created_at_ms, 0);
    codec::read_records(&mut r, n, n, &mut sb)?;
    if r.remaining() != 0 {
        return Err(Error::corrupt(format!("partition {p}: {} unexpected bytes", r.remaining())));
    }
    Ok(Partition { segment: sb.finish(), rows: b.rows as usize, spill_rows })
}

fn read_spill_rows(r: &mut Reader, n: usize, rows: usize) -> Result<Vec<u32>> {
    let raw = r.take(n.checked_mul(4).ok_or_else(|| Error::corrupt("spill count overflows"))?, "spill rows")?;
    let out: Vec<u32> = raw.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
    if out.iter().any(|&s| s as usize >= rows) {
        return Err(Error::corrupt("a spill entry names a row past the end"));
    }
    Ok(out)
}

/// Decodes a whole v2 object (`body` = the object without its verified CRC trailer).
pub(super) fn decode(body: &[u8]) -> Result<Segment> {
    let h = decode_header(body)?;
    let d = h.dimension as usize;
    let mut sb = SegmentBuilder::new(h.dimension, h.created_at_ms, h.rows);
    let mut starts = Vec::with_capacity(h.blocks.len() + 1);
    let mut spill_starts = Vec::with_capacity(h.blocks.len() + 1);
    let mut spills = Vec::new();
    starts.push(0u32);
    spill_starts.push(0u32);
    let mut end = h.len;
    for (p, b) in h.blocks.iter().enumerate() {
        let at = b.offset as usize;
        end = at + b.len as usize;
        let block = body.get(at..end).ok_or_else(|| Error::corrupt(format!("partition {p}: block past the end")))?;
        let mut r = Reader { buf: &block[..block.len() - 4], pos: 0 };
        spills.extend(read_spill_rows(&mut r, b.spills as usize, h.rows)?);
        let n = (b.rows + b.spills) as usize;
        codec::read_records(&mut r, n, b.rows as usize, &mut sb)?;
        if r.remaining() != 0 {
            return Err(Error::corrupt(format!("partition {p}: {} unexpected bytes", r.remaining())));
        }
        starts.push(sb.ids.len() as u32);
        spill_starts.push(spills.len() as u32);
    }
    if end != body.len() {
        return Err(Error::corrupt(format!("{} unexpected bytes after the last partition", body.len() - end)));
    }
    let shared = super::partition::shared(h.partitioning);
    let index = PartitionIndex { dim: d, shared, starts, spill_starts, spills };
    let mut seg = sb.finish();
    index.validate(seg.len(), d)?;
    seg.index = Some(index);
    Ok(seg)
}

#[cfg(test)]
#[path = "v2_tests.rs"]
mod tests;
