//! Operation ids and the bounded operation history a manifest keeps, which is what makes every
//! operation exactly-once: a commit records its operation id at the version it creates, and a
//! mutator whose id is already recorded is not applied again. See docs/PROTOCOL.md.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// How many operations (one per committed version) a manifest remembers. An ambiguous attempt
/// is resolved exactly as long as fewer than this many commits landed after it; beyond that the
/// outcome is reported as unknown, never guessed. ~35 bytes each in the JSON.
pub const OP_HISTORY: usize = 256;

/// The id of one logical operation, the same for all its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpId(pub Uuid);

impl OpId {
    /// A fresh random id.
    pub fn new() -> Self {
        OpId(crate::runtime::new_uuid())
    }
}

impl Default for OpId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for OpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl std::str::FromStr for OpId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(OpId)
    }
}

// Compact (32 hex digits) in the manifest: the history moves with every commit.
impl Serialize for OpId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OpId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `ops[i]` is the operation that produced version `from + i`; the last one produced the
/// current version. Versions below `from` are beyond the horizon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OpHistory {
    /// Version produced by the first listed operation.
    pub from: u64,
    /// Operation ids, oldest first.
    pub ops: Vec<OpId>,
}

impl OpHistory {
    /// An empty history whose next recorded operation will produce `next_version`.
    pub fn starting_at(next_version: u64) -> Self {
        OpHistory { from: next_version, ops: Vec::new() }
    }

    /// The version operation `op` produced, if it is still remembered.
    pub fn version_of(&self, op: &OpId) -> Option<u64> {
        self.ops.iter().position(|o| o == op).and_then(|i| self.from.checked_add(i as u64))
    }

    /// True when the history ends at `version` (or is empty and starts right after it): what a
    /// manifest written by this build always holds. Anything else came from elsewhere.
    pub fn consistent_with(&self, version: u64) -> bool {
        match self.ops.len() as u64 {
            0 => self.from == version.saturating_add(1),
            n => self.from.checked_add(n - 1) == Some(version),
        }
    }

    /// True when the operation that produced `version` is remembered (or would be, for
    /// versions not yet written): an operation absent from the history then did not produce
    /// `version`.
    pub fn covers(&self, version: u64) -> bool {
        version >= self.from
    }

    /// Records `op` as the producer of `version` (the manifest's new version), keeping at most
    /// [`OP_HISTORY`] entries. A history that does not end right below `version` (written by a
    /// build that did not keep it) restarts at `version`.
    pub fn record(&mut self, op: OpId, version: u64) {
        if self.from.checked_add(self.ops.len() as u64) != Some(version) {
            *self = OpHistory::starting_at(version);
        }
        self.ops.push(op);
        if self.ops.len() > OP_HISTORY {
            let excess = self.ops.len() - OP_HISTORY;
            self.ops.drain(..excess);
            self.from += excess as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn records_versions_and_forgets_the_oldest() {
        let mut h = OpHistory::starting_at(2);
        let first = OpId::new();
        h.record(first, 2);
        assert_eq!(h.version_of(&first), Some(2));
        let ops: Vec<OpId> = (0..OP_HISTORY).map(|_| OpId::new()).collect();
        for (i, op) in ops.iter().enumerate() {
            h.record(*op, 3 + i as u64);
        }
        assert_eq!(h.version_of(&first), None, "evicted");
        assert!(!h.covers(2) && h.covers(3));
        assert_eq!(h.version_of(&ops[OP_HISTORY - 1]), Some(2 + OP_HISTORY as u64));
        assert_eq!(h.ops.len(), OP_HISTORY);
    }

    #[test]
    fn a_gap_restarts_the_history() {
        let mut h = OpHistory::starting_at(5);
        h.record(OpId::new(), 5);
        let op = OpId::new();
        h.record(op, 9);
        assert_eq!((h.from, h.version_of(&op)), (9, Some(9)));
        assert!(!h.covers(8));
    }

    #[test]
    fn op_ids_are_compact_in_json() {
        let op = OpId::new();
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(json.len(), 34);
        assert_eq!(serde_json::from_str::<OpId>(&json).unwrap(), op);
    }
}
