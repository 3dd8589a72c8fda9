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
//! backoff (one more segment, same commit). An instance whose commit had to retry lets that
//! commit's time pass before it commits its next group, so other instances' retries find the
//! manifest free. Uncontended commits never wait.
//!
//! Liveness: leadership is a lease. A leader that shows no progress for `leader_lease` (measured
//! by the waiters, on their own timers) is replaced by a waiting caller; callers its stalled
//! commit was carrying get `OUTCOME_UNKNOWN` with that commit's operation token (it may still
//! land if the leader ever resumes). A caller whose future is dropped leaves the queue; a leader
//! dropped mid-commit settles its callers with `OUTCOME_UNKNOWN` and hands leadership on.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use log::warn;

use crate::error::{Error, Result};
use crate::manifest::{CollectionManifest, SegmentDescriptor};
use crate::record::Record;
use crate::storage::{check_reupload, CommitReceipt, Operation, Storage};

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
    pub poll_interval: Option<Duration>,
    /// A leader that shows no progress (a new group, a retry, a finished commit) for this long
    /// is replaced by a waiting caller. Longer than one commit can legitimately take.
    pub leader_lease: Duration,
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        GroupCommitConfig {
            enabled: true,
            max_records: 20_000,
            max_bytes: 32 << 20,
            poll_interval: None,
            leader_lease: Duration::from_secs(60),
        }
    }
}

/// The flight a caller's records are in: the leadership epoch that took them and the
/// operation of the commit carrying them.
type Flight = (u64, Rc<Operation>);

#[derive(Default)]
struct Slot {
    result: RefCell<Option<Result<CommitReceipt>>>,
    wake: RefCell<Option<oneshot::Sender<()>>>,
    flight: RefCell<Option<Flight>>,
}

impl Slot {
    fn wake(&self) {
        if let Some(tx) = self.wake.borrow_mut().take() {
            let _ = tx.send(());
        }
    }

    fn settle(&self, outcome: Result<CommitReceipt>) {
        *self.result.borrow_mut() = Some(outcome);
        self.wake();
    }
}

struct Pending {
    records: Vec<Record>,
    bytes: usize,
    slot: Rc<Slot>,
}

impl Drop for Pending {
    // Dropped without an outcome: its leader's future was dropped mid-commit (or the handle
    // went away). The commit may have been sent: say so, with its operation.
    fn drop(&mut self) {
        if self.slot.result.borrow().is_some() {
            return;
        }
        let outcome = match self.slot.flight.borrow().as_ref() {
            Some((_, op)) => Err(op.unknown("the commit carrying this write was abandoned")),
            None => Err(Error::Storage("the write was abandoned before it was committed; not committed".into())),
        };
        self.slot.settle(outcome);
    }
}

/// The per-collection coalescing queue.
#[derive(Default)]
pub struct GroupCommitter {
    queue: RefCell<VecDeque<Pending>>,
    /// The epoch of the current leadership; `None` when nobody leads.
    leader: Cell<Option<u64>>,
    epoch: Cell<u64>,
    /// Last sign of progress of the leader (storage clock, ms).
    alive_ms: Cell<f64>,
    /// Clock time (ms) before which the next group does not start (after a contended commit).
    calm_until: Cell<f64>,
    /// The newest GC generation seen (new segments are written at it, so the fence does not
    /// send them back when the handle's snapshot is behind).
    known_gen: Cell<u64>,
    config: GroupCommitConfig,
}

fn approx_bytes(records: &[Record]) -> usize {
    records
        .iter()
        .map(|r| r.id.len() + r.vector.len() * 4 + r.metadata.as_ref().map_or(0, |m| m.to_string().len()) + 16)
        .sum()
}

/// Writes the records of `part` (already validated) as one segment object at generation
/// `gen`, not yet listed.
async fn write_part(
    storage: &Storage,
    schema: &CollectionManifest,
    gen: u64,
    part: &[Pending],
) -> Result<SegmentDescriptor> {
    let batches: Vec<&[Record]> = part.iter().map(|p| p.records.as_slice()).collect();
    storage.write_segment_object(&schema.collection, schema, gen, &batches).await
}

fn settle(part: &[Pending], outcome: &Result<CommitReceipt>) {
    for p in part {
        p.slot.settle(outcome.clone());
    }
}

/// A caller's stake in the queue: on drop (the caller's future went away) its records leave
/// the queue, and leadership it holds passes on.
struct CallerGuard<'a> {
    gc: &'a GroupCommitter,
    slot: Rc<Slot>,
    leading: Option<u64>,
}

impl Drop for CallerGuard<'_> {
    fn drop(&mut self) {
        let removed = {
            let mut q = self.gc.queue.borrow_mut();
            q.iter().position(|p| Rc::ptr_eq(&p.slot, &self.slot)).and_then(|i| q.remove(i))
        };
        drop(removed);
        if let Some(e) = self.leading.take() {
            self.gc.release(e);
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

    fn is_queued(&self, slot: &Rc<Slot>) -> bool {
        self.queue.borrow().iter().any(|p| Rc::ptr_eq(&p.slot, slot))
    }

    fn touch(&self, storage: &Storage) {
        self.alive_ms.set(storage.clock().now_ms());
    }

    fn take_leadership(&self, storage: &Storage) -> u64 {
        let e = self.epoch.get() + 1;
        self.epoch.set(e);
        self.leader.set(Some(e));
        self.touch(storage);
        e
    }

    /// Ends leadership `epoch` (if it still is the current one) and wakes the oldest waiting
    /// caller to take it (polling callers notice by themselves).
    fn release(&self, epoch: u64) {
        if self.leader.get() != Some(epoch) {
            return;
        }
        self.leader.set(None);
        if let Some(front) = self.queue.borrow().front() {
            front.slot.wake();
        }
    }

    fn stalled(&self, storage: &Storage) -> bool {
        self.leader.get().is_some()
            && storage.clock().now_ms() - self.alive_ms.get() >= self.config.leader_lease.as_secs_f64() * 1000.0
    }

    /// Takes callers from the front of the queue while the commit stays within the limits;
    /// `used` is what the commit already holds, and a commit holding nothing always takes at
    /// least one caller (however large). Marks them as carried by `flight`.
    fn take_group(&self, used: &Cell<(usize, usize)>, flight: &Flight) -> Vec<Pending> {
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
            let p = q.pop_front().expect("front exists");
            *p.slot.flight.borrow_mut() = Some(flight.clone());
            group.push(p);
        }
        used.set((records, bytes));
        group
    }

    /// Commits the group at the front of the queue as one segment, plus one more segment per
    /// lost race for the callers that queued up meanwhile, and gives every caller it carried
    /// the outcome.
    async fn commit_next_group(&self, storage: &Storage, schema: &CollectionManifest, epoch: u64) {
        let calm = self.calm_until.get() - storage.clock().now_ms();
        // Below a millisecond is below timer resolution: not worth a sleep.
        if calm >= 1.0 {
            storage.clock().sleep(Duration::from_secs_f64(calm / 1000.0)).await;
        }
        self.touch(storage);
        let flight: Flight = (epoch, Rc::new(Operation::new()));
        let op = flight.1.clone();
        let used = Cell::new((0, 0));
        let group = self.take_group(&used, &flight);
        if group.is_empty() {
            return;
        }
        let started = storage.clock().now_ms();
        let gen = || self.known_gen.get().max(schema.gc_gen);
        let parts: RefCell<Vec<(Vec<Pending>, SegmentDescriptor)>> = RefCell::new(Vec::new());
        match write_part(storage, schema, gen(), &group).await {
            Ok(desc) => parts.borrow_mut().push((group, desc)),
            Err(e) => return settle(&group, &Err(e)),
        }
        let descs = || parts.borrow().iter().map(|(_, d)| d.clone()).collect::<Vec<_>>();
        let mut rounds = 0;
        let outcome = loop {
            let absorb = || async {
                self.touch(storage);
                let more = self.take_group(&used, &flight);
                if more.is_empty() {
                    return;
                }
                match write_part(storage, schema, gen(), &more).await {
                    Ok(desc) => parts.borrow_mut().push((more, desc)),
                    Err(e) => settle(&more, &Err(e)),
                }
            };
            match storage.commit_segments(schema, &op, &descs, absorb).await {
                Ok((out, None)) => {
                    self.known_gen.set(self.known_gen.get().max(out.manifest.gc_gen));
                    break Ok(out);
                }
                Ok((_, Some(gen))) => {
                    self.known_gen.set(self.known_gen.get().max(gen));
                    // GC fenced some of our segments off while we were in flight: write them again.
                    rounds = match check_reupload(rounds, &schema.collection) {
                        Ok(r) => r,
                        Err(e) => break Err(e),
                    };
                    let mut taken = parts.take();
                    let mut failed = None;
                    for (pending, desc) in taken.iter_mut() {
                        if desc.gen.saturating_add(1) < gen {
                            match write_part(storage, schema, gen, pending).await {
                                Ok(d) => *desc = d,
                                Err(e) => failed = Some(e),
                            }
                        }
                    }
                    *parts.borrow_mut() = taken;
                    if let Some(e) = failed {
                        break Err(e);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        self.touch(storage);
        if let Ok(out) = &outcome {
            if out.retries > 0 {
                let now = storage.clock().now_ms();
                let attempt = (now - started).min(storage.retry_policy().max_backoff.as_secs_f64() * 1000.0);
                self.calm_until.set(now + attempt);
            }
        }
        for (pending, desc) in parts.into_inner() {
            let receipt = outcome.clone().map(|out| CommitReceipt::from_outcome(Some(desc.id), out));
            settle(&pending, &receipt);
        }
    }

    /// Waits for news: a wake-up (non-polling mode) or one tick of the caller's own timer, on
    /// the storage's clock (the leader lease is measured on it too).
    async fn wait(&self, storage: &Storage, slot: &Slot) {
        match self.config.poll_interval {
            Some(tick) => storage.clock().sleep(tick).await,
            None => {
                let (tx, rx) = oneshot::channel();
                *slot.wake.borrow_mut() = Some(tx);
                let timeout = storage.clock().sleep(self.config.leader_lease);
                let _ = futures::future::select(rx, timeout).await;
            }
        }
    }

    /// Commits `records` (already validated by the caller) to collection `schema.collection`,
    /// coalesced with concurrent callers. Resolves once the commit holding them is durable.
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
        let slot = Rc::new(Slot::default());
        let bytes = approx_bytes(&records);
        self.queue.borrow_mut().push_back(Pending { records, bytes, slot: slot.clone() });
        let mut me = CallerGuard { gc: self, slot: slot.clone(), leading: None };
        loop {
            if let Some(r) = slot.result.borrow_mut().take() {
                return r;
            }
            let queued = self.is_queued(&slot);
            if let Some(epoch) = me.leading {
                if self.leader.get() != Some(epoch) {
                    // Replaced (we were too slow): carry on as a waiting caller.
                    me.leading = None;
                } else if !queued {
                    // Our records are in another leader's commit: leave leadership to others.
                    me.leading = None;
                    self.release(epoch);
                } else {
                    self.commit_next_group(storage, schema, epoch).await;
                }
                continue;
            }
            match self.leader.get() {
                None if queued => {
                    me.leading = Some(self.take_leadership(storage));
                    continue;
                }
                Some(_) if self.stalled(storage) => {
                    warn!(
                        "group commit leader of '{}' made no progress for {:?}; taking over",
                        schema.collection, self.config.leader_lease
                    );
                    let epoch = self.take_leadership(storage);
                    if queued {
                        me.leading = Some(epoch);
                        continue;
                    }
                    self.release(epoch);
                }
                _ => {}
            }
            if !queued {
                let flight = slot.flight.borrow().clone();
                if let Some((epoch, op)) = flight {
                    if self.epoch.get() > epoch && self.leader.get() != Some(epoch) {
                        return Err(op.unknown(
                            "the commit carrying this write stalled and its leader was replaced; it may still land",
                        ));
                    }
                }
            }
            self.wait(storage, &slot).await;
        }
    }
}
