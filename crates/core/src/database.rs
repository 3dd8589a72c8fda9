//! `Database`: the entry point of the engine API: collections in one storage, sharing one
//! metrics registry and one segment cache.

use std::rc::Rc;
use std::sync::Arc;

use serde::Serialize;

use crate::collection::{Collection, SegmentCache};
use crate::error::Result;
use crate::group_commit::GroupCommitConfig;
use crate::kv::{Kv, MemoryKv};
use crate::manifest::{CollectionManifest, Distance};
use crate::metrics::MetricsSnapshot;
use crate::storage::{GcReport, Storage};

/// Summary of one collection (`db.listCollections()` in JS).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionInfo {
    /// Collection name.
    pub name: String,
    /// Vector dimension.
    pub dimension: u16,
    /// `cosine`, `l2` or `dot`.
    pub distance: Distance,
    /// Records stored across listed segments.
    pub total_vectors: u64,
    /// Current manifest version.
    pub version: u64,
}

impl From<&CollectionManifest> for CollectionInfo {
    fn from(m: &CollectionManifest) -> Self {
        CollectionInfo {
            name: m.collection.clone(),
            dimension: m.dimension,
            distance: m.distance,
            total_vectors: m.total_vectors,
            version: m.version,
        }
    }
}

/// A database: a [`Storage`] plus caches. Cheap to clone handles from; not `Send` (one per
/// thread, tab or worker, as the store is shared through the backend, not through memory).
pub struct Database {
    storage: Rc<Storage>,
    cache: Rc<SegmentCache>,
    group_commit: GroupCommitConfig,
}

impl Database {
    /// A database over `storage`.
    pub fn new(storage: Storage) -> Self {
        Database {
            storage: Rc::new(storage),
            cache: Rc::new(SegmentCache::default()),
            group_commit: Default::default(),
        }
    }

    /// Sets the group-commit limits of collection handles opened from now on.
    pub fn with_group_commit(mut self, config: GroupCommitConfig) -> Self {
        self.group_commit = config;
        self
    }

    /// Keeps at most `bytes` of index partitions read by cold ANN queries (default
    /// [`crate::limits::PARTITION_CACHE_BYTES`]); a browser tab with memory to spare can hold a
    /// whole large index this way and stop reading the store.
    pub fn with_partition_cache_bytes(self, bytes: usize) -> Self {
        self.cache.partitions.borrow_mut().budget = bytes;
        self
    }

    /// A database over a fresh in-memory store (the embedded default).
    pub fn memory() -> Self {
        Self::new(Storage::new(Arc::new(MemoryKv::new()) as Arc<dyn Kv>))
    }

    /// The storage layer.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Creates an empty collection.
    pub async fn create_collection(&self, name: &str, dimension: u32, distance: Distance) -> Result<CollectionInfo> {
        Ok(CollectionInfo::from(&self.storage.create_collection(name, dimension, distance).await?))
    }

    /// All collections, ordered by name.
    pub async fn list_collections(&self) -> Result<Vec<CollectionInfo>> {
        Ok(self.storage.list_collections().await?.iter().map(CollectionInfo::from).collect())
    }

    /// Drops a collection and its segment objects.
    pub async fn drop_collection(&self, name: &str) -> Result<()> {
        self.storage.drop_collection(name).await?;
        self.cache.forget_collection(name);
        Ok(())
    }

    /// One garbage-collection pass over a collection (see [`Storage::collect_garbage`]).
    pub async fn collect_garbage(&self, name: &str) -> Result<GcReport> {
        self.storage.collect_garbage(name).await
    }

    /// Opens a handle on an existing collection (reads its manifest once).
    pub async fn collection(&self, name: &str) -> Result<Collection> {
        Collection::open(self.storage.clone(), self.cache.clone(), name, self.group_commit.clone()).await
    }

    /// Current metrics.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.storage.metrics().snapshot()
    }

    /// Current metrics in Prometheus text format.
    pub fn metrics_text(&self) -> String {
        self.storage.metrics().prometheus_text()
    }
}
