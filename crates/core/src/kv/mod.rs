//! The key-value layer: one small async trait with conditional puts, and one file per backend.
//! Nothing here knows about manifests or vectors.

use async_trait::async_trait;
use thiserror::Error;

pub mod chaos;
pub mod conformance;
pub mod memory;
pub mod retrying;
pub mod s3;

pub use chaos::{ChaosConfig, ChaosKv};
pub use memory::MemoryKv;
pub use retrying::{RetryStats, RetryingKv};
pub use s3::{S3Config, S3Kv};

/// Opaque version token of a stored value (an ETag, a counter). Compare only for equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionToken(pub String);

/// A value together with the version token it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The stored bytes.
    pub value: Vec<u8>,
    /// Token to use in [`PutCondition::IfVersion`].
    pub version: VersionToken,
}

/// When a put may happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutCondition {
    /// Unconditional overwrite.
    Any,
    /// Only if the key does not exist (create-only; S3 `If-None-Match: *`).
    IfAbsent,
    /// Only if the key exists with exactly this version (S3 `If-Match`).
    IfVersion(VersionToken),
}

/// Outcome of a conditional read ([`Kv::get_if_changed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetIfChanged {
    /// The stored version still equals the known one (S3: 304 Not Modified).
    Unchanged,
    /// The value changed (or was created).
    Changed(Versioned),
    /// The key no longer exists.
    Missing,
}

/// Errors of the KV layer. A failed precondition is distinct from every other failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KvError {
    /// The put's condition did not hold (key exists for `IfAbsent`; version differs or key
    /// missing for `IfVersion`). Nothing was written.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A transient transport failure. When `ambiguous` is true the write may or may not have
    /// been applied (the request was sent, the answer was lost).
    #[error("transient storage failure: {message}")]
    Transient {
        /// What happened (never contains secrets).
        message: String,
        /// The write may have been applied.
        ambiguous: bool,
    },
    /// Credentials were rejected.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Any other, non-retryable backend failure (quota, closed connection, bad config).
    #[error("storage failure: {0}")]
    Backend(String),
}

impl From<KvError> for crate::error::Error {
    fn from(e: KvError) -> Self {
        use crate::error::Error;
        match e {
            KvError::PreconditionFailed => Error::Conflict("precondition failed".into()),
            KvError::Transient { message, .. } => Error::Storage(message),
            KvError::Auth(m) => Error::Auth(m),
            KvError::Backend(m) => Error::Storage(m),
        }
    }
}

/// A key-value store with conditional writes. Futures are not `Send` because browser and
/// worker backends hold JS values; native callers drive them with `block_on` per thread.
#[async_trait(?Send)]
pub trait Kv {
    /// Reads a key; `None` when absent.
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError>;

    /// Reads a key only if its version differs from `known`. Backends with a cheap conditional
    /// read (S3 `If-None-Match`) override this; the default compares after a full read.
    async fn get_if_changed(&self, key: &str, known: &VersionToken) -> Result<GetIfChanged, KvError> {
        Ok(match self.get(key).await? {
            None => GetIfChanged::Missing,
            Some(v) if &v.version == known => GetIfChanged::Unchanged,
            Some(v) => GetIfChanged::Changed(v),
        })
    }

    /// Reads bytes `start..start + len` of a key, clamped to its length (shorter, or empty,
    /// past the end); `None` when absent. Backends with ranged reads (S3 `Range`) override
    /// this; the default reads the whole value and slices it.
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.get(key).await?.map(|v| {
            let n = v.value.len();
            let s = usize::try_from(start).unwrap_or(n).min(n);
            let e = s.saturating_add(usize::try_from(len).unwrap_or(n)).min(n);
            v.value[s..e].to_vec()
        }))
    }

    /// Whether [`Kv::get_range`] reads only the range (then a cold ANN query fetches only the
    /// index header and the partitions it probes). The default full read says false.
    fn supports_ranges(&self) -> bool {
        false
    }

    /// Writes a value if `condition` holds, atomically; returns the new version token. This is
    /// a *commit point*: once it resolves, the write is as durable as the store can make it.
    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError>;

    /// [`Kv::put`] for a *staged* value: one that nothing reads until a later [`Kv::put`] to
    /// this store (the commit point) publishes it, e.g. a segment object before the manifest
    /// commit that lists it. A backend whose commit points also flush every earlier write
    /// (IndexedDB) may write staged values with weaker, cheaper durability; the default is a
    /// plain put.
    async fn put_staged(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        self.put(key, value, condition).await
    }

    /// Deletes a key; deleting an absent key succeeds.
    async fn delete(&self, key: &str) -> Result<(), KvError>;

    /// All keys starting with `prefix`, in ascending byte order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError>;

    /// Releases connections (IndexedDB); later operations fail with [`KvError::Backend`].
    /// Stores without connections keep working (the default does nothing).
    fn close(&self) {}
}

/// A shared store is a store: lets threads share one `Arc<MemoryKv>` and wrappers take it.
#[async_trait(?Send)]
impl<K: Kv + ?Sized> Kv for std::sync::Arc<K> {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        (**self).get(key).await
    }
    async fn get_if_changed(&self, key: &str, known: &VersionToken) -> Result<GetIfChanged, KvError> {
        (**self).get_if_changed(key, known).await
    }
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>, KvError> {
        (**self).get_range(key, start, len).await
    }
    fn supports_ranges(&self) -> bool {
        (**self).supports_ranges()
    }
    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        (**self).put(key, value, condition).await
    }
    async fn put_staged(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        (**self).put_staged(key, value, condition).await
    }
    async fn delete(&self, key: &str) -> Result<(), KvError> {
        (**self).delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        (**self).list(prefix).await
    }
    fn close(&self) {
        (**self).close()
    }
}
