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
}

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
    }

    #[test]
    fn conflict_message_is_verbatim() {
        let e = Error::Conflict("Manifest version mismatch: expected 10, found 11. Retry operation.".into());
        assert_eq!(e.to_string(), "Manifest version mismatch: expected 10, found 11. Retry operation.");
    }
}
