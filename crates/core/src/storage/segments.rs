//! Segment objects: writing them (create-only, under the incarnation's prefix and tagged with
//! the GC generation the writer read), listing them through the commit loop under the GC fence,
//! and reading them back. Also the small record-level operations (seal, delete).

use std::cell::Cell;

use log::warn;
use uuid::Uuid;

use super::commit::{CommitOutcome, Operation};
use super::{CommitReceipt, Storage};
use crate::error::{Error, Result};
use crate::kernels;
use crate::kv::{KvError, PutCondition};
use crate::manifest::{CollectionManifest, Distance, SegmentDescriptor, SegmentState};
use crate::record::Record;
use crate::segment::{self, Segment};
use crate::validate;

/// How often one commit re-uploads segments that GC fenced off while it was in flight before
/// giving up (each round needs two GC passes to happen meanwhile).
const MAX_REUPLOADS: u32 = 5;

impl Storage {
    /// Validates `records`, writes them as one new segment object (create-only), then lists the
    /// segment in the manifest with the retrying commit loop. All records or none.
    pub async fn write_segment_with_data(&self, name: &str, records: &[Record]) -> Result<CommitReceipt> {
        self.write_segment_batches(name, &[records]).await
    }

    /// Like [`Storage::write_segment_with_data`] for several independently validated batches
    /// written as ONE segment in ONE commit: all batches or none. An id may repeat across
    /// batches; the later batch wins.
    pub async fn write_segment_batches(&self, name: &str, batches: &[&[Record]]) -> Result<CommitReceipt> {
        let schema = self.load_manifest(name).await?;
        self.write_segment_batches_as(name, &schema, batches).await
    }

    /// The write path with the collection's schema already known (`schema` is any manifest
    /// version of the collection: its dimension, distance, incarnation and GC generation are
    /// what matter). In protocol order: validate, write the segment object, THEN read the
    /// manifest and commit, so an uncontended write costs three store requests.
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
            validate::batch_for(b, schema.dimension, schema.distance)?;
        }
        let op = Operation::new();
        let mut desc = self.write_segment_object(name, schema, schema.gc_gen, batches).await?;
        let mut rounds = 0;
        loop {
            let current = desc.clone();
            let (out, stale) = self.commit_segments(schema, &op, &|| vec![current.clone()], || async {}).await?;
            match stale {
                None => return Ok(CommitReceipt::from_outcome(Some(desc.id), out)),
                Some(gen) => {
                    rounds = check_reupload(rounds, name)?;
                    desc = self.write_segment_object(name, schema, gen, batches).await?;
                }
            }
        }
    }

    /// Encodes validated `batches` as one segment (normalised for cosine) and writes it
    /// create-only under a fresh id at GC generation `gen`; returns its descriptor, not yet
    /// listed anywhere.
    pub(crate) async fn write_segment_object(
        &self,
        name: &str,
        schema: &CollectionManifest,
        gen: u64,
        batches: &[&[Record]],
    ) -> Result<SegmentDescriptor> {
        let mut seg = Segment::from_batches(batches, schema.dimension, self.clock().unix_ms());
        if schema.distance == Distance::Cosine {
            normalize_rows(&mut seg)?;
        }
        debug_assert_eq!(name, schema.collection);
        self.write_segment(schema, gen, &seg, SegmentState::Active).await
    }

    /// Encodes `seg` (already normalised) and writes it create-only under a fresh id at GC
    /// generation `gen` in `schema`'s incarnation; returns its descriptor, not yet listed.
    pub(crate) async fn write_segment(
        &self,
        schema: &CollectionManifest,
        gen: u64,
        seg: &Segment,
        state: SegmentState,
    ) -> Result<SegmentDescriptor> {
        let bytes = segment::encode(seg);
        let desc = SegmentDescriptor {
            id: crate::runtime::new_uuid(),
            state,
            record_count: seg.len() as u64,
            dimension: schema.dimension,
            size_bytes: bytes.len() as u64,
            checksum: segment::checksum_hex(&bytes),
            seq: 0,
            gen,
        };
        self.put_segment_object(&self.segment_key(&schema.collection, schema.incarnation, &desc), bytes).await?;
        Ok(desc)
    }

    /// Create-only put of a segment object, retrying transient failures. An ambiguous first
    /// attempt followed by "already exists" means our own write landed (ids are fresh UUIDs).
    async fn put_segment_object(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let mut attempt = 0u32;
        let mut maybe_landed = false;
        loop {
            match self.kv().put_staged(key, bytes.clone(), PutCondition::IfAbsent).await {
                Ok(_) => return Ok(()),
                Err(KvError::PreconditionFailed) if maybe_landed => return Ok(()),
                Err(KvError::PreconditionFailed) => {
                    return Err(Error::Storage(format!("segment object {key} already exists")));
                }
                Err(KvError::Transient { message, ambiguous }) if attempt < self.retry_policy().max_retries => {
                    maybe_landed |= ambiguous;
                    attempt += 1;
                    warn!("transient error writing segment {key}: {message}; retrying (attempt {attempt})");
                    self.clock().sleep(self.retry_policy().delay(attempt, self.clock().random_unit())).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Seals a segment (Active → Sealed) atomically; sealing a sealed segment is a no-op.
    pub async fn seal_segment(&self, name: &str, segment_id: &Uuid) -> Result<CommitReceipt> {
        self.seal_segment_as(name, &Operation::new(), segment_id).await
    }

    /// [`Storage::seal_segment`] as operation `op` (e.g. bound to an incarnation).
    pub async fn seal_segment_as(&self, name: &str, op: &Operation, segment_id: &Uuid) -> Result<CommitReceipt> {
        let out = self.commit_op(name, op, |m| m.seal(segment_id)).await?;
        Ok(CommitReceipt::from_outcome(Some(*segment_id), out))
    }

    /// Deletes records by id in one commit (tombstones); ids that do not exist are fine. Applied
    /// exactly once: a re-applied delete would hide upserts of the same ids committed meanwhile.
    pub async fn delete_records(&self, name: &str, ids: &[String]) -> Result<CommitReceipt> {
        self.delete_records_as(name, &Operation::new(), ids).await
    }

    /// [`Storage::delete_records`] as operation `op` (e.g. bound to an incarnation).
    pub async fn delete_records_as(&self, name: &str, op: &Operation, ids: &[String]) -> Result<CommitReceipt> {
        let ids = validate::delete_ids(ids)?;
        let out = self.commit_op(name, op, |m| m.add_tombstones(&ids)).await?;
        Ok(CommitReceipt::from_outcome(None, out))
    }

    /// Reads and verifies one segment object listed in `manifest`.
    pub async fn load_segment(&self, manifest: &CollectionManifest, desc: &SegmentDescriptor) -> Result<Segment> {
        let key = self.segment_key(&manifest.collection, manifest.incarnation, desc);
        let v = self.kv().get(&key).await?.ok_or_else(|| Error::SegmentMissing { key: key.to_string() })?;
        if v.value.len() as u64 != desc.size_bytes || segment::checksum_hex(&v.value) != desc.checksum {
            return Err(Error::corrupt(format!("segment object {key} does not match its manifest checksum")));
        }
        let seg = segment::decode(&v.value)?;
        if seg.len() as u64 != desc.record_count || seg.dimension != desc.dimension {
            return Err(Error::corrupt(format!("segment object {key} does not match its descriptor")));
        }
        Ok(seg)
    }

    /// Commits `op` listing `descs` (see [`list_segments`]); the caller re-uploads when the
    /// returned generation is `Some`.
    pub(crate) async fn commit_segments<H, Fut>(
        &self,
        schema: &CollectionManifest,
        op: &Operation,
        descs: &dyn Fn() -> Vec<SegmentDescriptor>,
        before_retry: H,
    ) -> Result<(CommitOutcome, Option<u64>)>
    where
        H: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let stale = Cell::new(None);
        let out = self
            .update_manifest_op(
                &schema.collection,
                op,
                None,
                |m| list_segments(schema, m, &descs(), &stale),
                before_retry,
            )
            .await?;
        Ok((out, stale.get()))
    }
}

/// Counts one re-upload round; an error once there were too many.
pub(crate) fn check_reupload(rounds: u32, name: &str) -> Result<u32> {
    if rounds >= MAX_REUPLOADS {
        return Err(Error::Conflict(format!(
            "garbage collection of '{name}' fenced this write's segments {MAX_REUPLOADS} times; retry operation"
        )));
    }
    Ok(rounds + 1)
}

/// The mutator that lists segments: only into the same collection incarnation, and only while
/// the GC fence accepts their generation. If it does not, nothing is changed and `stale` gets
/// the current generation: the caller re-uploads them under it (it still has the records).
pub(crate) fn list_segments(
    schema: &CollectionManifest,
    m: &mut CollectionManifest,
    descs: &[SegmentDescriptor],
    stale: &Cell<Option<u64>>,
) -> Result<bool> {
    ensure_same_collection(schema, m)?;
    if descs.iter().any(|d| !m.accepts_generation(d.gen) && m.segment(&d.id).is_none()) {
        stale.set(Some(m.gc_gen));
        return Ok(false);
    }
    let mut changed = false;
    for d in descs {
        changed |= m.add_segment(d.clone())?;
    }
    Ok(changed)
}

/// A write validated against `schema` may only be committed to the same incarnation of the
/// collection, not to one that was dropped and re-created under the name.
pub(crate) fn ensure_same_collection(schema: &CollectionManifest, current: &CollectionManifest) -> Result<()> {
    if (current.incarnation, current.created_at_ms, current.dimension, current.distance)
        != (schema.incarnation, schema.created_at_ms, schema.dimension, schema.distance)
    {
        return Err(Error::NotFound(format!(
            "collection '{}' was dropped and re-created during the write",
            schema.collection
        )));
    }
    Ok(())
}

/// A cosine row whose squared norm is this close to 1 is stored as written: embedding models
/// mostly emit unit vectors, which then read back bit-exact (`get`, `scan`, export), and a
/// stored row written again (import, copy, sync) stays the same bits instead of drifting by an
/// ulp per pass. The score of such a row is off by at most 5e-6 relative.
pub const UNIT_NORM_SQ_TOLERANCE: f64 = 1e-5;

/// Whether `row` is stored as written under cosine (see [`UNIT_NORM_SQ_TOLERANCE`]).
pub fn is_unit(row: &[f32]) -> bool {
    let n2: f64 = row.iter().map(|&x| x as f64 * x as f64).sum();
    (n2 - 1.0).abs() <= UNIT_NORM_SQ_TOLERANCE
}

fn normalize_rows(seg: &mut Segment) -> Result<()> {
    let d = seg.dimension as usize;
    for (i, row) in seg.vectors.chunks_exact_mut(d).enumerate() {
        if is_unit(row) {
            continue;
        }
        if !kernels::normalize(row) {
            return Err(Error::invalid(format!(
                "record {i} (id {:?}): zero vector cannot be used with cosine distance",
                &seg.ids[i]
            )));
        }
    }
    Ok(())
}
