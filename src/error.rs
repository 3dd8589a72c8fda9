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
    }

    #[test]
    fn conflict_message_is_verbatim() {
        let e = Error::Conflict("Manifest version mismatch: expected 10, found 11. Retry operation.".into());
        assert_eq!(e.to_string(), "Manifest version mismatch: expected 10, found 11. Retry operation.");
    }
}
