//! The storage layer: collections as a manifest plus immutable segment objects in a [`Kv`],
//! and the Manifest V1 commit loop (conditional put on the store's version token, retry with
//! backoff, idempotent re-application, ambiguous-outcome resolution). See docs/PROTOCOL.md.

use std::sync::Arc;

use log::{debug, warn};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::kv::{Kv, KvError, PutCondition, VersionToken};
use crate::manifest::{CollectionManifest, Distance, SegmentDescriptor, SegmentState};
use crate::metrics::Metrics;
use crate::record::Record;
use crate::retry::{Clock, RetryPolicy, SystemClock};
use crate::search::kernels;
use crate::segment::{self, Segment};
use crate::validate;

mod batch;
pub use batch::{BatchReceipt, DEFAULT_SEGMENT_SIZE};

/// What a committed (or already-applied) change produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitReceipt {
    /// The segment written by the operation, if it wrote one.
    pub segment_id: Option<Uuid>,
    /// The manifest version that contains the change.
    pub version: u64,
    /// How many times the conditional put was retried.
    pub retries: u32,
    /// False when the change was already present and no commit was needed.
    pub committed: bool,
    /// The manifest (and its store token) as of the commit, so the writer's handle can read its
    /// own write without another round trip.
    pub snapshot: Option<Arc<(CollectionManifest, VersionToken)>>,
}

impl CommitReceipt {
    pub(crate) fn from_outcome(segment_id: Option<Uuid>, out: CommitOutcome) -> Self {
        CommitReceipt {
            segment_id,
            version: out.manifest.version,
            retries: out.retries,
            committed: out.committed,
            snapshot: Some(Arc::new((out.manifest, out.token))),
        }
    }
}

/// Result of [`Storage::update_manifest`].
#[derive(Debug, Clone)]
pub struct CommitOutcome {
    /// The manifest as committed (or as found, when nothing changed).
    pub manifest: CollectionManifest,
    /// Its store version token.
    pub token: VersionToken,
    /// Retries spent.
    pub retries: u32,
    /// Whether a new version was written.
    pub committed: bool,
}

/// What a garbage-collection pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Segment objects deleted (unreferenced and older than the grace period).
    pub deleted: Vec<String>,
    /// Unreferenced segment objects kept because they are younger than the grace period.
    pub kept_young: usize,
}

/// Collections in a key-value store under one key prefix.
pub struct Storage {
    kv: Arc<dyn Kv>,
    prefix: String,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

fn mismatch(expected: u64, found: u64) -> Error {
    Error::Conflict(format!("Manifest version mismatch: expected {expected}, found {found}. Retry operation."))
}

impl Storage {
    /// Storage over `kv` with no prefix, the default retry policy, the system clock and fresh
    /// metrics.
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Storage {
            kv,
            prefix: String::new(),
            policy: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Puts every key under `prefix` (e.g. `"tenant-a/"`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Replaces the clock (tests inject a [`crate::retry::ManualClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Shares a metrics registry (several storages can report into one).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The metrics this storage reports into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The clock commits sleep and measure on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The underlying store.
    pub fn kv(&self) -> &Arc<dyn Kv> {
        &self.kv
    }

    /// `{prefix}collections/{name}/manifest.json`
    pub fn manifest_key(&self, name: &str) -> String {
        format!("{}collections/{name}/manifest.json", self.prefix)
    }

    /// `{prefix}collections/{name}/segments/{id}.seg`
    pub fn segment_key(&self, name: &str, id: &Uuid) -> String {
        format!("{}collections/{name}/segments/{id}.seg", self.prefix)
    }

    fn collections_prefix(&self) -> String {
        format!("{}collections/", self.prefix)
    }

    /// Creates an empty collection (create-only put of its manifest).
    pub async fn create_collection(
        &self,
        name: &str,
        dimension: u32,
        distance: Distance,
    ) -> Result<CollectionManifest> {
        validate::collection_name(name)?;
        let dim = validate::dimension(dimension)?;
        let m = CollectionManifest::new(name, dim, distance, self.clock.unix_ms());
        match self.kv.put(&self.manifest_key(name), m.to_json(), PutCondition::IfAbsent).await {
            Ok(_) => Ok(m),
            Err(KvError::PreconditionFailed) => Err(Error::AlreadyExists(format!("collection '{name}'"))),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a collection: its manifest first (so it disappears atomically), then its
    /// segment objects.
    pub async fn drop_collection(&self, name: &str) -> Result<()> {
        validate::collection_name(name)?;
        self.load_manifest(name).await?;
        self.kv.delete(&self.manifest_key(name)).await?;
        let seg_prefix = format!("{}collections/{name}/segments/", self.prefix);
        for key in self.kv.list(&seg_prefix).await? {
            self.kv.delete(&key).await?;
        }
        Ok(())
    }

    /// Every collection's current manifest, ordered by name.
    pub async fn list_collections(&self) -> Result<Vec<CollectionManifest>> {
        let base = self.collections_prefix();
        let mut out = Vec::new();
        for key in self.kv.list(&base).await? {
            let Some(name) = key.strip_prefix(&base).and_then(|k| k.strip_suffix("/manifest.json")) else {
                continue;
            };
            if name.contains('/') {
                continue;
            }
            match self.load_manifest(name).await {
                Ok(m) => out.push(m),
                // Dropped between list and get.
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The current manifest of a collection.
    pub async fn load_manifest(&self, name: &str) -> Result<CollectionManifest> {
        Ok(self.load_manifest_versioned(name).await?.0)
    }

    /// The current manifest and its store version token.
    pub async fn load_manifest_versioned(&self, name: &str) -> Result<(CollectionManifest, VersionToken)> {
        validate::collection_name(name)?;
        let v = self
            .kv
            .get(&self.manifest_key(name))
            .await?
            .ok_or_else(|| Error::NotFound(format!("collection '{name}'")))?;
        Ok((CollectionManifest::from_json(&v.value)?, v.version))
    }

    /// LEGACY, UNSAFE UNDER CONCURRENCY: writes the manifest unconditionally. Two writers that
    /// read the same version both "succeed" and the later one silently erases the earlier
    /// one's change. Kept for compatibility; use [`Storage::persist_manifest_with_check`] or the
    /// operations that retry ([`Storage::write_segment_with_data`], ...).
    pub async fn persist_manifest(&self, manifest: &CollectionManifest) -> Result<()> {
        validate::collection_name(&manifest.collection)?;
        debug!("persisting manifest '{}' (version {}) unconditionally", manifest.collection, manifest.version);
        let start = self.clock.now_ms();
        self.kv.put(&self.manifest_key(&manifest.collection), manifest.to_json(), PutCondition::Any).await?;
        self.metrics.record_persist((self.clock.now_ms() - start) / 1000.0);
        Ok(())
    }

    /// Writes `manifest` only if the stored manifest is at `expected_version` — checked by the
    /// store's own conditional put on the token read with it, never read-compare-write. A
    /// mismatch gives `Conflict("Manifest version mismatch: expected X, found Y. Retry
    /// operation.")`. `manifest.version` must be greater than `expected_version`.
    pub async fn persist_manifest_with_check(
        &self,
        manifest: &CollectionManifest,
        expected_version: u64,
    ) -> Result<()> {
        let name = &manifest.collection;
        if manifest.version <= expected_version {
            return Err(Error::invalid(format!(
                "new manifest version {} must be greater than the expected version {expected_version}",
                manifest.version
            )));
        }
        let start = self.clock.now_ms();
        let (stored, token) = self.load_manifest_versioned(name).await?;
        if stored.version != expected_version {
            self.metrics.record_conflict_failure();
            return Err(mismatch(expected_version, stored.version));
        }
        let mut next = manifest.clone();
        next.stamp_commit(self.clock.unix_ms());
        next.version = manifest.version;
        debug!("persisting manifest '{name}' (version {})", next.version);
        match self.kv.put(&self.manifest_key(name), next.to_json(), PutCondition::IfVersion(token)).await {
            Ok(_) => {
                self.metrics.record_persist((self.clock.now_ms() - start) / 1000.0);
                Ok(())
            }
            Err(KvError::PreconditionFailed) => {
                self.metrics.record_conflict_failure();
                let found = self.load_manifest(name).await.map(|m| m.version).unwrap_or(0);
                Err(mismatch(expected_version, found))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The one commit loop. `mutate` gets a copy of the current manifest and changes it,
    /// returning `Ok(false)` when there is nothing to do (already applied). The change is
    /// committed with a conditional put on the version token it was read at; on conflict the
    /// loop backs off, re-reads and re-applies `mutate` to the fresh manifest. `preloaded`
    /// saves the first read when the caller already has the manifest.
    pub async fn update_manifest<F>(
        &self,
        name: &str,
        preloaded: Option<(CollectionManifest, VersionToken)>,
        mutate: F,
    ) -> Result<CommitOutcome>
    where
        F: FnMut(&mut CollectionManifest) -> Result<bool>,
    {
        self.update_manifest_with(name, preloaded, mutate, || std::future::ready(())).await
    }

    /// [`Storage::update_manifest`] with a hook that runs after each lost race (a clean
    /// precondition failure, never an ambiguous put), after the backoff and before the manifest
    /// is re-read: the place where group commit adds the writes that queued up meanwhile, so a
    /// retrying commit carries them instead of leaving them for another contended commit.
    pub async fn update_manifest_with<F, H, Fut>(
        &self,
        name: &str,
        preloaded: Option<(CollectionManifest, VersionToken)>,
        mut mutate: F,
        mut before_retry: H,
    ) -> Result<CommitOutcome>
    where
        F: FnMut(&mut CollectionManifest) -> Result<bool>,
        H: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let start = self.clock.now_ms();
        let key = self.manifest_key(name);
        let max = self.policy.max_retries;
        let mut retries = 0u32;
        let (mut base, mut token) = match preloaded {
            Some(p) => p,
            None => self.load_manifest_versioned(name).await?,
        };
        loop {
            let mut next = base.clone();
            if !mutate(&mut next)? {
                return Ok(CommitOutcome { manifest: base, token, retries, committed: false });
            }
            let commit_id = next.stamp_commit(self.clock.unix_ms());
            debug!("persisting manifest '{name}' (version {})", next.version);
            let outcome = self.kv.put(&key, next.to_json(), PutCondition::IfVersion(token.clone())).await;
            let transient = match outcome {
                Ok(new_token) => {
                    self.metrics.record_persist((self.clock.now_ms() - start) / 1000.0);
                    return Ok(CommitOutcome { manifest: next, token: new_token, retries, committed: true });
                }
                Err(KvError::PreconditionFailed) => None,
                Err(KvError::Transient { message, ambiguous }) => Some((message, ambiguous)),
                Err(e) => return Err(e.into()),
            };

            // Lost the race, or do not know. Give up, or back off and re-read.
            let elapsed_out = self
                .policy
                .max_elapsed
                .is_some_and(|limit| self.clock.now_ms() - start >= limit.as_secs_f64() * 1000.0);
            if retries >= max || elapsed_out {
                let (fresh, fresh_token) = self.load_manifest_versioned(name).await?;
                if fresh.contains_commit(&commit_id) {
                    self.metrics.record_persist((self.clock.now_ms() - start) / 1000.0);
                    return Ok(CommitOutcome { manifest: fresh, token: fresh_token, retries, committed: true });
                }
                return Err(match transient {
                    Some((message, _)) => Error::Storage(format!("{message} (after {retries} retries)")),
                    None => {
                        self.metrics.record_conflict_failure();
                        let spent = self.clock.now_ms() - start;
                        let limit = match self.policy.max_elapsed {
                            Some(d) => format!("{} ms", d.as_millis()),
                            None => "none".to_string(),
                        };
                        Error::Conflict(format!(
                            "{} Gave up after {retries} retries in {spent:.0} ms (limits: {max} retries, time limit {limit}).",
                            mismatch(base.version, fresh.version)
                        ))
                    }
                });
            }
            retries += 1;
            let delay = self.policy.delay(retries, self.clock.random_unit());
            self.clock.sleep(delay).await;
            if transient.is_none() {
                before_retry().await;
            }
            let (fresh, fresh_token) = self.load_manifest_versioned(name).await?;
            match &transient {
                // The put may have landed: if our commit is in the history, we are done.
                Some((_, true)) if fresh.contains_commit(&commit_id) => {
                    self.metrics.record_persist((self.clock.now_ms() - start) / 1000.0);
                    return Ok(CommitOutcome { manifest: fresh, token: fresh_token, retries, committed: true });
                }
                Some((message, _)) => {
                    warn!("transient storage error committing '{name}': {message}; retrying (attempt {retries}/{max})")
                }
                None => {
                    self.metrics.record_conflict_retry();
                    warn!(
                        "manifest conflict detected (expected {}, found {}), retrying (attempt {retries}/{max})",
                        base.version, fresh.version
                    );
                }
            }
            base = fresh;
            token = fresh_token;
        }
    }

    /// Validates `records`, writes them as one new segment object (create-only), then lists the
    /// segment in the manifest with the retrying commit loop. All records or none.
    pub async fn write_segment_with_data(&self, name: &str, records: &[Record]) -> Result<CommitReceipt> {
        self.write_segment_batches(name, &[records]).await
    }

    /// Like [`Storage::write_segment_with_data`] for several independently validated batches
    /// (one per caller under group commit) written as ONE segment in ONE commit: all batches or
    /// none. An id may repeat across batches; the later batch wins.
    pub async fn write_segment_batches(&self, name: &str, batches: &[&[Record]]) -> Result<CommitReceipt> {
        let schema = self.load_manifest(name).await?;
        self.write_segment_batches_as(name, &schema, batches).await
    }

    /// The write path with the collection's schema already known (`schema` is any manifest
    /// version of the collection: its dimension, distance and identity are what matter). In
    /// protocol order: validate, write the segment object, THEN read the manifest and commit —
    /// so the compare-and-swap window does not include the segment upload, and an uncontended
    /// write costs three store requests (segment PUT, manifest GET, manifest PUT).
    pub async fn write_segment_batches_as(
        &self,
        name: &str,
        schema: &CollectionManifest,
        batches: &[&[Record]],
    ) -> Result<CommitReceipt> {
        if batches.is_empty() {
            return Err(Error::invalid("batch is empty: upsert needs at least one record"));
        }
        for b in batches {
            validate::batch(b, schema.dimension)?;
        }
        let desc = self.write_segment_object(name, schema, batches).await?;
        let out = self
            .update_manifest(name, None, |m| {
                ensure_same_collection(schema, m)?;
                Ok(m.add_segment(desc.clone()))
            })
            .await?;
        Ok(CommitReceipt::from_outcome(Some(desc.id), out))
    }

    /// Create-only put of a segment object, retrying transient failures. An ambiguous first
    /// attempt followed by "already exists" means our own write landed (ids are fresh UUIDs).
    async fn put_segment_object(&self, name: &str, id: &Uuid, bytes: Vec<u8>) -> Result<()> {
        let key = self.segment_key(name, id);
        let mut attempt = 0u32;
        let mut maybe_landed = false;
        loop {
            match self.kv.put(&key, bytes.clone(), PutCondition::IfAbsent).await {
                Ok(_) => return Ok(()),
                Err(KvError::PreconditionFailed) if maybe_landed => return Ok(()),
                Err(KvError::PreconditionFailed) => {
                    return Err(Error::Storage(format!("segment object {key} already exists")));
                }
                Err(KvError::Transient { message, ambiguous }) if attempt < self.policy.max_retries => {
                    maybe_landed |= ambiguous;
                    attempt += 1;
                    warn!("transient error writing segment {id}: {message}; retrying (attempt {attempt})");
                    self.clock.sleep(self.policy.delay(attempt, self.clock.random_unit())).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Seals a segment (Active → Sealed) atomically; sealing a sealed segment is a no-op.
    pub async fn seal_segment(&self, name: &str, segment_id: &Uuid) -> Result<CommitReceipt> {
        let out = self.update_manifest(name, None, |m| m.seal(segment_id)).await?;
        Ok(CommitReceipt::from_outcome(Some(*segment_id), out))
    }

    /// Deletes records by id in one commit (tombstones); ids that do not exist are fine.
    pub async fn delete_records(&self, name: &str, ids: &[String]) -> Result<CommitReceipt> {
        let ids = validate::delete_ids(ids)?;
        let out = self.update_manifest(name, None, |m| Ok(m.add_tombstones(&ids))).await?;
        Ok(CommitReceipt::from_outcome(None, out))
    }

    /// Reads and verifies one segment object against its descriptor.
    pub async fn load_segment(&self, name: &str, desc: &SegmentDescriptor) -> Result<Segment> {
        let key = self.segment_key(name, &desc.id);
        let v = self
            .kv
            .get(&key)
            .await?
            .ok_or_else(|| Error::corrupt(format!("segment object {key} listed in the manifest is missing")))?;
        if v.value.len() as u64 != desc.size_bytes || segment::checksum_hex(&v.value) != desc.checksum {
            return Err(Error::corrupt(format!("segment object {key} does not match its manifest checksum")));
        }
        let seg = segment::decode(&v.value)?;
        if seg.len() as u64 != desc.record_count || seg.dimension != desc.dimension {
            return Err(Error::corrupt(format!("segment object {key} does not match its descriptor")));
        }
        Ok(seg)
    }
}

impl Storage {
    /// Deletes segment objects of `name` that the current manifest does not list and that were
    /// written more than `grace` ago (orphans of failed or crashed commits). The grace period
    /// must exceed the longest a writer can spend between writing a segment and committing it
    /// (the retry budget), so GC never removes a segment that is about to be listed.
    pub async fn collect_garbage(&self, name: &str, grace: std::time::Duration) -> Result<GcReport> {
        let manifest = self.load_manifest(name).await?;
        let listed: std::collections::HashSet<String> =
            manifest.segments.iter().map(|d| self.segment_key(name, &d.id)).collect();
        let now = self.clock.unix_ms();
        let mut report = GcReport::default();
        let seg_prefix = format!("{}collections/{name}/segments/", self.prefix);
        for key in self.kv.list(&seg_prefix).await? {
            if listed.contains(&key) {
                continue;
            }
            let Some(obj) = self.kv.get(&key).await? else { continue };
            // Undecodable objects carry no trustworthy age: judge them by the grace period too,
            // using the header when it is readable.
            let created = segment::decode(&obj.value).map(|s| s.created_at_ms).unwrap_or(0);
            if now.saturating_sub(created) as u128 >= grace.as_millis() {
                self.kv.delete(&key).await?;
                report.deleted.push(key);
            } else {
                report.kept_young += 1;
            }
        }
        Ok(report)
    }
}

impl Storage {
    /// Encodes validated `batches` as one segment (normalised for cosine) and writes it
    /// create-only under a fresh id; returns its descriptor, not yet listed anywhere.
    pub(crate) async fn write_segment_object(
        &self,
        name: &str,
        schema: &CollectionManifest,
        batches: &[&[Record]],
    ) -> Result<SegmentDescriptor> {
        let mut seg = Segment::from_batches(batches, schema.dimension, self.clock.unix_ms());
        if schema.distance == Distance::Cosine {
            normalize_rows(&mut seg)?;
        }
        let bytes = segment::encode(&seg);
        let desc = SegmentDescriptor {
            id: Uuid::new_v4(),
            state: SegmentState::Active,
            record_count: seg.len() as u64,
            dimension: schema.dimension,
            size_bytes: bytes.len() as u64,
            checksum: segment::checksum_hex(&bytes),
            seq: 0,
        };
        self.put_segment_object(name, &desc.id, bytes).await?;
        Ok(desc)
    }
}

/// A write validated against `schema` may only be committed to the same collection: not to one
/// that was dropped and re-created under the name (other identity, dimension or distance).
pub(crate) fn ensure_same_collection(schema: &CollectionManifest, current: &CollectionManifest) -> Result<()> {
    if (current.created_at_ms, current.dimension, current.distance)
        != (schema.created_at_ms, schema.dimension, schema.distance)
    {
        return Err(Error::Conflict(format!(
            "collection '{}' was dropped and re-created during the write",
            schema.collection
        )));
    }
    Ok(())
}

fn normalize_rows(seg: &mut Segment) -> Result<()> {
    let d = seg.dimension as usize;
    for (i, row) in seg.vectors.chunks_exact_mut(d).enumerate() {
        if !kernels::normalize(row) {
            return Err(Error::invalid(format!(
                "record {i} (id {:?}): zero vector cannot be used with cosine distance",
                seg.ids[i]
            )));
        }
    }
    Ok(())
}
