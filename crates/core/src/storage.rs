//! The storage layer: collections as a manifest plus immutable segment objects in a [`Kv`].
//! One commit loop publishes every change (conditional put on the store's version token, retry
//! with backoff, exactly-once by operation id); collection lifecycle, segment writes, bulk
//! upserts, garbage collection and operation queries each live in their own file.
//! See docs/PROTOCOL.md.

use std::rc::Rc;
use std::sync::Arc;

use uuid::Uuid;

use crate::kv::{Kv, VersionToken};
use crate::manifest::{CollectionManifest, SegmentDescriptor};
use crate::metrics::Metrics;
use crate::retry::{Clock, RetryPolicy, SystemClock};

mod batch;
mod collections;
mod commit;
pub(crate) mod compact;
mod gc;
mod ops;
pub(crate) mod reindex;
pub(crate) mod segments;
mod verify;

pub use batch::{BatchReceipt, DEFAULT_SEGMENT_SIZE};
pub use commit::{CommitOutcome, Operation};
pub use compact::{plan as compaction_plan, CompactOptions, CompactionReceipt, Plan as CompactionPlan};
pub use gc::GcReport;
pub use ops::{OperationStatus, OperationToken};
pub(crate) use segments::check_reupload;
pub use verify::{Problem, ProblemKind, SegmentCheck, VerifyOptions, VerifyReport};

/// What a committed (or already-applied) change produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitReceipt {
    /// The segment written by the operation, if it wrote one.
    pub segment_id: Option<Uuid>,
    /// The manifest version the operation's commit created (found version when no commit
    /// was needed).
    pub version: u64,
    /// How many times the conditional put was retried.
    pub retries: u32,
    /// False when the change was already present and no commit was needed.
    pub committed: bool,
    /// A manifest (and its store token) that includes the change, so the writer's handle can
    /// read its own write without another round trip.
    pub snapshot: Option<Arc<(CollectionManifest, VersionToken)>>,
}

impl CommitReceipt {
    pub(crate) fn from_outcome(segment_id: Option<Uuid>, out: CommitOutcome) -> Self {
        CommitReceipt {
            segment_id,
            version: out.version,
            retries: out.retries,
            committed: out.committed,
            snapshot: Some(Arc::new((out.manifest, out.token))),
        }
    }
}

/// Collections in a key-value store under one key prefix.
pub struct Storage {
    kv: Arc<dyn Kv>,
    prefix: String,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    on_publish: Option<PublishHook>,
}

/// Called with (collection, version) after each manifest put of this storage succeeded.
pub type PublishHook = Rc<dyn Fn(&str, u64)>;

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
            on_publish: None,
        }
    }

    /// Calls `hook(collection, version)` after every manifest commit this storage makes (and
    /// after finding that an ambiguous one landed): how a database announces its commits to
    /// other handles, tabs and workers. Never called for failed commits.
    pub fn with_publish_hook(mut self, hook: PublishHook) -> Self {
        self.on_publish = Some(hook);
        self
    }

    /// Runs the publish hook, if any.
    pub(crate) fn published(&self, name: &str, version: u64) {
        if let Some(h) = &self.on_publish {
            h(name, version);
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
        format!("{}manifest.json", self.collection_dir(name))
    }

    /// `{prefix}collections/{name}/`: the manifest and every incarnation's objects.
    pub fn collection_dir(&self, name: &str) -> String {
        format!("{}collections/{name}/", self.prefix)
    }

    /// Where incarnation `incarnation` keeps its objects: `…/{name}/{incarnation}/`, or the
    /// collection directory itself for incarnation 0 (collections created before incarnations).
    pub fn incarnation_dir(&self, name: &str, incarnation: u64) -> String {
        match incarnation {
            0 => format!("{}segments/", self.collection_dir(name)),
            i => format!("{}{i}/", self.collection_dir(name)),
        }
    }

    /// The key of a segment object: `…/{name}/{incarnation}/segments/{gen}-{id}.seg`
    /// (`…/{name}/segments/{id}.seg` for objects written before incarnations and generations).
    pub fn segment_key(&self, name: &str, incarnation: u64, desc: &SegmentDescriptor) -> String {
        let dir = match incarnation {
            0 => self.incarnation_dir(name, 0),
            i => format!("{}segments/", self.incarnation_dir(name, i)),
        };
        match desc.gen {
            0 => format!("{dir}{}.seg", desc.id),
            g => format!("{dir}{g}-{}.seg", desc.id),
        }
    }

    fn collections_prefix(&self) -> String {
        format!("{}collections/", self.prefix)
    }
}
