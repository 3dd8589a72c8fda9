//! `Database`: the entry point of the engine API: collections in one storage, sharing one
//! metrics registry and one segment cache.

use std::rc::Rc;
use std::sync::Arc;

use serde::Serialize;

use crate::collection::{Collection, SegmentCache};
use crate::error::{Error, Result};
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
    snapshot_budget: u64,
    merge_budget: u64,
}

impl Database {
    /// A database over `storage`.
    pub fn new(storage: Storage) -> Self {
        Database {
            storage: Rc::new(storage),
            cache: Rc::new(SegmentCache::default()),
            group_commit: Default::default(),
            snapshot_budget: crate::limits::SNAPSHOT_BUDGET_BYTES,
            merge_budget: crate::limits::DEFAULT_MAX_INPUT_BYTES,
        }
    }

    /// Sets the group-commit limits of collection handles opened from now on.
    pub fn with_group_commit(mut self, config: GroupCommitConfig) -> Self {
        self.group_commit = config;
        self
    }

    /// Handles opened from now on keep a collection's snapshot in memory from its first search
    /// on when its segment objects total at most `bytes` (default
    /// [`crate::limits::SNAPSHOT_BUDGET_BYTES`]); over it, or at 0, an ANN search on a handle
    /// that was not [`Collection::load`]ed reads only the index header and the probed
    /// partitions (the cold path: right for a 128 MB Workers isolate over S3 or R2).
    pub fn with_snapshot_budget(mut self, bytes: u64) -> Self {
        self.snapshot_budget = bytes;
        self
    }

    /// The default merge budget (`max_input_bytes`) of compactions on handles opened from now
    /// on, as [`Collection::compact_options`] gives it (default
    /// [`crate::limits::DEFAULT_MAX_INPUT_BYTES`]).
    pub fn with_merge_budget(mut self, bytes: u64) -> Self {
        self.merge_budget = bytes;
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

    /// Get-or-create: creates the collection, or returns the existing one when its spec is the
    /// same. Safe for concurrent callers: the create is one create-only manifest write, so one
    /// caller creates and the others read what it created. A spec that differs is
    /// ALREADY_EXISTS naming the difference (nothing is changed).
    pub async fn ensure_collection(&self, name: &str, dimension: u32, distance: Distance) -> Result<CollectionInfo> {
        // A concurrent drop between our failed create and our read: try again, a few times.
        for _ in 0..3 {
            match self.storage.create_collection(name, dimension, distance).await {
                Ok(m) => return Ok(CollectionInfo::from(&m)),
                Err(Error::AlreadyExists(_)) => {}
                Err(e) => return Err(e),
            }
            let existing = match self.storage.load_manifest(name).await {
                Ok(m) => m,
                Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let info = CollectionInfo::from(&existing);
            let mut diff = Vec::new();
            if u32::from(info.dimension) != dimension {
                diff.push(format!("dimension {} (asked: {dimension})", info.dimension));
            }
            if info.distance != distance {
                diff.push(format!("distance '{}' (asked: '{}')", info.distance.as_str(), distance.as_str()));
            }
            if diff.is_empty() {
                return Ok(info);
            }
            return Err(Error::AlreadyExists(format!(
                "collection '{name}' exists with {}; open it with its own spec, or drop it first",
                diff.join(" and ")
            )));
        }
        Err(Error::Conflict(format!(
            "collection '{name}' was dropped and re-created repeatedly while being opened; retry"
        )))
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
        let mut c = Collection::open(self.storage.clone(), self.cache.clone(), name, self.group_commit.clone()).await?;
        c.snapshot_budget = self.snapshot_budget;
        c.merge_budget = self.merge_budget;
        Ok(c)
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
