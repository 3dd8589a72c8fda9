//! The segment object codec: a versioned, checksummed binary container for ids, f32 vectors and
//! per-record JSON metadata. Layout in docs/FORMAT.md. Decoding never panics and never
//! allocates more than the input justifies.

mod codec;
mod ids;
mod meta;
pub mod partition;
pub mod v2;

pub use ids::IdColumn;
pub use meta::{Leaf, MetaBuilder, MetaColumn, MetaRef, MetaView};

use crate::error::{Error, Result};
use crate::record::Record;
use codec::Reader;
use partition::PartitionIndex;

/// Magic bytes at the start of every segment object.
pub const MAGIC: &[u8; 4] = b"AKSG";
/// Current format version.
pub const FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 4 + 2 + 2 + 4 + 4 + 8;
const TRAILER_LEN: usize = 4;

/// A decoded segment, stored column-wise for scanning. Immutable once built (segments are
/// shared by every snapshot that lists them); [`SegmentBuilder`] makes new ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Vector dimension.
    pub dimension: u16,
    /// Record ids, in record order.
    pub ids: IdColumn,
    /// Row-major vectors, `ids.len() * dimension` values.
    pub vectors: Vec<f32>,
    /// Metadata per record.
    pub metadata: MetaColumn,
    /// When the object was written (ms since the Unix epoch); informational (GC uses generations).
    pub created_at_ms: u64,
    /// The partition index, when the rows are stored in partition order (format v2).
    pub index: Option<PartitionIndex>,
}

impl Segment {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the segment holds no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The vector of record `i`.
    pub fn vector(&self, i: usize) -> &[f32] {
        let d = self.dimension as usize;
        &self.vectors[i * d..(i + 1) * d]
    }

    /// Builds a segment from validated records.
    pub fn from_records(records: &[Record], dimension: u16, created_at_ms: u64) -> Self {
        Self::from_batches(&[records], dimension, created_at_ms)
    }

    /// Builds one segment from several validated batches, in order (group commit). When an id
    /// occurs in two batches, the later row wins at read time.
    pub fn from_batches(batches: &[&[Record]], dimension: u16, created_at_ms: u64) -> Self {
        let n: usize = batches.iter().map(|b| b.len()).sum();
        let mut b = SegmentBuilder::new(dimension, created_at_ms, n);
        for r in batches.iter().flat_map(|b| b.iter()) {
            b.push(&r.id, &r.vector, r.metadata.as_ref());
        }
        b.finish()
    }

    /// The records, in order (copies; for tools and tests).
    pub fn to_records(&self) -> Vec<Record> {
        (0..self.len()).map(|i| Record::new(&self.ids[i], self.vector(i).to_vec(), self.metadata.value(i))).collect()
    }

    /// Heap bytes held by the decoded segment.
    pub fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes()
            + self.vectors.capacity() * 4
            + self.metadata.heap_bytes()
            + self.index.as_ref().map_or(0, PartitionIndex::heap_bytes)
    }
}

/// Builds a [`Segment`] row by row.
#[derive(Debug)]
pub struct SegmentBuilder {
    dimension: u16,
    created_at_ms: u64,
    ids: IdColumn,
    vectors: Vec<f32>,
    metadata: MetaBuilder,
}

impl SegmentBuilder {
    /// A builder with room for `rows` records.
    pub fn new(dimension: u16, created_at_ms: u64, rows: usize) -> Self {
        SegmentBuilder {
            dimension,
            created_at_ms,
            ids: IdColumn::with_capacity(rows, 0),
            vectors: Vec::with_capacity(rows.saturating_mul(dimension as usize)),
            metadata: MetaBuilder::with_capacity(rows),
        }
    }

    /// Appends a record (`vector` of the segment's dimension; `null` metadata = none).
    pub fn push(&mut self, id: &str, vector: &[f32], metadata: Option<&serde_json::Value>) {
        self.ids.push(id);
        self.vectors.extend_from_slice(vector);
        self.metadata.push(metadata.filter(|m| !m.is_null()));
    }

    /// Appends a copy of record `row` of `from`.
    pub fn push_row(&mut self, from: &Segment, row: usize) {
        self.ids.push(&from.ids[row]);
        self.vectors.extend_from_slice(from.vector(row));
        self.metadata.push_from(&from.metadata, row);
    }

    /// The segment, without spare capacity.
    pub fn finish(mut self) -> Segment {
        self.ids.shrink_to_fit();
        self.vectors.shrink_to_fit();
        Segment {
            dimension: self.dimension,
            ids: self.ids,
            vectors: self.vectors,
            metadata: self.metadata.finish(),
            created_at_ms: self.created_at_ms,
            index: None,
        }
    }
}

/// CRC-32 (IEEE) as 8 lowercase hex digits: the checksum recorded in segment descriptors.
pub fn checksum_hex(bytes: &[u8]) -> String {
    format!("{:08x}", crc32fast::hash(bytes))
}

/// Encodes a segment: format v2 when it has a partition index, else v1. The last 4 bytes are
/// the CRC-32 of everything before them.
pub fn encode(seg: &Segment) -> Vec<u8> {
    if let Some(index) = &seg.index {
        return v2::encode(seg, index);
    }
    let metas = codec::encoded_metadata(seg);
    let rows: Vec<u32> = (0..seg.len() as u32).collect();
    let mut out = Vec::with_capacity(HEADER_LEN + codec::records_len(seg, &rows, &metas) + TRAILER_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // flags, reserved
    out.extend_from_slice(&(seg.dimension as u32).to_le_bytes());
    out.extend_from_slice(&(seg.ids.len() as u32).to_le_bytes());
    out.extend_from_slice(&seg.created_at_ms.to_le_bytes());
    codec::write_records(&mut out, seg, &rows, &metas);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes and verifies a segment object (format v1 or v2). Truncated, altered or foreign
/// bytes give `Error::Corrupt`.
pub fn decode(bytes: &[u8]) -> Result<Segment> {
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        return Err(Error::corrupt(format!("segment is {} bytes, shorter than a header", bytes.len())));
    }
    if &bytes[..4] != MAGIC {
        return Err(Error::corrupt("not a segment object (bad magic)"));
    }
    let (body, trailer) = bytes.split_at(bytes.len() - TRAILER_LEN);
    let stored = u32::from_le_bytes(trailer.try_into().expect("4 bytes"));
    let actual = crc32fast::hash(body);
    if stored != actual {
        return Err(Error::corrupt(format!("segment checksum mismatch: stored {stored:08x}, computed {actual:08x}")));
    }
    let mut r = Reader { buf: body, pos: 4 };
    let version = r.u16("format version")?;
    if version == v2::VERSION || version == v2::VERSION_V2 {
        return v2::decode(body);
    }
    if version != FORMAT_VERSION {
        return Err(Error::corrupt(format!("unsupported segment format version {version}")));
    }
    let _flags = r.u16("flags")?;
    let dim = check_dimension(r.u32("dimension")?)?;
    let count = r.u32("record count")? as usize;
    let created_at_ms = r.u64("creation time")?;
    let mut b = SegmentBuilder::new(dim, created_at_ms, 0);
    codec::read_records(&mut r, count, count, &mut b)?;
    if r.remaining() != 0 {
        return Err(Error::corrupt(format!("{} unexpected bytes after the last record", r.remaining())));
    }
    Ok(b.finish())
}

/// A stored dimension, checked.
fn check_dimension(dim: u32) -> Result<u16> {
    if dim == 0 || dim > crate::validate::MAX_DIMENSION {
        return Err(Error::corrupt(format!("segment dimension {dim} out of range")));
    }
    Ok(dim as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn sample() -> Segment {
        let recs = vec![
            Record::new("a", vec![1.0, -2.5, 3.25], Some(json!({"section": "net", "n": 3}))),
            Record::new("ß-ünï", vec![0.0, f32::MIN_POSITIVE, 1e30], None),
            Record::new("c", vec![-0.0, 7.0, 8.0], Some(json!({}))),
        ];
        Segment::from_records(&recs, 3, 42)
    }

    #[test]
    fn round_trip() {
        let s = sample();
        let bytes = encode(&s);
        assert_eq!(&bytes[..4], MAGIC);
        assert_eq!(decode(&bytes).unwrap(), s);
        assert_eq!(s.vector(1), &[0.0, f32::MIN_POSITIVE, 1e30]);
    }

    #[test]
    fn empty_segment_round_trips() {
        let s = Segment::from_records(&[], 5, 1);
        assert_eq!(decode(&encode(&s)).unwrap(), s);
    }

    #[test]
    fn every_truncation_is_corrupt() {
        let bytes = encode(&sample());
        for n in 0..bytes.len() {
            let e = decode(&bytes[..n]).unwrap_err();
            assert_eq!(e.code(), "CORRUPT", "prefix of {n} bytes");
        }
    }

    #[test]
    fn every_single_bit_flip_is_corrupt() {
        let bytes = encode(&sample());
        for i in 0..bytes.len() {
            for bit in [0u8, 3, 7] {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert_eq!(decode(&b).unwrap_err().code(), "CORRUPT", "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn huge_claimed_count_does_not_allocate() {
        let mut bytes = encode(&sample());
        bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        let body_len = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..body_len]);
        bytes[body_len..].copy_from_slice(&crc.to_le_bytes());
        let e = decode(&bytes).unwrap_err();
        assert!(e.to_string().contains("claims"), "{e}");
    }

    #[test]
    fn garbage_is_corrupt() {
        assert_eq!(decode(b"hello world, definitely not a segment").unwrap_err().code(), "CORRUPT");
        assert_eq!(decode(&[]).unwrap_err().code(), "CORRUPT");
    }

    #[test]
    fn checksum_is_hex_crc32() {
        assert_eq!(checksum_hex(b"123456789"), "cbf43926");
    }
}
