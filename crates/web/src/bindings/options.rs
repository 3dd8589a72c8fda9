//! Parsing of the option objects of `AkiDB.open`, `collection.search`, `collection.upsert` and
//! `collection.compact`.

use std::time::Duration;

use wasm_bindgen::{JsCast, JsValue};

use super::convert::{is_absent, json, prop, string};
use super::errors::{invalid, JsResult};
use akidb_core::group_commit::GroupCommitConfig;
use akidb_core::limits;
use akidb_core::retry::{Jitter, RetryPolicy};
use akidb_core::search::exec::{ScanMode, SearchOptions};
use akidb_core::search::filter::Filter;
use akidb_core::storage::{CompactOptions, DEFAULT_SEGMENT_SIZE};

/// A non-negative number, or `None` when absent.
pub(super) fn number(v: &JsValue, what: &str) -> JsResult<Option<f64>> {
    if is_absent(v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(invalid(format!("{what} must be a non-negative number"))),
    }
}

/// The largest duration in milliseconds (see [`limits::MAX_DURATION_MS`]), as a JS number.
const MAX_DURATION_MS: f64 = limits::MAX_DURATION_MS as f64;

/// A duration option in milliseconds, or `None` when absent: a finite number in
/// `0..=MAX_DURATION_MS` (and above 0 when `positive`).
pub(super) fn millis(v: &JsValue, what: &str, positive: bool) -> JsResult<Option<Duration>> {
    if is_absent(v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && (if positive { n > 0.0 } else { n >= 0.0 }) && n <= MAX_DURATION_MS => {
            Ok(Some(Duration::from_secs_f64(n / 1000.0)))
        }
        _ => {
            let low = if positive { "greater than 0" } else { "at least 0" };
            Err(invalid(format!("{what} must be a number of milliseconds, {low} and at most {MAX_DURATION_MS}")))
        }
    }
}

/// `options.groupCommit`: `false` to disable, or `{ maxRecords, maxBytes, pollIntervalMs,
/// leaderLeaseMs }`.
pub fn group_commit(options: &JsValue) -> JsResult<GroupCommitConfig> {
    let g = prop(options, "groupCommit");
    let mut cfg = GroupCommitConfig::default();
    if is_absent(&g) {
        return Ok(cfg);
    }
    if let Some(b) = g.as_bool() {
        cfg.enabled = b;
        return Ok(cfg);
    }
    if !g.is_object() {
        return Err(invalid(
            "options.groupCommit must be a boolean or { maxRecords, maxBytes, pollIntervalMs, leaderLeaseMs }",
        ));
    }
    if let Some(n) = number(&prop(&g, "maxRecords"), "groupCommit.maxRecords")? {
        cfg.max_records = (n as usize).max(1);
    }
    if let Some(n) = number(&prop(&g, "maxBytes"), "groupCommit.maxBytes")? {
        cfg.max_bytes = (n as usize).max(1);
    }
    if let Some(d) = millis(&prop(&g, "pollIntervalMs"), "groupCommit.pollIntervalMs", false)? {
        cfg.poll_interval = Some(d.max(Duration::from_micros(100)));
    }
    if let Some(d) = millis(&prop(&g, "leaderLeaseMs"), "groupCommit.leaderLeaseMs", true)? {
        cfg.leader_lease = d;
    }
    Ok(cfg)
}

/// `options.retry`: `{ maxRetries, initialBackoffMs, maxBackoffMs, multiplier, jitter, maxElapsedMs }`.
pub fn retry(options: &JsValue) -> JsResult<RetryPolicy> {
    let r = prop(options, "retry");
    let mut p = RetryPolicy::default();
    if is_absent(&r) {
        return Ok(p);
    }
    if let Some(n) = number(&prop(&r, "maxRetries"), "retry.maxRetries")? {
        p.max_retries = n as u32;
    }
    if let Some(d) = millis(&prop(&r, "initialBackoffMs"), "retry.initialBackoffMs", false)? {
        p.initial_backoff = d;
    }
    if let Some(d) = millis(&prop(&r, "maxBackoffMs"), "retry.maxBackoffMs", false)? {
        p.max_backoff = d;
    }
    if let Some(n) = number(&prop(&r, "multiplier"), "retry.multiplier")? {
        p.multiplier = n;
    }
    if let Some(d) = millis(&prop(&r, "maxElapsedMs"), "retry.maxElapsedMs", false)? {
        p.max_elapsed = Some(d);
    }
    let j = prop(&r, "jitter");
    if !is_absent(&j) {
        p.jitter = match string(&j, "retry.jitter")?.as_str() {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            other => return Err(invalid(format!("retry.jitter must be 'none', 'full' or 'equal', got '{other}'"))),
        };
    }
    p.validate().map_err(super::errors::to_js)?;
    Ok(p)
}

/// `{ k = 10, filter, includeMetadata = false, mode = 'exact' | 'flat' | 'ann' | 'int8', probes,
/// prune = true, oversample = 10 }`. Property names come from [`super::keys::with_keys`] (created once).
pub fn search(options: &JsValue) -> JsResult<SearchOptions> {
    if is_absent(options) {
        return Ok(SearchOptions { k: 10, ..SearchOptions::default() });
    }
    super::keys::with_keys(|keys| search_with(options, keys))
}

fn search_with(options: &JsValue, keys: &super::keys::Keys) -> JsResult<SearchOptions> {
    let get = |key: &JsValue| super::keys::get(options, key);
    let k = match get(&keys.k) {
        v if is_absent(&v) => 10,
        v => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 0.0 => n as usize,
            _ => return Err(invalid("options.k must be a whole number")),
        },
    };
    let f = get(&keys.filter);
    let filter = if is_absent(&f) {
        None
    } else {
        Some(Filter::parse(&json(&f, "options.filter")?).map_err(super::errors::to_js)?)
    };
    let include_metadata = get(&keys.include_metadata).as_bool().unwrap_or(false);
    let mode_v = get(&keys.mode);
    let mode = if is_absent(&mode_v) {
        ScanMode::Exact
    } else {
        match string(&mode_v, "options.mode")?.as_str() {
            "exact" => ScanMode::Exact,
            "flat" => ScanMode::Flat,
            "int8" => {
                let oversample = number(&get(&keys.oversample), "options.oversample")?.unwrap_or(10.0).max(1.0);
                ScanMode::Int8 { oversample: oversample as usize }
            }
            "ann" => {
                let probes = match number(&get(&keys.probes), "options.probes")? {
                    None => None,
                    Some(p) if p.fract() == 0.0 && p >= 1.0 => Some(p.min(u32::MAX as f64) as usize),
                    Some(_) => return Err(invalid("options.probes must be a whole number >= 1")),
                };
                let prune_v = get(&keys.prune);
                let prune = match prune_v.as_bool() {
                    Some(b) => b,
                    None if is_absent(&prune_v) => true,
                    None => return Err(invalid("options.prune must be a boolean")),
                };
                ScanMode::Ann { probes, prune }
            }
            other => {
                return Err(invalid(format!("options.mode must be 'exact', 'flat', 'ann' or 'int8', got '{other}'")))
            }
        }
    };
    Ok(SearchOptions { k, filter, include_metadata, mode })
}

/// Options of `collection.upsert(records, options)`.
pub struct UpsertOptions {
    /// Records per segment object.
    pub segment_size: usize,
    /// `onProgress(done, total)`.
    pub on_progress: Option<js_sys::Function>,
}

/// `{ segmentSize = 10000, onProgress }`.
pub fn upsert(options: &JsValue) -> JsResult<UpsertOptions> {
    let segment_size = match prop(options, "segmentSize") {
        v if is_absent(&v) => DEFAULT_SEGMENT_SIZE,
        v => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 1.0 => n.min(u32::MAX as f64) as usize,
            _ => return Err(invalid("options.segmentSize must be a whole number of at least 1")),
        },
    };
    let on_progress = match prop(options, "onProgress") {
        v if is_absent(&v) => None,
        v => Some(v.dyn_into::<js_sys::Function>().map_err(|_| invalid("options.onProgress must be a function"))?),
    };
    Ok(UpsertOptions { segment_size, on_progress })
}

/// Largest `maxInputBytes` of `collection.compact` (see [`limits::MAX_COMPACT_INPUT_BYTES`]).
pub const MAX_COMPACT_INPUT_BYTES: f64 = limits::MAX_COMPACT_INPUT_BYTES as f64;
/// Largest `maxRounds` of `collection.compact` (see [`limits::MAX_COMPACT_ROUNDS`]).
pub const MAX_COMPACT_ROUNDS: f64 = limits::MAX_COMPACT_ROUNDS as f64;

/// A boolean option, or `None` when absent.
fn flag(v: &JsValue, what: &str) -> JsResult<Option<bool>> {
    if is_absent(v) {
        return Ok(None);
    }
    v.as_bool().map(Some).ok_or_else(|| invalid(format!("{what} must be a boolean")))
}

/// A whole number in `1..=max`, or `None` when absent (never NaN, infinite, fractional, zero,
/// negative or huge, so no cast below can wrap or saturate).
fn whole(v: &JsValue, what: &str, max: f64) -> JsResult<Option<f64>> {
    if is_absent(v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n.fract() == 0.0 && n >= 1.0 && n <= max => Ok(Some(n)),
        _ => Err(invalid(format!("{what} must be a whole number from 1 to {max}"))),
    }
}

/// Options of `collection.compact(options)`.
pub struct CompactArgs {
    /// What the engine does.
    pub opts: CompactOptions,
    /// Run one garbage-collection pass after a compaction that merged something.
    pub gc: bool,
}

/// `{ full = false, auto = false, maxInputBytes = 24 MiB, maxRounds = 8, gc = false }`.
pub fn compact(options: &JsValue) -> JsResult<CompactArgs> {
    let mut opts = CompactOptions::default();
    if is_absent(options) {
        return Ok(CompactArgs { opts, gc: false });
    }
    if !options.is_object() {
        return Err(invalid("options must be an object { full, auto, maxInputBytes, maxRounds, gc }"));
    }
    if let Some(b) = flag(&prop(options, "full"), "options.full")? {
        opts.full = b;
    }
    if let Some(b) = flag(&prop(options, "auto"), "options.auto")? {
        opts.auto = b;
    }
    if let Some(n) = whole(&prop(options, "maxInputBytes"), "options.maxInputBytes", MAX_COMPACT_INPUT_BYTES)? {
        opts.max_input_bytes = n as u64;
    }
    if let Some(n) = whole(&prop(options, "maxRounds"), "options.maxRounds", MAX_COMPACT_ROUNDS)? {
        opts.max_rounds = n as u32;
    }
    let gc = flag(&prop(options, "gc"), "options.gc")?.unwrap_or(false);
    Ok(CompactArgs { opts, gc })
}

/// `options.partitionCacheBytes` of `AkiDB.open` (default `PARTITION_CACHE_BYTES`, 32 MiB).
pub fn partition_cache_bytes(options: &JsValue) -> JsResult<Option<usize>> {
    Ok(whole(&prop(options, "partitionCacheBytes"), "options.partitionCacheBytes", 4_294_967_296.0)?
        .map(|n| n as usize))
}

/// `options.autoCompact` of `AkiDB.open` (default true).
pub fn auto_compact(options: &JsValue) -> JsResult<bool> {
    Ok(flag(&prop(options, "autoCompact"), "options.autoCompact")?.unwrap_or(true))
}
