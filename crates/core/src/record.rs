//! A record as callers write it: a string id, a vector, optional JSON metadata.

use serde_json::Value;

/// One vector with its id and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Unique per collection; writing an existing id replaces the record.
    pub id: String,
    /// The vector; its length must equal the collection dimension.
    pub vector: Vec<f32>,
    /// A JSON object, or `None`.
    pub metadata: Option<Value>,
}

impl Record {
    /// Convenience constructor.
    pub fn new(id: impl Into<String>, vector: Vec<f32>, metadata: Option<Value>) -> Self {
        Record { id: id.into(), vector, metadata }
    }
}
