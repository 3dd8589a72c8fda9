//! The collection manifest: the single JSON object per collection whose compare-and-swap
//! publishes every change (Manifest V1). Pure data and pure mutations; no storage here.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// How similarity is measured. Scores are always "higher is better":
/// cosine similarity, dot product, or the negative squared L2 distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Distance {
    /// Cosine similarity; vectors are normalised at insert so search is a dot product.
    #[default]
    Cosine,
    /// Negative squared Euclidean distance.
    L2,
    /// Raw inner product.
    Dot,
}

impl Distance {
    /// Parses `"cosine" | "l2" | "dot"`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "cosine" => Ok(Distance::Cosine),
            "l2" => Ok(Distance::L2),
            "dot" => Ok(Distance::Dot),
            other => Err(Error::invalid(format!("distance must be 'cosine', 'l2' or 'dot', got '{other}'"))),
        }
    }

    /// The lowercase name used in JSON and the JS API.
    pub fn as_str(self) -> &'static str {
        match self {
            Distance::Cosine => "cosine",
            Distance::L2 => "l2",
            Distance::Dot => "dot",
        }
    }
}

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
}

/// A delete marker: hides every record with this id in segments with `seq < self.seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The deleted record id.
    pub id: String,
    /// Commit sequence of the delete.
    pub seq: u64,
}

/// How many recent commit ids a manifest remembers.
pub const RECENT_COMMITS: usize = 64;

fn legacy_version() -> u64 {
    1
}

/// The manifest of one collection, stored as readable JSON at
/// `{prefix}collections/{name}/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionManifest {
    /// Collection name.
    pub collection: String,
    /// Vector dimension, 1..=4096.
    pub dimension: u16,
    /// Similarity measure.
    #[serde(default)]
    pub distance: Distance,
    /// Segments in commit order.
    #[serde(default)]
    pub segments: Vec<SegmentDescriptor>,
    /// Records stored across listed segments (superseded and deleted records included until
    /// compaction; `live` counts are computed by search).
    #[serde(default)]
    pub total_vectors: u64,
    /// Monotonic version; a manifest written before versioning existed loads as 1.
    #[serde(default = "legacy_version")]
    pub version: u64,
    /// Unique id of the commit that produced this version (resolves ambiguous writes).
    #[serde(default)]
    pub commit_id: Option<Uuid>,
    /// Next commit sequence number for segments and tombstones.
    #[serde(default)]
    pub next_seq: u64,
    /// Delete markers, at most one per id (the newest).
    #[serde(default)]
    pub tombstones: Vec<Tombstone>,
    /// Ids of the most recent commits (newest last, at most [`RECENT_COMMITS`]), so a writer
    /// whose put had an ambiguous outcome can tell whether it landed even if others committed
    /// on top of it since.
    #[serde(default)]
    pub recent_commits: Vec<Uuid>,
    /// Creation time, milliseconds since the Unix epoch.
    #[serde(default)]
    pub created_at_ms: u64,
    /// Time of the last commit, milliseconds since the Unix epoch.
    #[serde(default)]
    pub updated_at_ms: u64,
}

impl CollectionManifest {
    /// A fresh, empty manifest at version 1.
    pub fn new(collection: &str, dimension: u16, distance: Distance, now_ms: u64) -> Self {
        CollectionManifest {
            collection: collection.to_string(),
            dimension,
            distance,
            segments: Vec::new(),
            total_vectors: 0,
            version: 1,
            // A fresh id even at creation, so no two manifest writes are byte-identical: stores
            // whose version tokens are content hashes (S3 ETags) then never repeat a token.
            commit_id: Some(Uuid::new_v4()),
            next_seq: 1,
            tombstones: Vec::new(),
            recent_commits: Vec::new(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }

    /// Parses manifest JSON, accepting legacy manifests without `version`.
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
        Ok(m)
    }

    /// Pretty JSON, so `jq '.version'` and humans can read it.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("manifest serialises")
    }

    /// Finds a listed segment.
    pub fn segment(&self, id: &Uuid) -> Option<&SegmentDescriptor> {
        self.segments.iter().find(|s| &s.id == id)
    }

    /// Lists a new segment unless it is already listed (idempotent re-application on retry).
    /// Returns false when nothing changed.
    pub fn add_segment(&mut self, mut desc: SegmentDescriptor) -> bool {
        if self.segment(&desc.id).is_some() {
            return false;
        }
        desc.seq = self.take_seq();
        self.total_vectors += desc.record_count;
        self.segments.push(desc);
        true
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
    pub fn add_tombstones(&mut self, ids: &[String]) -> bool {
        if ids.is_empty() {
            return false;
        }
        let seq = self.take_seq();
        for id in ids {
            match self.tombstones.iter_mut().find(|t| &t.id == id) {
                Some(t) => t.seq = seq,
                None => self.tombstones.push(Tombstone { id: id.clone(), seq }),
            }
        }
        true
    }

    /// Stamps a commit: bumps the version and sets a fresh commit id.
    pub fn stamp_commit(&mut self, now_ms: u64) -> Uuid {
        let id = Uuid::new_v4();
        self.version += 1;
        self.commit_id = Some(id);
        self.recent_commits.push(id);
        if self.recent_commits.len() > RECENT_COMMITS {
            let excess = self.recent_commits.len() - RECENT_COMMITS;
            self.recent_commits.drain(..excess);
        }
        self.updated_at_ms = now_ms;
        id
    }

    /// True if the commit `id` is this version or one of the recent ones before it.
    pub fn contains_commit(&self, id: &Uuid) -> bool {
        self.commit_id.as_ref() == Some(id) || self.recent_commits.contains(id)
    }

    fn take_seq(&mut self) -> u64 {
        if self.next_seq == 0 {
            self.next_seq = 1;
        }
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn desc(n: u64) -> SegmentDescriptor {
        SegmentDescriptor {
            id: Uuid::new_v4(),
            state: SegmentState::Active,
            record_count: n,
            dimension: 3,
            size_bytes: 10,
            checksum: "00000000".into(),
            seq: 0,
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
    }

    #[test]
    fn json_round_trip_and_version_is_readable() {
        let mut m = CollectionManifest::new("c", 3, Distance::L2, 5);
        m.add_segment(desc(4));
        m.stamp_commit(6);
        let json = m.to_json();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["version"], 2);
        assert_eq!(v["distance"], "l2");
        assert_eq!(CollectionManifest::from_json(&json).unwrap(), m);
    }

    #[test]
    fn add_segment_is_idempotent() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0);
        let d = desc(7);
        assert!(m.add_segment(d.clone()));
        assert!(!m.add_segment(d));
        assert_eq!(m.segments.len(), 1);
        assert_eq!(m.total_vectors, 7);
    }

    #[test]
    fn seal_states() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0);
        let d = desc(1);
        let id = d.id;
        m.add_segment(d);
        assert!(m.seal(&id).unwrap());
        assert!(!m.seal(&id).unwrap());
        assert_eq!(m.seal(&Uuid::new_v4()).unwrap_err().code(), "NOT_FOUND");
    }

    #[test]
    fn tombstones_take_newest_seq() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0);
        m.add_segment(desc(1));
        assert!(m.add_tombstones(&["a".into()]));
        m.add_segment(desc(1));
        assert!(m.add_tombstones(&["a".into(), "b".into()]));
        assert_eq!(m.tombstones.len(), 2);
        assert!(m.tombstones.iter().all(|t| t.seq == 4));
        assert!(!m.add_tombstones(&[]));
    }

    #[test]
    fn recent_commits_are_bounded() {
        let mut m = CollectionManifest::new("c", 3, Distance::Cosine, 0);
        let first = m.stamp_commit(1);
        for _ in 0..RECENT_COMMITS {
            m.stamp_commit(1);
        }
        assert!(!m.contains_commit(&first));
        let last = m.stamp_commit(2);
        assert!(m.contains_commit(&last));
        assert_eq!(m.recent_commits.len(), RECENT_COMMITS);
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
