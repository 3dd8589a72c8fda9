//! Group commit: concurrent upserts inside one instance (one tab, worker isolate or process)
//! are coalesced into one segment and one manifest commit.
//!
//! There is no timer. The first caller becomes the *leader* and commits at once with whatever
//! is queued (just its own records when it is alone, so a lone writer waits for nothing). Callers
//! arriving while a commit is in flight queue up; when the leader's commit finishes, every caller
//! in it gets the commit's outcome, and leadership passes to the oldest waiting caller, which
//! commits everything queued meanwhile (bounded by records and bytes). Each caller is
//! acknowledged only once the commit holding its records is durable, and gets that commit's
//! error if it fails. One caller's records are never split across commits (nor segments).
//!
//! A commit that loses the compare-and-swap race absorbs the callers that queued up during its
//! backoff: they are written as one more segment and listed by the same retried commit, instead
//! of waiting for it and then contending again with a commit of their own. And an instance whose
//! commit had to retry (other instances are committing too) lets one attempt's worth of time
//! pass before it commits its next group: the others' retries then find the manifest free
//! instead of the same instance winning again, and the next group grows meanwhile. Uncontended
//! commits never wait.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use futures::channel::oneshot;

use crate::error::{Error, Result};
use crate::manifest::{CollectionManifest, SegmentDescriptor};
use crate::record::Record;
use crate::runtime;
use crate::storage::{ensure_same_collection, CommitReceipt, Storage};

/// Limits of one coalesced commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCommitConfig {
    /// Coalesce at all (false: every upsert call commits on its own, concurrently).
    pub enabled: bool,
    /// Most records in one group (a single larger upsert still commits alone).
    pub max_records: usize,
    /// Most approximate bytes (vectors + ids + metadata) in one group.
    pub max_bytes: usize,
    /// `None`: a waiting caller is woken by the leader. `Some(tick)`: waiting callers never
    /// depend on another caller to wake them; each checks its own outcome (and whether it must
    /// take over as leader) every `tick`, on its own timer. Workers runtimes need this: there a
    /// request must not wait on I/O or wake-ups that belong to another request.
    pub poll_interval: Option<std::time::Duration>,
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        GroupCommitConfig { enabled: true, max_records: 20_000, max_bytes: 32 << 20, poll_interval: None }
    }
}

struct Slot {
    result: RefCell<Option<Result<CommitReceipt>>>,
    wake: RefCell<Option<oneshot::Sender<()>>>,
}

impl Slot {
    fn wake(&self) {
        if let Some(tx) = self.wake.borrow_mut().take() {
            let _ = tx.send(());
        }
    }
}

struct Pending {
    records: Vec<Record>,
    bytes: usize,
    slot: Rc<Slot>,
}

impl Drop for Pending {
    // A request dropped without an outcome (its leader vanished) must not leave its caller
    // waiting forever: wake it; finding no result, it leads and retries.
    fn drop(&mut self) {
        self.slot.wake();
    }
}

/// The per-collection coalescing queue.
#[derive(Default)]
pub struct GroupCommitter {
    queue: RefCell<VecDeque<Pending>>,
    leading: Cell<bool>,
    /// Clock time (ms) before which the next group does not start (after a contended commit).
    calm_until: Cell<f64>,
    config: GroupCommitConfig,
}

fn approx_bytes(records: &[Record]) -> usize {
    records
        .iter()
        .map(|r| r.id.len() + r.vector.len() * 4 + r.metadata.as_ref().map_or(0, |m| m.to_string().len()) + 16)
        .sum()
}

/// The longest pause after a contended commit: the retry policy's longest backoff.
fn max_calm_ms(storage: &Storage) -> f64 {
    storage.retry_policy().max_backoff.as_secs_f64() * 1000.0
}

/// Writes the records of `part` (already validated) as one segment object, not yet listed.
async fn write_part(storage: &Storage, schema: &CollectionManifest, part: &[Pending]) -> Result<SegmentDescriptor> {
    let batches: Vec<&[Record]> = part.iter().map(|p| p.records.as_slice()).collect();
    storage.write_segment_object(&schema.collection, schema, &batches).await
}

/// Gives every caller in `part` the outcome and wakes it (the leader's own slot is read, not
/// woken: waking it is harmless).
fn settle(part: &[Pending], outcome: &Result<CommitReceipt>) {
    for p in part {
        *p.slot.result.borrow_mut() = Some(outcome.clone());
        p.slot.wake();
    }
}

/// Hands leadership on if the leader's future is dropped mid-way, so waiters never hang.
struct LeaderGuard<'a> {
    gc: &'a GroupCommitter,
    armed: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.gc.hand_off();
        }
    }
}

impl GroupCommitter {
    /// A committer with `config`.
    pub fn new(config: GroupCommitConfig) -> Self {
        GroupCommitter { config, ..Default::default() }
    }

    /// The limits in force.
    pub fn config(&self) -> &GroupCommitConfig {
        &self.config
    }

    fn hand_off(&self) {
        let front = self.queue.borrow().front().map(|p| p.slot.clone());
        match front {
            // Polling callers take over by themselves on their next tick.
            Some(next) if self.config.poll_interval.is_none() => next.wake(),
            _ => self.leading.set(false),
        }
    }

    /// Takes callers from the front of the queue while the commit stays within the limits;
    /// `used` is what the commit already holds, and a commit holding nothing always takes at
    /// least one caller (however large).
    fn take_group(&self, used: &Cell<(usize, usize)>) -> Vec<Pending> {
        let mut q = self.queue.borrow_mut();
        let mut group: Vec<Pending> = Vec::new();
        let (mut records, mut bytes) = used.get();
        while let Some(p) = q.front() {
            let fits = records + p.records.len() <= self.config.max_records && bytes + p.bytes <= self.config.max_bytes;
            if !fits && (records > 0 || !group.is_empty()) {
                break;
            }
            records += p.records.len();
            bytes += p.bytes;
            group.push(q.pop_front().expect("front exists"));
        }
        used.set((records, bytes));
        group
    }

    /// Commits `group` as one segment, plus one more segment per retry for the callers that
    /// queued up meanwhile, and gives every caller it carried the outcome.
    async fn commit_group(
        &self,
        storage: &Storage,
        schema: &CollectionManifest,
        group: Vec<Pending>,
        used: Cell<(usize, usize)>,
    ) {
        let name = schema.collection.as_str();
        let started = storage.clock().now_ms();
        let parts: RefCell<Vec<(Vec<Pending>, SegmentDescriptor)>> = RefCell::new(Vec::new());
        match write_part(storage, schema, &group).await {
            Ok(desc) => parts.borrow_mut().push((group, desc)),
            Err(e) => return settle(&group, &Err(e)),
        }
        let outcome = storage
            .update_manifest_with(
                name,
                None,
                |m| {
                    ensure_same_collection(schema, m)?;
                    let mut changed = false;
                    for (_, desc) in parts.borrow().iter() {
                        changed |= m.add_segment(desc.clone());
                    }
                    Ok(changed)
                },
                || async {
                    let more = self.take_group(&used);
                    if more.is_empty() {
                        return;
                    }
                    match write_part(storage, schema, &more).await {
                        Ok(desc) => parts.borrow_mut().push((more, desc)),
                        Err(e) => settle(&more, &Err(e)),
                    }
                },
            )
            .await
            .map(|out| CommitReceipt::from_outcome(None, out));
        if let Ok(r) = &outcome {
            if r.retries > 0 {
                let now = storage.clock().now_ms();
                let attempt = (now - started).min(max_calm_ms(storage));
                self.calm_until.set(now + attempt);
            }
        }
        for (pending, desc) in parts.into_inner() {
            let receipt = outcome.clone().map(|mut r| {
                r.segment_id = Some(desc.id);
                r
            });
            settle(&pending, &receipt);
        }
    }

    /// Commits `records` (already validated by the caller) to collection `name`, coalesced
    /// with concurrent callers. Resolves once the commit holding them is durable.
    pub async fn submit(
        &self,
        storage: &Storage,
        schema: &CollectionManifest,
        records: Vec<Record>,
    ) -> Result<CommitReceipt> {
        if !self.config.enabled {
            // No coalescing and no queue: concurrent callers commit independently (and contend
            // through the manifest CAS), none waits for another.
            let name = schema.collection.as_str();
            return storage.write_segment_batches_as(name, schema, &[records.as_slice()]).await;
        }
        let (tx, rx) = oneshot::channel();
        let slot = Rc::new(Slot { result: RefCell::new(None), wake: RefCell::new(Some(tx)) });
        let bytes = approx_bytes(&records);
        self.queue.borrow_mut().push_back(Pending { records, bytes, slot: slot.clone() });
        if self.leading.get() {
            match self.config.poll_interval {
                None => {
                    // Woken either with our result (a leader committed us) or to lead.
                    let _ = rx.await;
                    if let Some(r) = slot.result.borrow_mut().take() {
                        return r;
                    }
                }
                Some(tick) => loop {
                    runtime::sleep(tick).await;
                    if let Some(r) = slot.result.borrow_mut().take() {
                        return r;
                    }
                    if !self.leading.get() {
                        self.leading.set(true);
                        break;
                    }
                },
            }
        } else {
            self.leading.set(true);
        }
        let mut guard = LeaderGuard { gc: self, armed: true };
        loop {
            let calm = self.calm_until.get() - storage.clock().now_ms();
            // Below a millisecond is below timer resolution: not worth a sleep.
            if calm >= 1.0 {
                storage.clock().sleep(std::time::Duration::from_secs_f64(calm / 1000.0)).await;
            }
            let used = Cell::new((0, 0));
            let group = self.take_group(&used);
            if group.is_empty() {
                // Our request was taken by a previous leader that was dropped mid-commit.
                guard.armed = false;
                self.hand_off();
                return Err(Error::Storage("group commit was abandoned; the outcome is unknown, retry".into()));
            }
            self.commit_group(storage, schema, group, used).await;
            if let Some(r) = slot.result.borrow_mut().take() {
                guard.armed = false;
                self.hand_off();
                return r;
            }
        }
    }
}
