//! `Collection`: a handle on one collection. Writes go through the storage commit loop; reads
//! run on one manifest snapshot (a version), whose segments are loaded once and cached by id
//! (segment objects are immutable).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::group_commit::{GroupCommitConfig, GroupCommitter};
use crate::kv::{GetIfChanged, VersionToken};
use crate::manifest::CollectionManifest;
use crate::record::Record;
use crate::search::exec::{self, SearchHit, SearchOptions, SnapshotView};
use crate::segment::Segment;
use crate::storage::{BatchReceipt, CommitReceipt, Storage};
use crate::validate;

/// Decoded segments shared by every handle of one database, keyed by (collection, segment id).
#[derive(Default)]
pub struct SegmentCache {
    map: RefCell<HashMap<(String, Uuid), Rc<Segment>>>,
}

impl SegmentCache {
    fn get(&self, name: &str, id: &Uuid) -> Option<Rc<Segment>> {
        self.map.borrow().get(&(name.to_string(), *id)).cloned()
    }

    fn insert(&self, name: &str, id: Uuid, seg: Rc<Segment>) {
        self.map.borrow_mut().insert((name.to_string(), id), seg);
    }

    /// Drops every cached segment of a collection (after a drop).
    pub fn forget_collection(&self, name: &str) {
        self.map.borrow_mut().retain(|(c, _), _| c != name);
    }

    /// Number of cached segments.
    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct State {
    manifest: CollectionManifest,
    token: VersionToken,
    view: Option<Rc<SnapshotView>>,
}

/// A handle on one collection.
pub struct Collection {
    storage: Rc<Storage>,
    cache: Rc<SegmentCache>,
    name: String,
    state: RefCell<State>,
    committer: GroupCommitter,
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
            state: RefCell::new(State { manifest, token, view: None }),
            committer: GroupCommitter::new(group_commit),
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

    /// Writes `records` atomically (replacing records with the same ids). Concurrent upserts
    /// on this handle are group-committed: they may share one segment and one manifest
    /// commit, and each resolves once that commit is durable. Invalid input is rejected before
    /// it joins a group, so it never fails anyone else's write.
    pub async fn upsert(&self, records: &[Record]) -> Result<CommitReceipt> {
        let schema = self.snapshot();
        validate::batch(records, schema.dimension)?;
        let r = self.committer.submit(&self.storage, &schema, records.to_vec()).await?;
        self.catch_up(r.version).await?;
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
        let r = self.storage.write_segments_with_data(&self.name, records, segment_size, progress).await?;
        self.catch_up(r.version).await?;
        Ok(r)
    }

    /// Deletes records by id in one commit.
    pub async fn delete(&self, ids: &[String]) -> Result<CommitReceipt> {
        let r = self.storage.delete_records(&self.name, ids).await?;
        self.catch_up(r.version).await?;
        Ok(r)
    }

    /// Seals a segment by id (a UUID string).
    pub async fn seal(&self, segment_id: &str) -> Result<CommitReceipt> {
        let id = Uuid::parse_str(segment_id)
            .map_err(|_| Error::invalid(format!("segment id {segment_id:?} is not a UUID")))?;
        let r = self.storage.seal_segment(&self.name, &id).await?;
        self.catch_up(r.version).await?;
        Ok(r)
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
                let mut st = self.state.borrow_mut();
                let moved = m.version != st.manifest.version || m.created_at_ms != st.manifest.created_at_ms;
                *st = State { manifest: m, token: v.version, view: None };
                Ok(moved)
            }
        }
    }

    /// Reads our own writes: after a commit at `version`, make sure the snapshot is at least
    /// that new.
    async fn catch_up(&self, version: u64) -> Result<()> {
        if self.state.borrow().manifest.version < version {
            self.refresh().await?;
        }
        Ok(())
    }

    /// Nearest neighbours of `query` on the current snapshot, best first.
    pub async fn search(&self, query: &[f32], opts: &SearchOptions) -> Result<Vec<SearchHit>> {
        let view = self.view().await?;
        exec::search(&view, query, opts)
    }

    /// Number of live (not deleted, not superseded) records in the snapshot.
    pub async fn count(&self) -> Result<usize> {
        Ok(self.view().await?.live_count())
    }

    /// The searchable view of the current snapshot, built once per version.
    async fn view(&self) -> Result<Rc<SnapshotView>> {
        if let Some(v) = &self.state.borrow().view {
            return Ok(v.clone());
        }
        let manifest = self.snapshot();
        let mut segments = Vec::with_capacity(manifest.segments.len());
        for desc in &manifest.segments {
            let seg = match self.cache.get(&self.name, &desc.id) {
                Some(s) => s,
                None => {
                    let s = Rc::new(self.storage.load_segment(&self.name, desc).await?);
                    self.cache.insert(&self.name, desc.id, s.clone());
                    s
                }
            };
            segments.push(seg);
        }
        let view = Rc::new(SnapshotView::build(&manifest, segments));
        let mut st = self.state.borrow_mut();
        // Keep it only if no refresh moved the snapshot while segments loaded.
        if st.manifest.version == manifest.version && st.manifest.created_at_ms == manifest.created_at_ms {
            st.view = Some(view.clone());
        }
        Ok(view)
    }
}
