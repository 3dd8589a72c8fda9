//! Operation tokens and the query that settles an `OUTCOME_UNKNOWN` later: did operation X
//! commit, and at which version?

use std::fmt;
use std::str::FromStr;

use super::Storage;
use crate::error::{Error, Result};
use crate::manifest::OpId;

/// What an `OUTCOME_UNKNOWN` error carries (as a string): the operation id, the incarnation
/// of the collection it ran against, and the lowest and highest manifest version its uncertain
/// attempts were based on. Printed as `{op}.{incarnation}.{lo}.{hi}` (`-` for unknown parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationToken {
    /// The operation id recorded by the commit that applies it.
    pub op: OpId,
    /// The incarnation it ran against, once known.
    pub incarnation: Option<u64>,
    /// Base versions of attempts that may have landed.
    pub range: Option<(u64, u64)>,
}

impl fmt::Display for OperationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        write!(
            f,
            "{}.{}.{}.{}",
            self.op,
            opt(self.incarnation),
            opt(self.range.map(|r| r.0)),
            opt(self.range.map(|r| r.1))
        )
    }
}

impl FromStr for OperationToken {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid(format!("{s:?} is not an operation id (from an OUTCOME_UNKNOWN error)"));
        let parts: Vec<&str> = s.split('.').collect();
        let [op, inc, lo, hi] = parts.as_slice() else { return Err(bad()) };
        let num = |p: &str| -> Result<Option<u64>> {
            if p == "-" {
                Ok(None)
            } else {
                p.parse().map(Some).map_err(|_| bad())
            }
        };
        let op = op.parse::<OpId>().map_err(|_| bad())?;
        let range = match (num(lo)?, num(hi)?) {
            (Some(lo), Some(hi)) if lo <= hi => Some((lo, hi)),
            (None, None) => None,
            _ => return Err(bad()),
        };
        Ok(OperationToken { op, incarnation: num(inc)?, range })
    }
}

/// The answer of [`Storage::operation_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationStatus {
    /// The operation committed, creating this version.
    Committed {
        /// The manifest version its commit created.
        version: u64,
    },
    /// Provably not committed, and it never will be: retrying it is safe.
    NotCommitted,
    /// Still undecidable: an attempt may land later, or the history no longer reaches back.
    Unknown,
}

impl Storage {
    /// Settles an `OUTCOME_UNKNOWN` later: reads the manifest and looks the operation up in its
    /// history. `NotCommitted` only when provable: the history reaches back to every version an
    /// uncertain attempt could have produced, and the manifest has moved past every version
    /// such an attempt was conditioned on (so a delayed put can no longer land).
    pub async fn operation_status(&self, name: &str, token: &str) -> Result<OperationStatus> {
        let t: OperationToken = token.parse()?;
        crate::validate::collection_name(name)?;
        let Some((m, _)) = self.load_raw(name).await? else {
            // Nothing there: only a create can still land (create-only put on absence).
            return match t.range {
                Some((0, 0)) => Ok(OperationStatus::Unknown),
                _ => Err(Error::NotFound(format!("collection '{name}'"))),
            };
        };
        if t.incarnation.is_some_and(|i| i != m.incarnation) {
            // Older: a create of that incarnation may still land on the tombstone. Newer: the
            // incarnation it ran against was dropped, and its history with it.
            return Ok(OperationStatus::Unknown);
        }
        if let Some(version) = m.op_version(&t.op) {
            return Ok(OperationStatus::Committed { version });
        }
        Ok(match t.range {
            None => OperationStatus::Unknown,
            Some((lo, hi)) if m.history.covers(lo.saturating_add(1)) && m.version > hi => OperationStatus::NotCommitted,
            Some(_) => OperationStatus::Unknown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn tokens_round_trip_and_bad_ones_are_invalid() {
        let t = OperationToken { op: OpId::new(), incarnation: Some(3), range: Some((7, 9)) };
        assert_eq!(t.to_string().parse::<OperationToken>().unwrap(), t);
        let none = OperationToken { op: OpId::new(), incarnation: None, range: None };
        assert_eq!(none.to_string().parse::<OperationToken>().unwrap(), none);
        for bad in ["", "x.1.2.3", "a.b", &format!("{}.1.9.7", OpId::new()), &format!("{}.1.-.7", OpId::new())] {
            assert_eq!(bad.parse::<OperationToken>().unwrap_err().code(), "INVALID_ARGUMENT", "{bad}");
        }
    }
}
