//! Segments compaction replaced, listed in the manifest until GC's retention for them ends.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A segment replaced by compaction: no longer listed (no new snapshot reads it), kept in the
/// store until GC's fence passes `retired_at_gen + 2`, so readers on older snapshots can finish.
/// Stored compactly as `"{retired_at_gen}:{gen}:{id}"` (a compaction can retire many).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct RetiredSegment {
    /// The segment id.
    pub id: Uuid,
    /// The generation it was written at (part of its key).
    pub gen: u64,
    /// `gc_gen` when compaction retired it.
    pub retired_at_gen: u64,
}

impl From<RetiredSegment> for String {
    fn from(r: RetiredSegment) -> String {
        format!("{}:{}:{}", r.retired_at_gen, r.gen, r.id.simple())
    }
}

impl TryFrom<String> for RetiredSegment {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let mut next = || parts.next().ok_or_else(|| format!("retired entry {s:?} is not at:gen:id"));
        let retired_at_gen = next()?.parse().map_err(|_| format!("retired entry {s:?}: bad generation"))?;
        let gen = next()?.parse().map_err(|_| format!("retired entry {s:?}: bad generation"))?;
        let id = Uuid::parse_str(next()?).map_err(|_| format!("retired entry {s:?}: bad id"))?;
        Ok(RetiredSegment { id, gen, retired_at_gen })
    }
}
