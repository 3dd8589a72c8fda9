//! The similarity measure of a collection: named in its manifest, applied by the kernels.
//! Its own file at the bottom of the crate so both may use it without importing each other.

use serde::{Deserialize, Serialize};

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
