//! Group commit: concurrent upserts inside one instance (one tab, worker isolate or process)
//! are coalesced into one segment and one manifest commit.
//!
//! There is no timer. The first caller becomes the *leader* and commits at once with whatever
//! is queued (just its own records when it is alone, so a lone writer waits for nothing). Callers
//! arriving while a commit is in flight queue up; when the leader's commit finishes, every caller
//! in it gets the commit's outcome, and leadership passes to the oldest waiting caller, which
//! commits everything queued meanwhile (bounded by records and bytes). Each caller is
//! acknowledged only once the commit holding its records is durable, and gets that commit's
//! error if it fails. One caller's records are never split across commits.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use futures::channel::oneshot;

use crate::error::{Error, Result};
use crate::manifest::CollectionManifest;
use crate::record::Record;
use crate::runtime;
use crate::storage::{CommitReceipt, Storage};

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
    config: GroupCommitConfig,
}

fn approx_bytes(records: &[Record]) -> usize {
    records
        .iter()
        .map(|r| r.id.len() + r.vector.len() * 4 + r.metadata.as_ref().map_or(0, |m| m.to_string().len()) + 16)
        .sum()
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

    /// Takes the next group from the front of the queue: at least one caller, then more while
    /// within the limits.
    fn take_group(&self) -> Vec<Pending> {
        let mut q = self.queue.borrow_mut();
        let mut group: Vec<Pending> = Vec::new();
        let (mut records, mut bytes) = (0usize, 0usize);
        while let Some(p) = q.front() {
            let fits = records + p.records.len() <= self.config.max_records && bytes + p.bytes <= self.config.max_bytes;
            if !group.is_empty() && !fits {
                break;
            }
            records += p.records.len();
            bytes += p.bytes;
            group.push(q.pop_front().expect("front exists"));
        }
        group
    }

    /// Commits `records` (already validated by the caller) to collection `name`, coalesced
    /// with concurrent callers. Resolves once the commit holding them is durable.
    pub async fn submit(
        &self,
        storage: &Storage,
        schema: &CollectionManifest,
        records: Vec<Record>,
    ) -> Result<CommitReceipt> {
        let name = schema.collection.as_str();
        if !self.config.enabled {
            // No coalescing and no queue: concurrent callers commit independently (and contend
            // through the manifest CAS), none waits for another.
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
            let group = self.take_group();
            if group.is_empty() {
                // Our request was taken by a previous leader that was dropped mid-commit.
                guard.armed = false;
                self.hand_off();
                return Err(Error::Storage("group commit was abandoned; the outcome is unknown, retry".into()));
            }
            let batches: Vec<&[Record]> = group.iter().map(|p| p.records.as_slice()).collect();
            let outcome = storage.write_segment_batches_as(name, schema, &batches).await;
            for p in &group {
                *p.slot.result.borrow_mut() = Some(outcome.clone());
                if !Rc::ptr_eq(&p.slot, &slot) {
                    p.slot.wake();
                }
            }
            if let Some(r) = slot.result.borrow_mut().take() {
                guard.armed = false;
                self.hand_off();
                return r;
            }
        }
    }
}
