//! The one commit loop: every change to a manifest is a mutator applied to the current version
//! and published with a conditional put on the token it was read at; on a lost race it backs
//! off, re-reads and re-applies. Each logical operation carries one [`Operation`] across all its
//! attempts, so it is applied at most once however its attempts fail (docs/PROTOCOL.md,
//! "Exactly-once").

use std::cell::Cell;

use futures::future::LocalBoxFuture;
use log::{debug, warn};

use super::ops::OperationToken;
use super::Storage;
use crate::error::{Error, Result};
use crate::kv::{KvError, PutCondition, VersionToken};
use crate::limits::MAX_MANIFEST_BYTES;
use crate::manifest::{CollectionManifest, OpId};

/// One logical operation: its id (recorded in the manifest history by the commit that applies
/// it) and what its attempts so far leave open.
#[derive(Debug, Default)]
pub struct Operation {
    id: OpId,
    incarnation: Cell<Option<u64>>,
    /// Lowest and highest base version of attempts whose put may have landed.
    ambiguous: Cell<Option<(u64, u64)>>,
    /// Base version of the attempt whose put is on its way right now.
    in_flight: Cell<Option<u64>>,
}

impl Operation {
    /// A new operation with a fresh id.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new operation that may only apply to incarnation `incarnation` of its collection
    /// (a handle's writes must not land in a re-created collection of the same name).
    pub fn bound_to(incarnation: u64) -> Self {
        let op = Self::default();
        op.incarnation.set(Some(incarnation));
        op
    }

    /// Its id.
    pub fn id(&self) -> OpId {
        self.id
    }

    /// True once an attempt may have landed without us knowing.
    pub fn maybe_landed(&self) -> bool {
        self.ambiguous.get().is_some() || self.in_flight.get().is_some()
    }

    /// The token to ask [`Storage::operation_status`] with: the id plus the versions its
    /// uncertain attempts were based on.
    pub fn token(&self) -> OperationToken {
        let mut range = self.ambiguous.get();
        if let Some(v) = self.in_flight.get() {
            range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
        }
        OperationToken { op: self.id, incarnation: self.incarnation.get(), range }
    }

    /// An `OUTCOME_UNKNOWN` error for this operation.
    pub fn unknown(&self, message: impl Into<String>) -> Error {
        Error::OutcomeUnknown { operation: self.token().to_string(), message: message.into() }
    }

    fn note_ambiguous(&self, base: u64) {
        let r = self.ambiguous.get().map_or((base, base), |(lo, hi)| (lo.min(base), hi.max(base)));
        self.ambiguous.set(Some(r));
    }

    /// Whether `m` proves that no uncertain attempt landed or can still land: the history
    /// reaches back to the first version such an attempt could have produced, and the
    /// manifest has moved past every version such an attempt was conditioned on.
    fn proven_absent_in(&self, m: &CollectionManifest) -> bool {
        match self.ambiguous.get() {
            None => true,
            Some((lo, hi)) => {
                m.op_version(&self.id).is_none() && m.history.covers(lo.saturating_add(1)) && m.version > hi
            }
        }
    }
}

/// Result of a commit.
#[derive(Debug, Clone)]
pub struct CommitOutcome {
    /// The manifest as committed, or as found when the operation had already been applied or
    /// there was nothing to do.
    pub manifest: CollectionManifest,
    /// Its store version token.
    pub token: VersionToken,
    /// The version the operation's commit created (the found version when nothing changed).
    pub version: u64,
    /// Retries spent.
    pub retries: u32,
    /// Whether the operation is in the manifest (false: the mutator had nothing to do).
    pub committed: bool,
}

/// Refuses a commit that would grow the manifest past [`MAX_MANIFEST_BYTES`]; commits that do
/// not add segments or tombstones (compaction, GC, drops, seals) always pass.
fn check_manifest_size(base: &CollectionManifest, next: &CollectionManifest, len: usize) -> Result<()> {
    let grows = next.segments.len() > base.segments.len() || next.tombstones.len() > base.tombstones.len();
    if grows && len > MAX_MANIFEST_BYTES {
        return Err(Error::invalid(format!(
            "collection '{}': this commit would make the manifest {len} bytes, over the {MAX_MANIFEST_BYTES}-byte limit \
             ({} segments, {} tombstones); compact the collection",
            next.collection,
            next.segments.len(),
            next.tombstones.len()
        )));
    }
    Ok(())
}

fn mismatch(expected: u64, found: u64) -> String {
    format!("Manifest version mismatch: expected {expected}, found {found}. Retry operation.")
}

enum Failure {
    Conflict,
    Transient(String),
}

impl Storage {
    /// The manifest and its token as stored, dropped tombstones included; `None` when absent.
    pub(crate) async fn load_raw(&self, name: &str) -> Result<Option<(CollectionManifest, VersionToken)>> {
        match self.kv().get(&self.manifest_key(name)).await? {
            None => Ok(None),
            Some(v) => Ok(Some((CollectionManifest::from_json(&v.value)?, v.version))),
        }
    }

    /// Commits a change as a new operation: `mutate` gets a copy of the current manifest and
    /// changes it, returning `Ok(false)` when there is nothing to do. See
    /// [`Storage::update_manifest_op`].
    pub async fn update_manifest<F>(
        &self,
        name: &str,
        preloaded: Option<(CollectionManifest, VersionToken)>,
        mutate: F,
    ) -> Result<CommitOutcome>
    where
        F: FnMut(&mut CollectionManifest) -> Result<bool>,
    {
        let op = Operation::new();
        self.update_manifest_op(name, &op, preloaded, mutate, || std::future::ready(())).await
    }

    /// [`Storage::update_manifest_op`] with nothing preloaded and no hook between attempts: what
    /// every operation but group commit needs.
    pub async fn commit_op<F>(&self, name: &str, op: &Operation, mutate: F) -> Result<CommitOutcome>
    where
        F: FnMut(&mut CollectionManifest) -> Result<bool>,
    {
        self.update_manifest_op(name, op, None, mutate, || std::future::ready(())).await
    }

    /// The one commit loop, for operation `op`. On every read, first: if `op` is already in
    /// the manifest history, it committed (at the recorded version) and nothing is applied
    /// again. A put that may have landed is never retried blindly: the loop resolves it on the
    /// next read, and reports `OUTCOME_UNKNOWN` when it cannot. `before_retry` runs after a
    /// clean lost race (never once an attempt was ambiguous), after the backoff and before the
    /// re-read: where group commit adds the writes that queued up meanwhile.
    pub async fn update_manifest_op<F, H, Fut>(
        &self,
        name: &str,
        op: &Operation,
        preloaded: Option<(CollectionManifest, VersionToken)>,
        mut mutate: F,
        mut before_retry: H,
    ) -> Result<CommitOutcome>
    where
        F: FnMut(&mut CollectionManifest) -> Result<bool>,
        H: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        // One copy of the loop for every caller (a generic loop was inlined into each call
        // site's state machine: tens of KB of wasm).
        let mut hook = || -> LocalBoxFuture<'_, ()> { Box::pin(before_retry()) };
        self.commit_loop(name, op, preloaded, &mut mutate, &mut hook).await
    }

    async fn commit_loop<'h>(
        &self,
        name: &str,
        op: &Operation,
        preloaded: Option<(CollectionManifest, VersionToken)>,
        mutate: &mut dyn FnMut(&mut CollectionManifest) -> Result<bool>,
        before_retry: &mut (dyn FnMut() -> LocalBoxFuture<'h, ()> + 'h),
    ) -> Result<CommitOutcome> {
        let start = self.clock().now_ms();
        let key = self.manifest_key(name);
        let max = self.retry_policy().max_retries;
        let mut retries = 0u32;
        let mut current = preloaded;
        let mut last_version = None;
        loop {
            let read = match current.take() {
                Some(p) => Ok(Some(p)),
                None => self.load_raw(name).await,
            };
            let failure = match read {
                Ok(None) => return Err(Error::NotFound(format!("collection '{name}'"))),
                Err(e) if !op.maybe_landed() => return Err(e),
                // Cannot tell yet whether an earlier attempt landed: read again after a backoff.
                Err(e) => Failure::Transient(format!("re-reading the manifest failed: {e}")),
                Ok(Some((base, token))) => {
                    if let Some(version) = base.op_version(&op.id) {
                        self.metrics().record_persist((self.clock().now_ms() - start) / 1000.0);
                        self.published(name, base.version);
                        return Ok(CommitOutcome { manifest: base, token, version, retries, committed: true });
                    }
                    match op.incarnation.get() {
                        None => op.incarnation.set(Some(base.incarnation)),
                        Some(i) if i != base.incarnation => {
                            return Err(Error::NotFound(format!(
                                "collection '{name}' was dropped and re-created during the operation"
                            )))
                        }
                        Some(_) => {}
                    }
                    if let Some((lo, _)) = op.ambiguous.get() {
                        if !base.history.covers(lo.saturating_add(1)) {
                            return Err(op.unknown(format!(
                                "an attempt based on version {lo} may have landed, and {} commits since then are \
                                 more than the manifest history remembers",
                                base.version.saturating_sub(lo)
                            )));
                        }
                    }
                    base.check_writable()?;
                    last_version = Some(base.version);
                    let mut next = base.clone();
                    if !mutate(&mut next)? {
                        let version = base.version;
                        return Ok(CommitOutcome { manifest: base, token, version, retries, committed: false });
                    }
                    next.stamp_commit(op.id, self.clock().unix_ms())?;
                    let body = next.to_json();
                    check_manifest_size(&base, &next, body.len())?;
                    debug!("persisting manifest '{name}' (version {})", next.version);
                    op.in_flight.set(Some(base.version));
                    let put = self.kv().put(&key, body, PutCondition::IfVersion(token)).await;
                    op.in_flight.set(None);
                    match put {
                        Ok(new_token) => {
                            self.metrics().record_persist((self.clock().now_ms() - start) / 1000.0);
                            let version = next.version;
                            self.published(name, version);
                            return Ok(CommitOutcome {
                                manifest: next,
                                token: new_token,
                                version,
                                retries,
                                committed: true,
                            });
                        }
                        Err(KvError::PreconditionFailed) => Failure::Conflict,
                        Err(KvError::Transient { message, ambiguous }) => {
                            if ambiguous {
                                op.note_ambiguous(base.version);
                            }
                            Failure::Transient(message)
                        }
                        Err(e) if op.maybe_landed() => return Err(op.unknown(e.to_string())),
                        Err(e) => return Err(e.into()),
                    }
                }
            };

            let elapsed_out = self
                .retry_policy()
                .max_elapsed
                .is_some_and(|limit| self.clock().now_ms() - start >= limit.as_secs_f64() * 1000.0);
            if retries >= max || elapsed_out {
                return self.give_up(name, op, failure, retries, start, last_version).await;
            }
            retries += 1;
            let delay = self.retry_policy().delay(retries, self.clock().random_unit());
            self.clock().sleep(delay).await;
            match &failure {
                Failure::Conflict => {
                    self.metrics().record_conflict_retry();
                    warn!(
                        "manifest conflict detected (expected {}), retrying (attempt {retries}/{max})",
                        last_version.unwrap_or(0)
                    );
                    if !op.maybe_landed() {
                        before_retry().await;
                    }
                }
                Failure::Transient(message) => {
                    warn!("transient storage error committing '{name}': {message}; retrying (attempt {retries}/{max})")
                }
            }
        }
    }

    /// Out of retries: one last read decides between "committed after all", a definite
    /// failure, and `OUTCOME_UNKNOWN`.
    async fn give_up(
        &self,
        name: &str,
        op: &Operation,
        failure: Failure,
        retries: u32,
        start: f64,
        last_version: Option<u64>,
    ) -> Result<CommitOutcome> {
        let fresh = self.load_raw(name).await;
        if let Ok(Some((m, token))) = &fresh {
            if let Some(version) = m.op_version(&op.id) {
                self.metrics().record_persist((self.clock().now_ms() - start) / 1000.0);
                self.published(name, m.version);
                let (manifest, token) = (m.clone(), token.clone());
                return Ok(CommitOutcome { manifest, token, version, retries, committed: true });
            }
        }
        let proven_absent = match &fresh {
            Ok(Some((m, _))) => op.proven_absent_in(m),
            Ok(None) => true,
            Err(_) => !op.maybe_landed(),
        };
        if !proven_absent {
            return Err(
                op.unknown(format!("gave up after {retries} retries without learning whether an attempt landed"))
            );
        }
        Err(match failure {
            Failure::Transient(message) => Error::Storage(format!("{message} (after {retries} retries)")),
            Failure::Conflict => {
                self.metrics().record_conflict_failure();
                let found = match &fresh {
                    Ok(Some((m, _))) => m.version,
                    _ => last_version.unwrap_or(0),
                };
                let spent = self.clock().now_ms() - start;
                let limit = match self.retry_policy().max_elapsed {
                    Some(d) => format!("{} ms", d.as_millis()),
                    None => "none".to_string(),
                };
                Error::Conflict(format!(
                    "{} Gave up after {retries} retries in {spent:.0} ms (limits: {} retries, time limit {limit}).",
                    mismatch(last_version.unwrap_or(0), found),
                    self.retry_policy().max_retries
                ))
            }
        })
    }
}
