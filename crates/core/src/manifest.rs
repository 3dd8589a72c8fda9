//! The collection manifest: the single JSON object per collection whose compare-and-swap
//! publishes every change (Manifest V1). Pure data and pure mutations; no storage here.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

mod history;
mod retired;
pub use history::{OpHistory, OpId, OP_HISTORY};
pub use retired::RetiredSegment;

pub use crate::distance::Distance;

/// Lifecycle of a segment. Sealed segments are closed for good (a compaction candidate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentState {
    /// Listed and searchable; may still be sealed.
    Active,
    /// Listed, searchable, closed.
    Sealed,
}

/// One immutable segment object listed in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDescriptor {
    /// Unique id; also the object key `segments/{id}.seg`.
    pub id: Uuid,
    /// Active or Sealed.
    pub state: SegmentState,
    /// Number of records in the segment object.
    pub record_count: u64,
    /// Vector dimension (always equal to the collection's).
    pub dimension: u16,
    /// Size of the encoded segment object in bytes.
    pub size_bytes: u64,
    /// CRC-32 (IEEE) of the whole object, as 8 lowercase hex digits.
    pub checksum: String,
    /// Commit order: records in a higher `seq` replace records with the same id in a lower one.
    #[serde(default)]
    pub seq: u64,
    /// The GC generation the object was written at (part of its key; 0 before generations).
    #[serde(default)]
    pub gen: u64,
}

/// A delete marker: hides every record with this id in segments with `seq < self.seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The deleted record id.
    pub id: String,
    /// Commit sequence of the delete.
    pub seq: u64,
}

/// The manifest format this build writes. It refuses to rewrite a manifest of a higher format
/// (it would drop fields it does not know); it still reads one.
pub const MANIFEST_FORMAT: u32 = 2;

fn legacy_version() -> u64 {
    1
}

fn legacy_format() -> u32 {
    1
}

fn first_gen() -> u64 {
    1
}

/// The manifest of one collection, stored as readable JSON at
/// `{prefix}collections/{name}/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionManifest {
    /// Format of this JSON; 1 when written before the field existed.
    #[serde(default = "legacy_format")]
    pub format: u32,
    /// Collection name.
    pub collection: String,
    /// Which life of the name this is: a drop + re-create starts the next incarnation, whose
    /// objects live under another key prefix (0: written before incarnations existed).
    #[serde(default)]
    pub incarnation: u64,
    /// Set when the collection was dropped: the manifest stays as a tombstone so incarnation
    /// numbers only grow and late writers of the dropped incarnation fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_at_ms: Option<u64>,
    /// Vector dimension, 1..=4096.
    pub dimension: u16,
    /// Similarity measure.
    #[serde(default)]
    pub distance: Distance,
    /// GC fence: a commit may list a segment written at generation `g` only while
    /// `g + 1 >= gc_gen`; GC raises it before deleting unlisted objects of generations
    /// `<= gc_gen - 2` (docs/PROTOCOL.md).
    #[serde(default = "first_gen")]
    pub gc_gen: u64,
    /// Segments in commit order.
    #[serde(default)]
    pub segments: Vec<SegmentDescriptor>,
    /// Segments replaced by compaction, awaiting deletion by GC.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<RetiredSegment>,
    /// Records stored across listed segments (superseded and deleted records included until
    /// compaction; `live` counts are computed by search).
    #[serde(default)]
    pub total_vectors: u64,
    /// Monotonic version; a manifest written before versioning existed loads as 1.
    #[serde(default = "legacy_version")]
    pub version: u64,
    /// A fresh nonce per write, so no two manifest writes are byte-identical (stores whose
    /// version tokens are content hashes, like S3 ETags, then never repeat a token).
    #[serde(default)]
    pub commit_id: Option<Uuid>,
    /// Next commit sequence number for segments and tombstones.
    #[serde(default)]
    pub next_seq: u64,
    /// Delete markers, at most one per id (the newest).
    #[serde(default)]
    pub tombstones: Vec<Tombstone>,
    /// The operations that produced the most recent versions (exactly-once, bounded).
    #[serde(default)]
    pub history: OpHistory,
    /// Creation time, milliseconds since the Unix epoch.
    #[serde(default)]
    pub created_at_ms: u64,
    /// Time of the last commit, milliseconds since the Unix epoch.
    #[serde(default)]
    pub updated_at_ms: u64,
}

fn overflow(what: &str) -> Error {
    Error::corrupt(format!("manifest {what} overflowed"))
}

impl CollectionManifest {
    /// A fresh, empty manifest at version 1 of incarnation `incarnation`, produced by `op`.
    pub fn new(collection: &str, dimension: u16, distance: Distance, now_ms: u64, incarnation: u64, op: OpId) -> Self {
        let mut history = OpHistory::starting_at(1);
        history.record(op, 1);
        CollectionManifest {
            format: MANIFEST_FORMAT,
            collection: collection.to_string(),
            incarnation,
            dropped_at_ms: None,
            dimension,
            distance,
            gc_gen: 1,
            segments: Vec::new(),
            retired: Vec::new(),
            total_vectors: 0,
            version: 1,
            commit_id: Some(crate::runtime::new_uuid()),
            next_seq: 1,
            tombstones: Vec::new(),
            history,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }

    /// Parses manifest JSON, accepting legacy manifests without `version`, and checks what the
    /// engine relies on (a stored manifest is input too: CORRUPT, never a panic).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let mut m: CollectionManifest =
            serde_json::from_slice(bytes).map_err(|e| Error::corrupt(format!("manifest is not valid JSON: {e}")))?;
        // Legacy manifests have no sequence numbers: number segments in list order.
        if m.next_seq == 0 {
            for (i, s) in m.segments.iter_mut().enumerate() {
                s.seq = i as u64 + 1;
            }
            m.next_seq = m.segments.len() as u64 + 1;
        }
        // Written before the history existed (or by something that did not keep it right): it
        // starts with the next commit. Forgetting is safe: an operation absent from a history
        // that does not reach back is reported as unknown, never as not committed.
        if m.history.from == 0 || !m.history.consistent_with(m.version) {
            m.history = OpHistory::starting_at(m.version.checked_add(1).ok_or_else(|| overflow("version"))?);
        }
        m.check_consistent()?;
        Ok(m)
    }

    fn check_consistent(&self) -> Result<()> {
        let bad = |what: String| Err(Error::corrupt(format!("manifest of '{}': {what}", self.collection)));
        if self.dimension == 0 || self.dimension as u32 > crate::validate::MAX_DIMENSION {
            return bad(format!("dimension {} is out of range", self.dimension));
        }
        if self.version == 0 {
            return bad("version 0".into());
        }
        if let Some(s) = self.segments.iter().find(|s| s.dimension != self.dimension) {
            return bad(format!("segment {} has dimension {}, the collection {}", s.id, s.dimension, self.dimension));
        }
        Ok(())
    }

    /// Compact JSON (`jq .` reads it): every commit moves the whole manifest.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("manifest serialises")
    }

    /// True for the tombstone a drop leaves.
    pub fn is_dropped(&self) -> bool {
        self.dropped_at_ms.is_some()
    }

    /// Refuses changes this build must not make: to a manifest of a newer format, or to a
    /// dropped collection.
    pub fn check_writable(&self) -> Result<()> {
        if self.format > MANIFEST_FORMAT {
            return Err(Error::UnsupportedFormat(format!(
                "collection '{}' has manifest format {}; this build writes format {MANIFEST_FORMAT} and will not \
                 rewrite a newer one (upgrade akidb)",
                self.collection, self.format
            )));
        }
        if self.is_dropped() {
            return Err(Error::NotFound(format!("collection '{}' (dropped)", self.collection)));
        }
        Ok(())
    }

    /// True when a segment written at generation `gen` may still be listed (the GC fence).
    pub fn accepts_generation(&self, gen: u64) -> bool {
        gen.saturating_add(1) >= self.gc_gen
    }

    /// The version operation `op` produced, while the history remembers it.
    pub fn op_version(&self, op: &OpId) -> Option<u64> {
        self.history.version_of(op)
    }

    /// Finds a listed segment.
    pub fn segment(&self, id: &Uuid) -> Option<&SegmentDescriptor> {
        self.segments.iter().find(|s| &s.id == id)
    }

    /// Lists a new segment unless it is already listed (idempotent re-application on retry).
    /// Returns false when nothing changed.
    pub fn add_segment(&mut self, mut desc: SegmentDescriptor) -> Result<bool> {
        if self.segment(&desc.id).is_some() {
            return Ok(false);
        }
        desc.seq = self.take_seq()?;
        self.total_vectors =
            self.total_vectors.checked_add(desc.record_count).ok_or_else(|| overflow("total_vectors"))?;
        self.segments.push(desc);
        Ok(true)
    }

    /// Seals a segment. `Ok(false)` when it was already sealed.
    pub fn seal(&mut self, id: &Uuid) -> Result<bool> {
        let seg = self
            .segments
            .iter_mut()
            .find(|s| &s.id == id)
            .ok_or_else(|| Error::NotFound(format!("segment {id} in collection '{}'", self.collection)))?;
        if seg.state == SegmentState::Sealed {
            return Ok(false);
        }
        seg.state = SegmentState::Sealed;
        Ok(true)
    }

    /// Records tombstones for `ids` in one commit sequence. Always changes the manifest when
    /// `ids` is non-empty (a delete must hide records written before it, even re-deletes).
    pub fn add_tombstones(&mut self, ids: &[String]) -> Result<bool> {
        if ids.is_empty() {
            return Ok(false);
        }
        let seq = self.take_seq()?;
        for id in ids {
            match self.tombstones.iter_mut().find(|t| &t.id == id) {
                Some(t) => t.seq = seq,
                None => self.tombstones.push(Tombstone { id: id.clone(), seq }),
            }
        }
        Ok(true)
    }

    /// Turns the manifest into the tombstone of a dropped collection (same incarnation).
    pub fn mark_dropped(&mut self, now_ms: u64) {
        self.dropped_at_ms = Some(now_ms);
        self.segments.clear();
        self.retired.clear();
        self.tombstones.clear();
        self.total_vectors = 0;
    }

    /// Stamps a commit made by operation `op`: bumps the version (checked), records `op` in
    /// the history and sets a fresh nonce.
    pub fn stamp_commit(&mut self, op: OpId, now_ms: u64) -> Result<()> {
        self.version = self.version.checked_add(1).ok_or_else(|| overflow("version"))?;
        self.format = MANIFEST_FORMAT;
        self.commit_id = Some(crate::runtime::new_uuid());
        self.history.record(op, self.version);
        self.updated_at_ms = now_ms;
        Ok(())
    }

    fn take_seq(&mut self) -> Result<u64> {
        if self.next_seq == 0 {
            self.next_seq = 1;
        }
        let s = self.next_seq;
        self.next_seq = s.checked_add(1).ok_or_else(|| overflow("next_seq"))?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn desc(n: u64) -> SegmentDescriptor {
        SegmentDescriptor {
            id: crate::runtime::new_uuid(),
            state: SegmentState::Active,
            record_count: n,
            dimension: 3,
            size_bytes: 10,
            checksum: "00000000".into(),
            seq: 0,
            gen: 1,
        }
    }

    #[test]
    fn legacy_fixture_loads_as_version_1() {
        let bytes = include_bytes!("../tests/fixtures/legacy_manifest.json");
        let m = CollectionManifest::from_json(bytes).unwrap();
        assert_eq!(m.version, 1);
        assert_eq!(m.collection, "legacy_docs");
        assert_eq!(m.dimension, 384);
        assert_eq!(m.segments.len(), 2);
        assert_eq!(m.segments[0].seq, 1);
        assert_eq!(m.segments[1].seq, 2);
        assert_eq!(m.next_seq, 3);
        assert_eq!(m.segments[1].state, SegmentState::Sealed);
        assert!(m.commit_id.is_none());
        assert_eq!((m.format, m.incarnation, m.gc_gen), (1, 0, 1));
        assert!(m.history.covers(2) && !m.history.covers(1));
    }

    #[test]
    fn json_round_trip_and_version_is_readable() {
        let mut m = CollectionManifest::new("c", 3, Distance::L2, 5, 1, OpId::new());
        m.add_segment(desc(4)).unwrap();
        m.stamp_commit(OpId::new(), 6).unwrap();
        let json = m.to_json();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["version"], 2);
        assert_eq!(v["distance"], "l2");
        assert_eq!(CollectionManifest::from_json(&json).unwrap(), m);
    }

    #[test]
    fn add_segment_is_idempotent() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, OpId::new());
        let d = desc(7);
        assert!(m.add_segment(d.clone()).unwrap());
        assert!(!m.add_segment(d).unwrap());
        assert_eq!(m.segments.len(), 1);
        assert_eq!(m.total_vectors, 7);
    }

    #[test]
    fn seal_states() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, OpId::new());
        let d = desc(1);
        let id = d.id;
        m.add_segment(d).unwrap();
        assert!(m.seal(&id).unwrap());
        assert!(!m.seal(&id).unwrap());
        assert_eq!(m.seal(&crate::runtime::new_uuid()).unwrap_err().code(), "NOT_FOUND");
    }

    #[test]
    fn tombstones_take_newest_seq() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, OpId::new());
        m.add_segment(desc(1)).unwrap();
        assert!(m.add_tombstones(&["a".into()]).unwrap());
        m.add_segment(desc(1)).unwrap();
        assert!(m.add_tombstones(&["a".into(), "b".into()]).unwrap());
        assert_eq!(m.tombstones.len(), 2);
        assert!(m.tombstones.iter().all(|t| t.seq == 4));
        assert!(!m.add_tombstones(&[]).unwrap());
    }

    #[test]
    fn commits_record_their_operation_and_versions_are_checked() {
        let create = OpId::new();
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, create);
        assert_eq!(m.op_version(&create), Some(1));
        let op = OpId::new();
        m.stamp_commit(op, 1).unwrap();
        assert_eq!((m.version, m.op_version(&op)), (2, Some(2)));
        m.version = u64::MAX;
        assert_eq!(m.stamp_commit(OpId::new(), 2).unwrap_err().code(), "CORRUPT");
        m.next_seq = u64::MAX;
        assert!(m.add_tombstones(&["x".into()]).is_err());
    }

    #[test]
    fn newer_formats_and_dropped_manifests_are_not_writable() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, OpId::new());
        assert!(m.check_writable().is_ok());
        let mut v: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        v["format"] = (MANIFEST_FORMAT + 1).into();
        v["a_future_field"] = serde_json::json!({ "x": 1 });
        let newer = CollectionManifest::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(newer.check_writable().unwrap_err().code(), "UNSUPPORTED_FORMAT");
        m.mark_dropped(5);
        assert_eq!(m.check_writable().unwrap_err().code(), "NOT_FOUND");
    }

    #[test]
    fn inconsistent_stored_manifests_are_corrupt() {
        let m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, OpId::new());
        let mut v: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        v["dimension"] = 0.into();
        assert_eq!(CollectionManifest::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err().code(), "CORRUPT");
        let mut m2 = m.clone();
        let mut d = desc(1);
        d.dimension = 4;
        m2.add_segment(d).unwrap();
        assert_eq!(CollectionManifest::from_json(&m2.to_json()).unwrap_err().code(), "CORRUPT");
    }

    #[test]
    fn retired_entries_are_compact_strings() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, OpId::new());
        let id = crate::runtime::new_uuid();
        m.retired.push(RetiredSegment { id, gen: 3, retired_at_gen: 4 });
        let v: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(v["retired"][0], format!("4:3:{}", id.simple()));
        assert_eq!(CollectionManifest::from_json(&m.to_json()).unwrap(), m);
        let mut bad = v.clone();
        bad["retired"][0] = "x:1:2".into();
        assert_eq!(CollectionManifest::from_json(&serde_json::to_vec(&bad).unwrap()).unwrap_err().code(), "CORRUPT");
    }

    #[test]
    fn the_fence_accepts_one_generation_back() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0, 1, OpId::new());
        m.gc_gen = 5;
        assert!(m.accepts_generation(5) && m.accepts_generation(4));
        assert!(!m.accepts_generation(3));
    }

    #[test]
    fn corrupt_json_is_corrupt_error() {
        assert_eq!(CollectionManifest::from_json(b"{nope").unwrap_err().code(), "CORRUPT");
    }

    #[test]
    fn distance_parse() {
        assert_eq!(Distance::parse("dot").unwrap(), Distance::Dot);
        assert_eq!(Distance::parse("manhattan").unwrap_err().code(), "INVALID_ARGUMENT");
    }
}
