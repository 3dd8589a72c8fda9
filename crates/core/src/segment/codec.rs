//! Shared pieces of the segment formats: a bounds-checked reader and the record run codec
//! (ids, then vectors, then metadata JSON), used by format v1 for the whole segment and by
//! format v2 for each partition block.

use super::{Segment, SegmentBuilder};
use crate::error::{Error, Result};

/// Reads little-endian fields; running past the end is `CORRUPT`, never a panic.
pub(super) struct Reader<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end =
            self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or_else(|| {
                Error::corrupt(format!("segment truncated while reading {what} at byte {}", self.pos))
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().expect("2 bytes")))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

/// Bytes [`write_records`] needs for `rows` of `seg`, given their encoded metadata.
pub(super) fn records_len(seg: &Segment, rows: &[u32], metas: &[Vec<u8>]) -> usize {
    rows.iter().map(|&r| 8 + seg.ids[r as usize].len() + metas[r as usize].len()).sum::<usize>()
        + rows.len() * seg.dimension as usize * 4
}

/// Every record's metadata as JSON bytes (empty = none).
pub(super) fn encoded_metadata(seg: &Segment) -> Vec<Vec<u8>> {
    (0..seg.len())
        .map(|i| {
            seg.metadata.value(i).map(|v| serde_json::to_vec(&v).expect("JSON value serialises")).unwrap_or_default()
        })
        .collect()
}

/// Appends records `rows` of `seg`: every id (length-prefixed), every vector, every metadata
/// (length-prefixed JSON, empty for none).
pub(super) fn write_records(out: &mut Vec<u8>, seg: &Segment, rows: &[u32], metas: &[Vec<u8>]) {
    for &r in rows {
        let id = &seg.ids[r as usize];
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        out.extend_from_slice(id.as_bytes());
    }
    for &r in rows {
        for x in seg.vector(r as usize) {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    for &r in rows {
        let m = &metas[r as usize];
        out.extend_from_slice(&(m.len() as u32).to_le_bytes());
        out.extend_from_slice(m);
    }
}

/// Reads a run of `count` records written by [`write_records`]; the first `keep` go into `b`,
/// the rest are only framed (a full v2 decode skips the spilled copies it already has).
pub(super) fn read_records(r: &mut Reader, count: usize, keep: usize, b: &mut SegmentBuilder) -> Result<()> {
    let dim = b.dimension as usize;
    // Every record needs at least 4 (id len) + 4*dim + 4 (meta len) bytes: bound allocations.
    if count.checked_mul(8 + 4 * dim).is_none_or(|n| n > r.remaining()) {
        return Err(Error::corrupt(format!("segment claims {count} records but holds {} bytes", r.remaining())));
    }
    let base = b.ids.len();
    b.vectors.reserve(keep * dim);
    for i in 0..count {
        let len = r.u32("id length")? as usize;
        let raw = r.take(len, "id")?;
        if i < keep {
            let id = std::str::from_utf8(raw)
                .map_err(|_| Error::corrupt(format!("record {}: id is not UTF-8", base + i)))?;
            b.ids.push(id);
        }
    }
    let raw = r.take(count * dim * 4, "vectors")?;
    b.vectors.extend(raw[..keep * dim * 4].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))));
    for i in 0..count {
        let len = r.u32("metadata length")? as usize;
        let raw = r.take(len, "metadata")?;
        if i >= keep {
            continue;
        }
        if raw.is_empty() {
            b.metadata.push(None);
        } else {
            let v: serde_json::Value = serde_json::from_slice(raw)
                .map_err(|e| Error::corrupt(format!("record {}: metadata is not JSON: {e}", base + i)))?;
            b.metadata.push(Some(&v).filter(|v| !v.is_null()));
        }
    }
    Ok(())
}
