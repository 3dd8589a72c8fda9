//! The options of `AkiDB.open` (and `runConformance`), parsed once into [`OpenOptions`]: the
//! store and its settings, the retry policy, group commit, compaction and cache settings. A key
//! that belongs to another store is named as such (`options.endpoint is for store 's3'`).

use std::time::Duration;

use wasm_bindgen::{JsCast, JsValue};

use super::super::errors::{invalid, to_js, JsResult};
use super::reader::Opts;
use crate::stores::indexeddb::Durability;
use akidb_core::group_commit::GroupCommitConfig;
use akidb_core::kv::S3Config;
use akidb_core::limits;
use akidb_core::retry::{Jitter, RetryPolicy};

/// Keys of `AkiDB.open` every store takes.
pub const OPEN_KEYS: &[&str] = &[
    "store",
    "prefix",
    "retry",
    "groupCommit",
    "autoCompact",
    "partitionCacheBytes",
    "snapshotBudgetBytes",
    "persist",
    "logLevel",
];
/// Keys of `{ store: 'memory' }`.
pub const MEMORY_KEYS: &[&str] = &["name", "simulatedLatencyMs"];
/// Keys of `{ store: 'indexeddb' }`.
pub const INDEXEDDB_KEYS: &[&str] = &["name", "durability"];
/// Keys of `{ store: 's3' }`.
pub const S3_KEYS: &[&str] = &[
    "endpoint",
    "region",
    "bucket",
    "accessKeyId",
    "secretAccessKey",
    "sessionToken",
    "forcePathStyle",
    "requestTimeoutMs",
];
/// Keys of `{ store: 'r2' }`.
pub const R2_KEYS: &[&str] = &["bucket"];
/// Keys of `{ store: 'custom' }`.
pub const CUSTOM_KEYS: &[&str] = &["kv"];
/// Keys of `options.retry`.
pub const RETRY_KEYS: &[&str] =
    &["maxRetries", "initialBackoffMs", "maxBackoffMs", "multiplier", "jitter", "maxElapsedMs"];
/// Keys of `options.groupCommit`.
pub const GROUP_COMMIT_KEYS: &[&str] = &["maxRecords", "maxBytes", "pollIntervalMs", "leaderLeaseMs"];

/// Each store and the keys only it takes (the JS entries turn `'fs'` into `'custom'` and
/// remove `wasm`; their keys are listed so the error can name them).
const STORES: &[(&str, &[&str])] = &[
    ("memory", MEMORY_KEYS),
    ("indexeddb", INDEXEDDB_KEYS),
    ("s3", S3_KEYS),
    ("r2", R2_KEYS),
    ("custom", CUSTOM_KEYS),
    ("fs", &["path"]),
];

/// The store `AkiDB.open` opens, with its own settings.
pub enum StoreOptions {
    /// `'memory'`: shared by name when named; a random delay per operation when simulated.
    Memory { name: Option<String>, latency: Option<Duration> },
    /// `'indexeddb'`: the IndexedDB database `akidb:{name}`.
    IndexedDb { name: String, durability: Durability },
    /// `'s3'`: an S3-compatible endpoint over fetch.
    S3(Box<S3Config>),
    /// `'r2'`: an R2 bucket binding.
    R2 { bucket: JsValue },
    /// `'custom'`: a `{ get, put, delete, list }` object.
    Custom { kv: JsValue },
}

/// Every option of `AkiDB.open`, checked and typed.
pub struct OpenOptions {
    /// The store.
    pub store: StoreOptions,
    /// Prefix of every key (default empty).
    pub prefix: String,
    /// Commit retry policy.
    pub retry: RetryPolicy,
    /// Group commit of concurrent upserts.
    pub group_commit: GroupCommitConfig,
    /// Compact automatically after writes (default true).
    pub auto_compact: bool,
    /// Bytes of index partitions kept from cold ANN queries (default: the engine's).
    pub partition_cache_bytes: Option<usize>,
    /// Largest collection a handle keeps in memory from its first search on (default: 0 for
    /// S3 and R2, the engine's budget for the stores in the runtime's own memory or disk).
    pub snapshot_budget_bytes: u64,
    /// Default merge budget of compactions (24 MiB for S3 and R2, 256 MiB elsewhere).
    pub merge_budget_bytes: u64,
    /// Ask for persistent storage.
    pub persist: bool,
    /// Console log level (default warn).
    pub log_level: log::Level,
}

impl OpenOptions {
    /// Parses the options of `AkiDB.open`.
    pub fn parse(options: &JsValue) -> JsResult<OpenOptions> {
        Ok(Self::parse_with(options, &[])?.0)
    }

    /// Parses the options of `AkiDB.open` plus `extra` keys of the caller, which it reads
    /// from the returned reader (`runConformance`'s `manyKeys`...).
    pub fn parse_with(options: &JsValue, extra: &[&str]) -> JsResult<(OpenOptions, Opts)> {
        // The store decides which keys are known: read it before the keys are checked.
        let kind = match super::super::convert::prop(options, "store") {
            v if super::super::convert::is_absent(&v) => "memory".to_string(),
            v => v.as_string().ok_or_else(|| invalid("options.store must be a string"))?,
        };
        let Some((_, store_keys)) = STORES.iter().find(|(k, _)| *k == kind) else {
            return Err(invalid(format!(
                "options.store must be 'memory', 'indexeddb', 's3', 'r2', 'custom' or (Node) 'fs', got '{kind}'"
            )));
        };
        let o =
            Opts::new(options, "options", &[OPEN_KEYS, store_keys, extra]).map_err(|e| misplaced(options, &kind, e))?;
        let store = match kind.as_str() {
            "memory" => {
                StoreOptions::Memory { name: o.string("name")?, latency: o.millis("simulatedLatencyMs", false)? }
            }
            "indexeddb" => indexeddb(&o)?,
            "s3" => StoreOptions::S3(Box::new(s3(&o)?)),
            "r2" => StoreOptions::R2 { bucket: o.raw("bucket") },
            "custom" => StoreOptions::Custom { kv: o.raw("kv") },
            _ => return Err(invalid("store 'fs' is only available in Node (import akidb from the Node entry)")),
        };
        let log_level = match o.choice("logLevel", &["error", "warn", "info", "debug"])?.as_deref() {
            Some("error") => log::Level::Error,
            Some("info") => log::Level::Info,
            Some("debug") => log::Level::Debug,
            _ => log::Level::Warn,
        };
        // A Workers isolate has 128 MB: edge stores search cold unless asked, and merge little.
        let edge = matches!(store, StoreOptions::S3(_) | StoreOptions::R2 { .. });
        let snapshot_budget_bytes = match o.whole("snapshotBudgetBytes", 0.0, 9_007_199_254_740_991.0)? {
            Some(n) => n as u64,
            None if edge => 0,
            None => limits::SNAPSHOT_BUDGET_BYTES,
        };
        let merge_budget_bytes = if edge { limits::DEFAULT_MAX_INPUT_BYTES } else { limits::LOCAL_MAX_INPUT_BYTES };
        let opts = OpenOptions {
            store,
            prefix: o.string("prefix")?.unwrap_or_default(),
            retry: retry(&o)?,
            group_commit: group_commit(&o)?,
            auto_compact: o.flag("autoCompact")?.unwrap_or(true),
            partition_cache_bytes: o.whole("partitionCacheBytes", 1.0, 4_294_967_296.0)?.map(|n| n as usize),
            snapshot_budget_bytes,
            merge_budget_bytes,
            persist: o.flag("persist")?.unwrap_or(false),
            log_level,
        };
        Ok((opts, o))
    }
}

/// Rewrites an unknown-key error for a key another store takes: "is for store 's3'".
fn misplaced(options: &JsValue, kind: &str, original: JsValue) -> JsValue {
    let keys = js_sys::Object::keys(options.unchecked_ref::<js_sys::Object>());
    for k in keys.iter() {
        let key = k.as_string().unwrap_or_default();
        let known_here =
            OPEN_KEYS.contains(&key.as_str()) || STORES.iter().any(|(s, ks)| *s == kind && ks.contains(&key.as_str()));
        if known_here {
            continue;
        }
        let owners: Vec<String> =
            STORES.iter().filter(|(_, ks)| ks.contains(&key.as_str())).map(|(s, _)| format!("'{s}'")).collect();
        if !owners.is_empty() {
            return invalid(format!("options.{key} is for store {} (this is store '{kind}')", owners.join(" or ")));
        }
    }
    original
}

fn indexeddb(o: &Opts) -> JsResult<StoreOptions> {
    let Some(name) = o.string("name")? else {
        return Err(invalid("options.name is required for store 'indexeddb' (it names the IndexedDB database)"));
    };
    if name.is_empty() {
        return Err(invalid("options.name must not be empty"));
    }
    let durability = match o.choice("durability", &["strict", "relaxed", "default"])? {
        None => Durability::default(),
        Some(d) => Durability::parse(&d)
            .ok_or_else(|| invalid("options.durability must be 'strict', 'relaxed' or 'default'"))?,
    };
    Ok(StoreOptions::IndexedDb { name, durability })
}

/// `{ endpoint, region, bucket, accessKeyId, secretAccessKey, sessionToken, forcePathStyle,
/// requestTimeoutMs }` -> [`S3Config`]. Sends nothing: wrong credentials surface as AUTH on
/// the first operation.
fn s3(o: &Opts) -> JsResult<S3Config> {
    let required = |key: &str| -> JsResult<String> {
        o.string(key)?.ok_or_else(|| invalid(format!("options.{key} is required for store 's3'")))
    };
    let mut c = S3Config::new(
        required("endpoint")?,
        required("bucket")?,
        required("accessKeyId")?,
        required("secretAccessKey")?,
    );
    if let Some(region) = o.string("region")? {
        c.region = region;
    }
    c.session_token = o.string("sessionToken")?;
    c.force_path_style = o.flag("forcePathStyle")?;
    if let Some(d) = o.millis("requestTimeoutMs", true)? {
        c.request_timeout = d;
    }
    c.validate().map_err(to_js)?;
    Ok(c)
}

/// `options.groupCommit`: `false` to disable, or `{ maxRecords, maxBytes, pollIntervalMs,
/// leaderLeaseMs }`.
fn group_commit(o: &Opts) -> JsResult<GroupCommitConfig> {
    let mut cfg = GroupCommitConfig::default();
    if let Some(b) = o.raw("groupCommit").as_bool() {
        cfg.enabled = b;
        return Ok(cfg);
    }
    let g = o.nested("groupCommit", GROUP_COMMIT_KEYS).map_err(|e| {
        if o.raw("groupCommit").is_object() {
            e
        } else {
            invalid("options.groupCommit must be a boolean or { maxRecords, maxBytes, pollIntervalMs, leaderLeaseMs }")
        }
    })?;
    if let Some(n) = g.number("maxRecords")? {
        cfg.max_records = (n as usize).max(1);
    }
    if let Some(n) = g.number("maxBytes")? {
        cfg.max_bytes = (n as usize).max(1);
    }
    if let Some(d) = g.millis("pollIntervalMs", false)? {
        cfg.poll_interval = Some(d.max(Duration::from_micros(100)));
    }
    if let Some(d) = g.millis("leaderLeaseMs", true)? {
        cfg.leader_lease = d;
    }
    Ok(cfg)
}

/// `options.retry`: `{ maxRetries, initialBackoffMs, maxBackoffMs, multiplier, jitter, maxElapsedMs }`.
fn retry(o: &Opts) -> JsResult<RetryPolicy> {
    let r = o.nested("retry", RETRY_KEYS)?;
    let mut p = RetryPolicy::default();
    if let Some(n) = r.number("maxRetries")? {
        p.max_retries = n as u32;
    }
    if let Some(d) = r.millis("initialBackoffMs", false)? {
        p.initial_backoff = d;
    }
    if let Some(d) = r.millis("maxBackoffMs", false)? {
        p.max_backoff = d;
    }
    if let Some(n) = r.number("multiplier")? {
        p.multiplier = n;
    }
    if let Some(d) = r.millis("maxElapsedMs", false)? {
        p.max_elapsed = Some(d);
    }
    p.jitter = match r.choice("jitter", &["none", "full", "equal"])?.as_deref() {
        None => p.jitter,
        Some("none") => Jitter::None,
        Some("full") => Jitter::Full,
        _ => Jitter::Equal,
    };
    p.validate().map_err(to_js)?;
    Ok(p)
}
