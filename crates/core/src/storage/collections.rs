//! Collection lifecycle: create, drop, list, and the legacy manifest writes. A drop turns the
//! manifest into a tombstone (never deletes it), so incarnation numbers only grow; a re-create
//! starts the next incarnation, whose objects live under their own key prefix. A drop + re-create
//! can therefore never touch the new collection's objects.

use log::{debug, warn};

use super::commit::Operation;
use super::Storage;
use crate::error::{Error, Result};
use crate::kv::{KvError, PutCondition, VersionToken};
use crate::manifest::{CollectionManifest, Distance, OpId, MANIFEST_FORMAT};
use crate::validate;

impl Storage {
    /// Creates an empty collection: a create-only put of its manifest, or, over the tombstone of
    /// a dropped one, a conditional put that starts the next incarnation. An ambiguous put is
    /// resolved by re-reading (the new manifest records the create's operation id).
    pub async fn create_collection(
        &self,
        name: &str,
        dimension: u32,
        distance: Distance,
    ) -> Result<CollectionManifest> {
        validate::collection_name(name)?;
        let dim = validate::dimension(dimension)?;
        let op = OpId::new();
        let mut maybe_landed = false;
        // The token of an uncertain create: "version 0" of the incarnation it would start.
        let token = |incarnation: u64| {
            super::ops::OperationToken { op, incarnation: Some(incarnation), range: Some((0, 0)) }.to_string()
        };
        let mut incarnation_tried = 1;
        let mut attempt = 0u32;
        loop {
            let stored = match self.load_raw(name).await {
                Ok(s) => s,
                Err(e) if maybe_landed => {
                    return Err(Error::OutcomeUnknown {
                        operation: token(incarnation_tried),
                        message: format!("create of '{name}': re-reading the manifest failed: {e}"),
                    })
                }
                Err(e) => return Err(e),
            };
            let (incarnation, condition) = match &stored {
                Some((m, _)) if m.op_version(&op).is_some() => return Ok(m.clone()),
                Some((m, _)) if !m.is_dropped() => return Err(Error::AlreadyExists(format!("collection '{name}'"))),
                Some((m, token)) => {
                    if m.format > MANIFEST_FORMAT {
                        m.check_writable()?;
                    }
                    (m.incarnation + 1, PutCondition::IfVersion(token.clone()))
                }
                None => (1, PutCondition::IfAbsent),
            };
            incarnation_tried = incarnation;
            let fresh = CollectionManifest::new(name, dim, distance, self.clock().unix_ms(), incarnation, op);
            let message = match self.kv().put(&self.manifest_key(name), fresh.to_json(), condition).await {
                Ok(_) => {
                    self.published(name, fresh.version);
                    return Ok(fresh);
                }
                // Someone else created (or dropped) it meanwhile, or our own ambiguous put landed:
                // the next read tells.
                Err(KvError::PreconditionFailed) => "the manifest changed while creating".to_string(),
                Err(KvError::Transient { message, ambiguous }) => {
                    maybe_landed |= ambiguous;
                    message
                }
                Err(e) if maybe_landed => {
                    return Err(Error::OutcomeUnknown { operation: token(incarnation_tried), message: e.to_string() })
                }
                Err(e) => return Err(e.into()),
            };
            attempt += 1;
            if attempt > self.retry_policy().max_retries {
                // One last look: did an ambiguous attempt land?
                if let Ok(Some((m, _))) = self.load_raw(name).await {
                    if m.op_version(&op).is_some() {
                        return Ok(m);
                    }
                }
                return Err(if maybe_landed {
                    Error::OutcomeUnknown {
                        operation: token(incarnation_tried),
                        message: format!("create of '{name}': {message}"),
                    }
                } else {
                    Error::Storage(message)
                });
            }
            warn!("transient error creating '{name}': {message}; retrying (attempt {attempt})");
            self.clock().sleep(self.retry_policy().delay(attempt, self.clock().random_unit())).await;
        }
    }

    /// Drops a collection: one commit turns its manifest into a tombstone (so it disappears
    /// atomically and writers still on it fail), then the dropped incarnation's objects are
    /// deleted. A failed sweep leaves garbage that the next [`Storage::collect_garbage`] removes.
    pub async fn drop_collection(&self, name: &str) -> Result<()> {
        validate::collection_name(name)?;
        let op = Operation::new();
        let now = self.clock().unix_ms();
        let out = self
            .commit_op(name, &op, |m| {
                m.mark_dropped(now);
                Ok(true)
            })
            .await?;
        if let Err(e) = self.sweep_incarnation(name, out.manifest.incarnation).await {
            warn!("collection '{name}' dropped; removing its objects failed ({e}); GC will retry");
        }
        Ok(())
    }

    /// Deletes every object of one incarnation of `name` (which must be dead: dropped or
    /// superseded). Safe to repeat.
    pub(crate) async fn sweep_incarnation(&self, name: &str, incarnation: u64) -> Result<usize> {
        let prefix = self.incarnation_dir(name, incarnation);
        let keys = self.kv().list(&prefix).await?;
        for key in &keys {
            self.kv().delete(key).await?;
        }
        debug!("swept {} objects of '{name}' incarnation {incarnation}", keys.len());
        Ok(keys.len())
    }

    /// Every live collection's current manifest, ordered by name.
    pub async fn list_collections(&self) -> Result<Vec<CollectionManifest>> {
        let base = self.collections_prefix();
        let mut out = Vec::new();
        for key in self.kv().list(&base).await? {
            let Some(name) = key.strip_prefix(&base).and_then(|k| k.strip_suffix("/manifest.json")) else {
                continue;
            };
            if name.contains('/') {
                continue;
            }
            match self.load_raw(name).await? {
                Some((m, _)) if !m.is_dropped() => out.push(m),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The current manifest of a live collection.
    pub async fn load_manifest(&self, name: &str) -> Result<CollectionManifest> {
        Ok(self.load_manifest_versioned(name).await?.0)
    }

    /// The current manifest of a live collection and its store version token.
    pub async fn load_manifest_versioned(&self, name: &str) -> Result<(CollectionManifest, VersionToken)> {
        validate::collection_name(name)?;
        match self.load_raw(name).await? {
            Some((m, token)) if !m.is_dropped() => Ok((m, token)),
            _ => Err(Error::NotFound(format!("collection '{name}'"))),
        }
    }

    /// LEGACY, UNSAFE UNDER CONCURRENCY: writes the manifest unconditionally. Two writers that
    /// read the same version both "succeed" and the later one silently erases the earlier
    /// one's change. Kept for compatibility; use [`Storage::persist_manifest_with_check`] or the
    /// operations that retry ([`Storage::write_segment_with_data`], ...). It still refuses to
    /// overwrite a manifest of a newer format.
    pub async fn persist_manifest(&self, manifest: &CollectionManifest) -> Result<()> {
        validate::collection_name(&manifest.collection)?;
        if let Some((stored, _)) = self.load_raw(&manifest.collection).await? {
            if stored.format > MANIFEST_FORMAT {
                stored.check_writable()?;
            }
        }
        debug!("persisting manifest '{}' (version {}) unconditionally", manifest.collection, manifest.version);
        let start = self.clock().now_ms();
        let mut m = manifest.clone();
        m.format = MANIFEST_FORMAT;
        self.kv().put(&self.manifest_key(&m.collection), m.to_json(), PutCondition::Any).await?;
        self.metrics().record_persist((self.clock().now_ms() - start) / 1000.0);
        self.published(&m.collection, m.version);
        Ok(())
    }

    /// Writes `manifest` only if the stored manifest is the same incarnation of the collection
    /// at `expected_version` — checked by the store's own conditional put on the token read
    /// with it, never read-compare-write. A mismatch gives `Conflict("Manifest version
    /// mismatch: expected X, found Y. Retry operation.")`; a manifest of a dropped (or dropped
    /// and re-created) collection gives CONFLICT too. An ambiguous put is resolved by re-reading;
    /// when that cannot decide, `OUTCOME_UNKNOWN`. `manifest.version` must be greater than
    /// `expected_version`.
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
        let start = self.clock().now_ms();
        let (stored, token) = self.load_manifest_versioned(name).await?;
        stored.check_writable()?;
        if stored.incarnation != manifest.incarnation {
            self.metrics().record_conflict_failure();
            return Err(Error::Conflict(format!(
                "collection '{name}' was dropped and re-created: the manifest is of incarnation {}, the stored one of {}. \
                 Retry operation.",
                manifest.incarnation, stored.incarnation
            )));
        }
        if stored.version != expected_version {
            self.metrics().record_conflict_failure();
            return Err(Error::Conflict(mismatch(expected_version, stored.version)));
        }
        let op = OpId::new();
        let mut next = manifest.clone();
        next.format = MANIFEST_FORMAT;
        next.commit_id = Some(crate::runtime::new_uuid());
        next.history = stored.history.clone();
        next.history.record(op, next.version);
        next.updated_at_ms = self.clock().unix_ms();
        debug!("persisting manifest '{name}' (version {})", next.version);
        match self.kv().put(&self.manifest_key(name), next.to_json(), PutCondition::IfVersion(token)).await {
            Ok(_) => {
                self.metrics().record_persist((self.clock().now_ms() - start) / 1000.0);
                self.published(name, next.version);
                Ok(())
            }
            Err(KvError::PreconditionFailed) => {
                self.metrics().record_conflict_failure();
                let found = self.load_raw(name).await.ok().flatten().map_or(0, |(m, _)| m.version);
                Err(Error::Conflict(mismatch(expected_version, found)))
            }
            Err(KvError::Transient { message, ambiguous: true }) => {
                let unknown = |why: String| Error::OutcomeUnknown {
                    operation: super::ops::OperationToken {
                        op,
                        incarnation: Some(stored.incarnation),
                        range: Some((expected_version, expected_version)),
                    }
                    .to_string(),
                    message: why,
                };
                match self.load_raw(name).await {
                    Ok(Some((m, _))) if m.op_version(&op).is_some() => Ok(()),
                    // Still the version our put was conditioned on: it may yet land.
                    // Still the version our put was conditioned on (it may yet land), or the history
                    // no longer reaches back to the version it would have created.
                    Ok(Some((m, _)))
                        if m.incarnation == stored.incarnation
                            && (m.version == expected_version || !m.history.covers(next.version)) =>
                    {
                        Err(unknown(message))
                    }
                    Ok(_) => Err(Error::Storage(message)),
                    Err(e) => Err(unknown(format!("{message}; re-reading failed: {e}"))),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn mismatch(expected: u64, found: u64) -> String {
    format!("Manifest version mismatch: expected {expected}, found {found}. Retry operation.")
}
