//! `Collection`: a handle on one collection. Writes go through the storage commit loop; reads
//! run on one manifest snapshot (a version), whose segments are loaded once and cached by id
//! (segment objects are immutable).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::group_commit::{GroupCommitConfig, GroupCommitter};
use crate::kv::{GetIfChanged, VersionToken};
use crate::manifest::{CollectionManifest, SegmentDescriptor};
use crate::record::Record;
use crate::search::exec::{self, ScanMode, SearchHit, SearchOptions, SnapshotView};
use crate::segment::Segment;
use futures::StreamExt;

use crate::limits::MAX_PARALLEL_READS;
use crate::storage::compact::dead_tombstones;
use crate::storage::{
    BatchReceipt, CommitReceipt, CompactOptions, CompactionReceipt, Operation, OperationStatus, Storage,
};
use crate::validate;

pub mod cold;
pub mod records;

/// Decoded segments shared by every handle of one database, keyed by (collection, segment id).
/// Entries are weak: a segment stays in memory exactly as long as a snapshot view uses it (a
/// handle keeps its previous view until the next one is built, so unchanged segments carry
/// over), and a segment compaction replaced is freed once no snapshot reads it.
#[derive(Default)]
pub struct SegmentCache {
    map: RefCell<HashMap<(String, Uuid), Weak<Segment>>>,
    /// Index headers and partitions read by range (cold ANN queries), within a byte budget.
    pub partitions: RefCell<cold::PartitionCache>,
}

impl SegmentCache {
    fn get(&self, name: &str, id: &Uuid) -> Option<Rc<Segment>> {
        self.map.borrow().get(&(name.to_string(), *id)).and_then(Weak::upgrade)
    }

    fn insert(&self, name: &str, id: Uuid, seg: &Rc<Segment>) {
        let mut map = self.map.borrow_mut();
        map.retain(|_, w| w.strong_count() > 0);
        map.insert((name.to_string(), id), Rc::downgrade(seg));
    }

    /// Drops every cached segment of a collection (after a drop).
    pub fn forget_collection(&self, name: &str) {
        self.map.borrow_mut().retain(|(c, _), _| c != name);
    }

    /// Number of segments in memory.
    pub fn len(&self) -> usize {
        self.map.borrow().values().filter(|w| w.strong_count() > 0).count()
    }

    /// True when nothing is in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct State {
    manifest: CollectionManifest,
    token: VersionToken,
    view: Option<Rc<SnapshotView>>,
    /// The view of the previous snapshot, kept until the next view is built so the segments
    /// both share are not reloaded.
    prev: Option<Rc<SnapshotView>>,
    /// The whole segments the last cold ANN query read (all but the indexed one), kept so the
    /// next cold query does not read them again.
    cold: Vec<Rc<Segment>>,
}

impl State {
    fn moved_to(&mut self, manifest: CollectionManifest, token: VersionToken) {
        if let Some(v) = self.view.take() {
            self.prev = Some(v);
        }
        self.manifest = manifest;
        self.token = token;
    }
}

/// A handle on one collection.
pub struct Collection {
    storage: Rc<Storage>,
    cache: Rc<SegmentCache>,
    name: String,
    state: RefCell<State>,
    committer: GroupCommitter,
    /// Largest snapshot (bytes of segment objects) kept in memory from the first search on
    /// (set by the database that opened the handle, as `merge_budget` is).
    pub(crate) snapshot_budget: u64,
    /// Default merge budget of this handle's compactions ([`Collection::compact_options`]).
    pub(crate) merge_budget: u64,
}

impl Collection {
    pub(crate) async fn open(
        storage: Rc<Storage>,
        cache: Rc<SegmentCache>,
        name: &str,
        group_commit: GroupCommitConfig,
    ) -> Result<Self> {
        let (manifest, token) = storage.load_manifest_versioned(name).await?;
        Ok(Collection {
            storage,
            cache,
            name: name.to_string(),
            state: RefCell::new(State { manifest, token, view: None, prev: None, cold: Vec::new() }),
            committer: GroupCommitter::new(group_commit),
            snapshot_budget: crate::limits::SNAPSHOT_BUDGET_BYTES,
            merge_budget: crate::limits::DEFAULT_MAX_INPUT_BYTES,
        })
    }

    /// The collection name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The manifest of the snapshot this handle reads (no I/O).
    pub fn snapshot(&self) -> CollectionManifest {
        self.state.borrow().manifest.clone()
    }

    /// The version of the snapshot this handle reads (no I/O, no copy).
    pub fn version(&self) -> u64 {
        self.state.borrow().manifest.version
    }

    /// Loads the current snapshot's segments into memory (no-op when they are), so that
    /// [`Collection::search_loaded`] can answer.
    pub async fn load(&self) -> Result<()> {
        self.view().await.map(|_| ())
    }

    /// A search answered synchronously on the snapshot already in memory; [`Error::NotLoaded`]
    /// when the current snapshot is not loaded (after a refresh moved it, or before the first
    /// search).
    pub fn search_loaded(&self, query: &[f32], opts: &SearchOptions) -> Result<Vec<SearchHit>> {
        let view = self.state.borrow().view.clone().ok_or_else(|| Error::NotLoaded(self.name().to_string()))?;
        exec::search(&view, query, opts)
    }

    /// Writes `records` atomically (replacing records with the same ids). Concurrent upserts
    /// on this handle are group-committed: they may share one segment and one manifest
    /// commit, and each resolves once that commit is durable. Invalid input is rejected before
    /// it joins a group, so it never fails anyone else's write.
    pub async fn upsert(&self, records: &[Record]) -> Result<CommitReceipt> {
        let schema = self.snapshot();
        validate::batch_for(records, schema.dimension, schema.distance)?;
        let r = self.committer.submit(&self.storage, &schema, records.to_vec()).await?;
        self.catch_up(&r).await;
        Ok(r)
    }

    /// Writes `records` atomically as segments of at most `segment_size` records, all listed by
    /// one manifest commit; `progress(records_written, total)` is called after each segment.
    pub async fn upsert_batched(
        &self,
        records: &[Record],
        segment_size: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<BatchReceipt> {
        let fresh = self.storage.load_manifest(&self.name).await?;
        if fresh.incarnation != self.state.borrow().manifest.incarnation {
            return Err(Error::NotFound(format!("collection '{}' was dropped (and re-created)", self.name)));
        }
        let r = self.storage.write_segments_as(&fresh, records, segment_size, progress).await?;
        if self.state.borrow().manifest.version < r.version {
            // The commit is durable: failing to read it back must not report it as failed.
            if let Err(e) = self.refresh().await {
                log::warn!("'{}': committed version {}, but refreshing failed: {e}", self.name, r.version);
            }
        }
        Ok(r)
    }

    /// Deletes records by id in one commit.
    pub async fn delete(&self, ids: &[String]) -> Result<CommitReceipt> {
        let op = Operation::bound_to(self.state.borrow().manifest.incarnation);
        let r = self.storage.delete_records_as(&self.name, &op, ids).await?;
        self.catch_up(&r).await;
        Ok(r)
    }

    /// Seals a segment by id (a UUID string).
    pub async fn seal(&self, segment_id: &str) -> Result<CommitReceipt> {
        let id = Uuid::parse_str(segment_id)
            .map_err(|_| Error::invalid(format!("segment id {segment_id:?} is not a UUID")))?;
        let op = Operation::bound_to(self.state.borrow().manifest.incarnation);
        let r = self.storage.seal_segment_as(&self.name, &op, &id).await?;
        self.catch_up(&r).await;
        Ok(r)
    }

    /// Whether the operation of an `OUTCOME_UNKNOWN` error (its `operation` token) committed.
    pub async fn operation_status(&self, token: &str) -> Result<OperationStatus> {
        self.storage.operation_status(&self.name, token).await
    }

    /// The latest committed manifest (refreshes the snapshot first).
    pub async fn manifest(&self) -> Result<CollectionManifest> {
        self.refresh().await?;
        Ok(self.snapshot())
    }

    /// Re-reads the manifest if it changed (cheap conditional read). Returns true when the
    /// snapshot moved to a newer version.
    pub async fn refresh(&self) -> Result<bool> {
        let token = self.state.borrow().token.clone();
        match self.storage.kv().get_if_changed(&self.storage.manifest_key(&self.name), &token).await? {
            GetIfChanged::Unchanged => Ok(false),
            GetIfChanged::Missing => Err(Error::NotFound(format!("collection '{}'", self.name))),
            GetIfChanged::Changed(v) => {
                let m = CollectionManifest::from_json(&v.value)?;
                if m.is_dropped() {
                    return Err(Error::NotFound(format!("collection '{}' (dropped)", self.name)));
                }
                // A handle belongs to one incarnation: a collection re-created under the name is
                // another collection (open it again).
                if m.incarnation != self.state.borrow().manifest.incarnation {
                    return Err(Error::NotFound(format!("collection '{}' (dropped and re-created)", self.name)));
                }
                let mut st = self.state.borrow_mut();
                let moved = m.version != st.manifest.version || m.incarnation != st.manifest.incarnation;
                st.moved_to(m, v.version);
                Ok(moved)
            }
        }
    }

    /// Reads our own writes: after a commit at `version`, make sure the snapshot is at least
    /// that new. The commit is durable whatever happens here, so a failed refresh is logged,
    /// never reported as a failed write (a caller would retry and apply it twice).
    async fn catch_up(&self, r: &CommitReceipt) {
        let behind = self.state.borrow().manifest.version < r.version;
        if !behind {
            return;
        }
        match &r.snapshot {
            // A manifest that includes the commit: no round trip (same incarnation only).
            Some(snap)
                if snap.0.incarnation == self.state.borrow().manifest.incarnation
                    && snap.0.version > self.state.borrow().manifest.version =>
            {
                self.state.borrow_mut().moved_to(snap.0.clone(), snap.1.clone());
            }
            _ => {
                if let Err(e) = self.refresh().await {
                    log::warn!("'{}': committed version {}, but refreshing failed: {e}", self.name, r.version);
                }
            }
        }
    }

    /// Whether this handle keeps its snapshot in memory from the first search on: its segment
    /// objects fit the database's snapshot budget.
    pub fn keeps_snapshot(&self) -> bool {
        let st = self.state.borrow();
        st.manifest.segments.iter().map(|d| d.size_bytes).sum::<u64>() <= self.snapshot_budget
    }

    /// Nearest neighbours of `query` on the current snapshot, best first. The first search
    /// loads the snapshot into memory when it fits the snapshot budget
    /// ([`Database::with_snapshot_budget`](crate::database::Database::with_snapshot_budget)),
    /// so later ones (and `search_loaded`) run warm. Otherwise an ANN search on a snapshot
    /// not in memory reads only the index header and the probed partitions of its indexed
    /// segment when the store serves byte ranges (see [`cold`]).
    pub async fn search(&self, query: &[f32], opts: &SearchOptions) -> Result<Vec<SearchHit>> {
        if let ScanMode::Ann { probes, .. } = opts.mode {
            if self.state.borrow().view.is_none() && !self.keeps_snapshot() {
                match cold::search(self, query, opts, probes).await {
                    Ok(Some(hits)) => return Ok(hits),
                    Ok(None) => {}
                    // Compaction retired the segment and GC's retention ended: the latest
                    // snapshot, through the full path (which refreshes).
                    Err(Error::SegmentMissing { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let view = self.view().await?;
        exec::search(&view, query, opts)
    }

    /// Number of live (not deleted, not superseded) records in the snapshot.
    pub async fn count(&self) -> Result<usize> {
        Ok(self.view().await?.live_count())
    }

    /// Compacts the collection (see [`Storage::compact`]) and moves this handle to the result.
    /// Then, when this handle has its segments in memory anyway (or `opts.full`), retires the
    /// tombstones that hide nothing (deletes of ids never written), which merges alone can only
    /// retire when the oldest segment is an input.
    pub async fn compact(&self, opts: &CompactOptions) -> Result<CompactionReceipt> {
        let incarnation = self.state.borrow().manifest.incarnation;
        let mut r = self.storage.compact_in(&self.name, Some(incarnation), opts).await?;
        if r.merges > 0 {
            if let Err(e) = self.refresh().await {
                log::warn!("'{}': compacted to version {}, but refreshing failed: {e}", self.name, r.version);
            }
        }
        let has_view = self.state.borrow().view.is_some();
        if self.state.borrow().manifest.tombstones.is_empty() || !(has_view || opts.full) {
            return Ok(r);
        }
        let view = self.view().await?;
        let dead = dead_tombstones(&self.snapshot(), view.segments());
        if !dead.is_empty() {
            let op = Operation::bound_to(self.state.borrow().manifest.incarnation);
            // Best effort: the merges above are committed whatever happens here, and their
            // receipt must reach the caller.
            match self.storage.retire_tombstones(&self.name, &op, &dead).await {
                // Nothing left to retire (another handle did it first) commits nothing: the
                // version found then is someone else's, and the receipt keeps its own.
                Ok((_, 0)) => {}
                Ok((version, retired)) => {
                    r.version = version;
                    r.tombstones_retired += retired;
                    r.commits += 1;
                    if let Err(e) = self.refresh().await {
                        log::warn!(
                            "'{}': retired tombstones at version {version}, but refreshing failed: {e}",
                            self.name
                        );
                    }
                }
                Err(e) => log::warn!("'{}': retiring {} dead tombstones failed: {e}", self.name, dead.len()),
            }
        }
        Ok(r)
    }

    /// Compaction options with this handle's default merge budget
    /// ([`Database::with_merge_budget`](crate::database::Database::with_merge_budget)): what a
    /// caller that sets no `max_input_bytes` should start from.
    pub fn compact_options(&self) -> CompactOptions {
        CompactOptions { max_input_bytes: self.merge_budget, ..CompactOptions::default() }
    }

    /// Whether the policy wants a merge on this handle's snapshot (no I/O, no copy).
    pub fn needs_compaction(&self, opts: &CompactOptions) -> bool {
        crate::storage::compaction_plan(&self.state.borrow().manifest, opts).is_some()
    }

    /// The searchable view of the current snapshot, built once per version. A segment that is
    /// gone (compaction retired it and GC's retention for it ended while this snapshot was
    /// current) moves the handle to the latest manifest and builds once more.
    async fn view(&self) -> Result<Rc<SnapshotView>> {
        match self.build_view().await {
            Err(missing @ Error::SegmentMissing { .. }) => {
                if self.refresh().await? {
                    self.build_view().await
                } else {
                    Err(missing)
                }
            }
            other => other,
        }
    }

    /// The decoded segments `descs` of `manifest`, in order: from the cache, the rest loaded
    /// in parallel but never more than the Workers connection limit at once.
    async fn segments_of(
        &self,
        manifest: &CollectionManifest,
        descs: &[SegmentDescriptor],
    ) -> Result<Vec<Rc<Segment>>> {
        let cached: HashMap<Uuid, Rc<Segment>> =
            descs.iter().filter_map(|d| Some((d.id, self.cache.get(&self.name, &d.id)?))).collect();
        let missing = descs.iter().filter(|d| !cached.contains_key(&d.id));
        let loads =
            futures::stream::iter(missing.map(|d| async { (d.id, self.storage.load_segment(manifest, d).await) }))
                .buffered(MAX_PARALLEL_READS)
                .collect::<Vec<_>>()
                .await;
        let mut loaded = HashMap::with_capacity(loads.len());
        for (id, seg) in loads {
            let seg = Rc::new(seg?);
            self.cache.insert(&self.name, id, &seg);
            loaded.insert(id, seg);
        }
        Ok(descs.iter().map(|d| cached.get(&d.id).or(loaded.get(&d.id)).cloned().expect("loaded")).collect())
    }

    async fn build_view(&self) -> Result<Rc<SnapshotView>> {
        if let Some(v) = &self.state.borrow().view {
            return Ok(v.clone());
        }
        let manifest = self.snapshot();
        let segments = self.segments_of(&manifest, &manifest.segments).await?;
        let view = Rc::new(SnapshotView::build(&manifest, segments));
        let mut st = self.state.borrow_mut();
        // Keep it only if no refresh moved the snapshot while segments loaded.
        if st.manifest.version == manifest.version && st.manifest.incarnation == manifest.incarnation {
            st.view = Some(view.clone());
            st.prev = None;
            st.cold.clear();
        }
        Ok(view)
    }
}
