//! The JS class `AkiDB`.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::collection::JsCollection;
use super::convert::{string, to_js};
use super::errors::{to_js as err, JsResult};
use super::live::Announcer;
use super::options::{self, OpenOptions};
use super::reports::{gc_report, operation_status};
use super::{storage_manager, stores};
use akidb_core::database::Database;
use akidb_core::storage::Storage;

/// A database handle: `await AkiDB.open({ store: 'memory' })`.
#[wasm_bindgen]
pub struct AkiDB {
    db: Rc<Database>,
    /// Collection handles compact automatically after writes (`autoCompact`, default true).
    auto_compact: bool,
    /// Announces this database's commits to subscriptions everywhere on the origin.
    announcer: Rc<Announcer>,
}

#[wasm_bindgen]
impl AkiDB {
    /// Opens a database. Options: `store` ('memory' | 'indexeddb' | 's3' | 'r2' | 'custom'; 's3'
    /// takes `endpoint`, `bucket`, credentials; 'r2' takes `bucket`: an R2 bucket binding;
    /// 'custom' takes `kv`: a `{ get, put, delete, list }` object), `name` (shared named memory
    /// store; for 'indexeddb' required: the IndexedDB database `akidb:{name}`),
    /// `prefix`, `retry` ({ maxRetries, initialBackoffMs, maxBackoffMs, multiplier, jitter,
    /// maxElapsedMs }), `simulatedLatencyMs` (memory only: random delay per store operation),
    /// `logLevel` ('error' | 'warn' | 'info' | 'debug'), `groupCommit` (default true: concurrent
    /// upserts on one collection handle share commits; `false`, or `{ maxRecords, maxBytes }`),
    /// `autoCompact` (default true: after a write that leaves the collection needing compaction,
    /// a handle compacts it in the background when the runtime is idle, then runs one GC pass at
    /// most every 30 s), `partitionCacheBytes` (default 32 MiB: index partitions kept from
    /// cold ANN queries, which read only the partitions they probe), `snapshotBudgetBytes`
    /// (largest collection a handle keeps in memory from its first search on; default 1 GiB,
    /// 0 for 's3' and 'r2': over it, ANN searches read by range), `durability` (IndexedDB:
    /// 'strict' (default), 'relaxed' or 'default'), `persist` (true: ask for persistent storage
    /// as `db.persist()` does, without waiting for the answer).
    pub async fn open(options: JsValue) -> JsResult<AkiDB> {
        crate::runtime::install();
        let opts = OpenOptions::parse(&options)?;
        init_logging(opts.log_level);
        let store = stores::open(&opts).await?;
        let announcer = Rc::new(Announcer::new(store.channel));
        let hook = {
            let a = announcer.clone();
            Rc::new(move |name: &str, version: u64| a.announce(name, version))
        };
        let storage =
            Storage::new(store.kv).with_prefix(store.prefix).with_retry_policy(opts.retry).with_publish_hook(hook);
        let mut db = Database::new(storage)
            .with_group_commit(opts.group_commit)
            .with_snapshot_budget(opts.snapshot_budget_bytes)
            .with_merge_budget(opts.merge_budget_bytes);
        if let Some(bytes) = opts.partition_cache_bytes {
            db = db.with_partition_cache_bytes(bytes);
        }
        if opts.persist {
            // Not awaited: Firefox asks the user, and the answer may never come.
            wasm_bindgen_futures::spawn_local(async {
                if !storage_manager::persist().await.unwrap_or(false) {
                    log::info!("persistent storage was requested (options.persist) but not granted");
                }
            });
        }
        Ok(AkiDB { db: Rc::new(db), auto_compact: opts.auto_compact, announcer })
    }

    /// Asks the browser to make this origin's storage persistent (`navigator.storage.persist()`:
    /// not evicted under storage pressure) → true when it is; false when refused, and in
    /// runtimes without a storage manager (Node, workerd). Firefox asks the user: the promise
    /// settles when they answer (call it from a user gesture; do not block on it).
    pub async fn persist(&self) -> JsResult<bool> {
        storage_manager::persist().await
    }

    /// `{ usage, quota, persisted }` of the origin's storage in bytes
    /// (`navigator.storage.estimate()` and `persisted()`), or null in runtimes without a
    /// storage manager (Node, workerd).
    #[wasm_bindgen(js_name = storageEstimate)]
    pub async fn storage_estimate(&self) -> JsResult<JsValue> {
        storage_manager::estimate().await
    }

    /// Creates a collection: `createCollection(name, { dimension, distance = 'cosine' },
    /// { ifNotExists })`. With `ifNotExists: true` an existing collection with the same spec is
    /// returned instead of ALREADY_EXISTS (safe for concurrent callers); a different spec is
    /// still ALREADY_EXISTS, naming the difference.
    #[wasm_bindgen(js_name = createCollection)]
    pub async fn create_collection(&self, name: JsValue, options: JsValue, flags: JsValue) -> JsResult<JsValue> {
        let name = string(&name, "name")?;
        let (dim, distance) = options::create(&options)?;
        let info = if options::create_flags(&flags)? {
            self.db.ensure_collection(&name, dim, distance).await
        } else {
            self.db.create_collection(&name, dim, distance).await
        };
        to_js(&info.map_err(err)?)
    }

    /// `[{ name, dimension, distance, totalVectors, version }]`
    #[wasm_bindgen(js_name = listCollections)]
    pub async fn list_collections(&self) -> JsResult<JsValue> {
        to_js(&self.db.list_collections().await.map_err(err)?)
    }

    /// Drops a collection and its data.
    #[wasm_bindgen(js_name = dropCollection)]
    pub async fn drop_collection(&self, name: JsValue) -> JsResult<()> {
        let name = string(&name, "name")?;
        self.db.drop_collection(&name).await.map_err(err)
    }

    /// One garbage-collection pass over a collection: raises its GC generation with one commit,
    /// then deletes unlisted segment objects no commit can list any more and every object of a
    /// dropped incarnation → `{ generation, deleted: string[], keptRecent, keptUnknown }`.
    #[wasm_bindgen(js_name = collectGarbage)]
    pub async fn collect_garbage(&self, name: JsValue) -> JsResult<JsValue> {
        let name = string(&name, "name")?;
        gc_report(&self.db.collect_garbage(&name).await.map_err(err)?)
    }

    /// Settles an `OUTCOME_UNKNOWN` error of collection `name` without a collection handle
    /// (also for a create, or when the collection cannot be opened): `operationStatus(name,
    /// error.operationId)` → `{ status: 'committed', version }`, `{ status: 'not_committed' }`
    /// or `{ status: 'unknown' }`. A token that is not an operation id is INVALID_ARGUMENT.
    #[wasm_bindgen(js_name = operationStatus)]
    pub async fn operation_status(&self, name: JsValue, operation_id: JsValue) -> JsResult<JsValue> {
        let name = string(&name, "name")?;
        let token = string(&operation_id, "operationId")?;
        operation_status(self.db.storage().operation_status(&name, &token).await.map_err(err)?)
    }

    /// A handle on an existing collection.
    pub async fn collection(&self, name: JsValue) -> JsResult<JsCollection> {
        let name = string(&name, "name")?;
        let c = self.db.collection(&name).await.map_err(err)?;
        Ok(JsCollection::new(c, self.db.clone(), self.auto_compact, self.announcer.name().to_string()))
    }

    /// `{ manifestConflictRetriesTotal, manifestConflictFailuresTotal, manifestCommitsTotal,
    /// manifestPersistDurationSeconds: { count, sum, buckets } }`
    pub fn metrics(&self) -> JsResult<JsValue> {
        to_js(&self.db.metrics())
    }

    /// Metrics in Prometheus text format.
    #[wasm_bindgen(js_name = metricsText)]
    pub fn metrics_text(&self) -> String {
        self.db.metrics_text()
    }

    /// Closes the store connection (IndexedDB) and stops announcing commits; later calls on
    /// this handle fail with STORAGE.
    /// A memory store lives on while named, and its handles keep working.
    pub async fn close(&self) -> JsResult<()> {
        self.announcer.close();
        self.db.storage().kv().close();
        Ok(())
    }
}

impl AkiDB {
    /// The engine database (for the class's other `impl` blocks, e.g. `verify.rs`).
    pub(super) fn database(&self) -> &Database {
        &self.db
    }
}

fn init_logging(level: log::Level) {
    // Only the first call installs the console logger; later calls just adjust the level.
    let _ = console_log::init_with_level(level);
    log::set_max_level(level.to_level_filter());
}
