//! The one error type of the engine. Every variant maps to a stable string code that the JS
//! bindings expose as `error.code` and the REST service maps to an HTTP status.

use thiserror::Error;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors returned by every public operation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A compare-and-swap lost and retries were exhausted (or a version check failed).
    #[error("{0}")]
    Conflict(String),
    /// A collection, segment or key does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A collection (or create-only object) already exists.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The caller passed something unusable; nothing was written.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Stored bytes failed to decode or verify.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, quota, transport). The operation may be retried.
    #[error("storage error: {0}")]
    Storage(String),
    /// The backend rejected the credentials.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The operation may or may not have committed, and the store could not tell which (an
    /// ambiguous write whose outcome could not be resolved). Retrying blindly could apply it
    /// twice: ask [`crate::Storage::operation_status`] with `operation` instead. Every other
    /// error means "not committed".
    #[error("outcome unknown (operation {operation}): {message}")]
    OutcomeUnknown {
        /// The operation token to query later.
        operation: String,
        /// What made the outcome unknown.
        message: String,
    },
    /// The stored manifest was written by a newer build (a higher `format`); this build can read
    /// it but refuses to rewrite it and drop what it does not understand.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    /// A segment object listed in the manifest is gone (compaction retired it and GC's
    /// retention ended). Code `CORRUPT` to callers; readers catch it by variant and reload the
    /// latest manifest.
    #[error("corrupt data: segment object {key} listed in the manifest is missing")]
    SegmentMissing {
        /// The object key that was listed but absent.
        key: String,
    },
    /// A synchronous search on a handle whose current snapshot is not in memory.
    #[error("collection '{0}': the current snapshot is not loaded; await collection.load() (or any search) first")]
    NotLoaded(String),
}

/// Every code [`Error::code`] can return, in declaration order. The JS types (pkg/index.d.ts)
/// and the REST worker's status table (www/worker/src/http.js) are checked against this list.
pub const CODES: &[&str] = &[
    "CONFLICT",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "INVALID_ARGUMENT",
    "CORRUPT",
    "STORAGE",
    "AUTH",
    "OUTCOME_UNKNOWN",
    "UNSUPPORTED_FORMAT",
    "NOT_LOADED",
];

impl Error {
    /// The stable machine-readable code (`CONFLICT`, `NOT_FOUND`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Conflict(_) => "CONFLICT",
            Error::NotFound(_) => "NOT_FOUND",
            Error::AlreadyExists(_) => "ALREADY_EXISTS",
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::Corrupt(_) => "CORRUPT",
            Error::Storage(_) => "STORAGE",
            Error::Auth(_) => "AUTH",
            Error::OutcomeUnknown { .. } => "OUTCOME_UNKNOWN",
            Error::UnsupportedFormat(_) => "UNSUPPORTED_FORMAT",
            Error::SegmentMissing { .. } => "CORRUPT",
            Error::NotLoaded(_) => "NOT_LOADED",
        }
    }

    /// The operation token of an `OUTCOME_UNKNOWN` error.
    pub fn operation(&self) -> Option<&str> {
        match self {
            Error::OutcomeUnknown { operation, .. } => Some(operation),
            _ => None,
        }
    }

    /// Shorthand for an `InvalidArgument` error.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// Shorthand for a `Corrupt` error.
    pub fn corrupt(msg: impl Into<String>) -> Self {
        Error::Corrupt(msg.into())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Corrupt(format!("invalid JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn codes_are_stable() {
        assert_eq!(Error::Conflict("x".into()).code(), "CONFLICT");
        assert_eq!(Error::NotFound("x".into()).code(), "NOT_FOUND");
        assert_eq!(Error::AlreadyExists("x".into()).code(), "ALREADY_EXISTS");
        assert_eq!(Error::invalid("x").code(), "INVALID_ARGUMENT");
        assert_eq!(Error::corrupt("x").code(), "CORRUPT");
        assert_eq!(Error::Storage("x".into()).code(), "STORAGE");
        assert_eq!(Error::Auth("x".into()).code(), "AUTH");
        let u = Error::OutcomeUnknown { operation: "op".into(), message: "m".into() };
        assert_eq!((u.code(), u.operation()), ("OUTCOME_UNKNOWN", Some("op")));
        assert_eq!(Error::UnsupportedFormat("x".into()).code(), "UNSUPPORTED_FORMAT");
        let missing = Error::SegmentMissing { key: "c/segments/s".into() };
        assert_eq!(missing.code(), "CORRUPT");
        assert!(missing.to_string().starts_with("corrupt data: segment object c/segments/s"));
        assert_eq!(Error::NotLoaded("docs".into()).code(), "NOT_LOADED");
    }

    #[test]
    fn codes_lists_every_code() {
        let all = [
            Error::Conflict(String::new()),
            Error::NotFound(String::new()),
            Error::AlreadyExists(String::new()),
            Error::invalid(""),
            Error::corrupt(""),
            Error::Storage(String::new()),
            Error::Auth(String::new()),
            Error::OutcomeUnknown { operation: String::new(), message: String::new() },
            Error::UnsupportedFormat(String::new()),
            Error::SegmentMissing { key: String::new() },
            Error::NotLoaded(String::new()),
        ];
        for e in &all {
            assert!(CODES.contains(&e.code()), "{} missing from CODES", e.code());
        }
        for c in CODES {
            assert!(all.iter().any(|e| e.code() == *c), "{c} in CODES but no variant has it");
        }
    }

    #[test]
    fn conflict_message_is_verbatim() {
        let e = Error::Conflict("Manifest version mismatch: expected 10, found 11. Retry operation.".into());
        assert_eq!(e.to_string(), "Manifest version mismatch: expected 10, found 11. Retry operation.");
    }
}
