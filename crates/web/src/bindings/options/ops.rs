//! The options of the collection calls: `search` (hot: read with cached property names),
//! `upsert`, `compact`, `subscribe`, and `createCollection`'s spec.

use wasm_bindgen::{JsCast, JsValue};

use super::super::convert::{is_absent, json};
use super::super::errors::{invalid, to_js, JsResult};
use super::super::keys::{self, Keys};
use super::reader::{check_known, number, Opts};
use akidb_core::limits;
use akidb_core::manifest::Distance;
use akidb_core::search::exec::{ScanMode, SearchOptions};
use akidb_core::search::filter::Filter;
use akidb_core::storage::{CompactOptions, DEFAULT_SEGMENT_SIZE};

/// Keys of the options of `search`, `searchIds` and `searchIdsSync`.
pub const SEARCH_KEYS: &[&str] = &["k", "filter", "includeMetadata", "mode", "probes", "prune", "recall", "oversample"];
/// Keys of the options of `upsert`.
pub const UPSERT_KEYS: &[&str] = &["segmentSize", "onProgress"];
/// Keys of the options of `compact`.
pub const COMPACT_KEYS: &[&str] = &["full", "auto", "maxInputBytes", "maxRounds", "gc"];
/// Keys of the options of `subscribe`.
pub const SUBSCRIBE_KEYS: &[&str] = &["pollIntervalMs", "onError"];
/// Keys of the spec of `createCollection`.
pub const CREATE_KEYS: &[&str] = &["dimension", "distance"];
/// Keys of the third argument of `createCollection`.
pub const CREATE_FLAG_KEYS: &[&str] = &["ifNotExists"];

/// `{ k = 10, filter, includeMetadata = false, mode = 'exact' | 'flat' | 'ann' | 'int8', probes,
/// prune = true, oversample = 10 }`, or a number: `k`. Property names come from
/// [`keys::with_keys`] (created once); unknown keys are found by counting, so the check costs
/// one `Object.keys` per call, not one lookup per key.
pub fn search(options: &JsValue) -> JsResult<SearchOptions> {
    if is_absent(options) {
        return Ok(SearchOptions { k: 10, ..SearchOptions::default() });
    }
    if let Some(k) = options.as_f64() {
        return Ok(SearchOptions { k: whole_k(k)?, ..SearchOptions::default() });
    }
    if !options.is_object() || options.is_function() || js_sys::Array::is_array(options) {
        return Err(invalid("options must be an object { k, filter, mode, ... } or a number (k)"));
    }
    keys::with_keys(|keys| search_with(options, keys))
}

fn whole_k(n: f64) -> JsResult<usize> {
    if n.fract() == 0.0 && n >= 0.0 && n <= limits::MAX_K as f64 {
        Ok(n as usize)
    } else {
        Err(invalid(format!("options.k must be a whole number from 0 to {}", limits::MAX_K)))
    }
}

fn search_with(options: &JsValue, keys: &Keys) -> JsResult<SearchOptions> {
    let mut present = 0u32;
    let mut get = |key: &JsValue| {
        let v = keys::get(options, key);
        present += u32::from(!v.is_undefined());
        v
    };
    let k = match get(&keys.k) {
        v if is_absent(&v) => 10,
        v => match v.as_f64() {
            Some(n) => whole_k(n)?,
            None => return Err(invalid("options.k must be a whole number")),
        },
    };
    let f = get(&keys.filter);
    let filter = if is_absent(&f) { None } else { Some(Filter::parse(&json(&f, "options.filter")?).map_err(to_js)?) };
    let include_metadata = get(&keys.include_metadata).as_bool().unwrap_or(false);
    let mode_v = get(&keys.mode);
    let oversample_v = get(&keys.oversample);
    let probes_v = get(&keys.probes);
    let prune_v = get(&keys.prune);
    let recall_v = get(&keys.recall);
    // More own keys than known ones with a value: something unknown (or a known key set to
    // undefined); the slow check tells which.
    let own = js_sys::Object::keys(options.unchecked_ref::<js_sys::Object>()).length();
    if own > present {
        check_known(options, "options", &[SEARCH_KEYS])?;
    }
    let mode = if is_absent(&mode_v) {
        ScanMode::Exact
    } else {
        match super::super::convert::string(&mode_v, "options.mode")?.as_str() {
            "exact" => ScanMode::Exact,
            "flat" => ScanMode::Flat,
            "int8" => {
                let oversample = number(&oversample_v, "options.oversample")?.unwrap_or(10.0).max(1.0);
                ScanMode::Int8 { oversample: oversample as usize }
            }
            "ann" => {
                let probes = match number(&probes_v, "options.probes")? {
                    None => None,
                    Some(p) if p.fract() == 0.0 && p >= 1.0 => Some(p.min(u32::MAX as f64) as usize),
                    Some(_) => return Err(invalid("options.probes must be a whole number >= 1")),
                };
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
    let recall = match number(&recall_v, "options.recall")? {
        None => None,
        Some(_) if !matches!(mode, ScanMode::Ann { .. }) => {
            return Err(invalid("options.recall applies to mode: 'ann' only (the other modes are exact or int8)"))
        }
        Some(r) if r > 0.0 && r <= 1.0 => Some(r as f32),
        Some(r) => return Err(invalid(format!("options.recall must be a number in (0, 1], e.g. 0.95; got {r}"))),
    };
    Ok(SearchOptions { k, filter, include_metadata, mode, recall })
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
    let o = Opts::new(options, "options", &[UPSERT_KEYS])?;
    let segment_size = match o.whole("segmentSize", 1.0, u32::MAX as f64)? {
        None => DEFAULT_SEGMENT_SIZE,
        Some(n) => n as usize,
    };
    Ok(UpsertOptions { segment_size, on_progress: o.func("onProgress")? })
}

/// Largest `maxInputBytes` of `collection.compact` (see [`limits::MAX_COMPACT_INPUT_BYTES`]).
const MAX_COMPACT_INPUT_BYTES: f64 = limits::MAX_COMPACT_INPUT_BYTES as f64;
/// Largest `maxRounds` of `collection.compact` (see [`limits::MAX_COMPACT_ROUNDS`]).
const MAX_COMPACT_ROUNDS: f64 = limits::MAX_COMPACT_ROUNDS as f64;

/// Options of `collection.compact(options)`.
pub struct CompactArgs {
    /// What the engine does.
    pub opts: CompactOptions,
    /// Run one garbage-collection pass after a compaction that merged something.
    pub gc: bool,
}

/// `{ full = false, auto = false, maxInputBytes = the handle's budget, maxRounds = 8, gc = false }`
/// over `defaults` (the handle's [`akidb_core::Collection::compact_options`]).
pub fn compact(options: &JsValue, defaults: CompactOptions) -> JsResult<CompactArgs> {
    let o = Opts::new(options, "options", &[COMPACT_KEYS])?;
    let mut opts = defaults;
    if let Some(b) = o.flag("full")? {
        opts.full = b;
    }
    if let Some(b) = o.flag("auto")? {
        opts.auto = b;
    }
    if let Some(n) = o.whole("maxInputBytes", 1.0, MAX_COMPACT_INPUT_BYTES)? {
        opts.max_input_bytes = n as u64;
    }
    if let Some(n) = o.whole("maxRounds", 1.0, MAX_COMPACT_ROUNDS)? {
        opts.max_rounds = n as u32;
    }
    Ok(CompactArgs { opts, gc: o.flag("gc")?.unwrap_or(false) })
}

/// Options of `collection.subscribe(listener, options)`.
pub struct SubscribeOptions {
    /// Called with each error of a background check.
    pub on_error: Option<js_sys::Function>,
    /// Poll interval (default: only when the runtime has no `BroadcastChannel`).
    pub poll: Option<std::time::Duration>,
}

/// `{ pollIntervalMs, onError }`.
pub fn subscribe(options: &JsValue) -> JsResult<SubscribeOptions> {
    let o = Opts::new(options, "options", &[SUBSCRIBE_KEYS])?;
    Ok(SubscribeOptions { on_error: o.func("onError")?, poll: o.millis("pollIntervalMs", false)? })
}

/// The spec of `createCollection(name, { dimension, distance = 'cosine' })`.
pub fn create(options: &JsValue) -> JsResult<(u32, Distance)> {
    let o = Opts::new(options, "options", &[CREATE_KEYS])?;
    let dim = o
        .raw("dimension")
        .as_f64()
        .filter(|d| d.fract() == 0.0 && *d >= 0.0 && *d <= u32::MAX as f64)
        .ok_or_else(|| invalid("options.dimension must be a whole number"))? as u32;
    let distance = match o.string("distance")? {
        None => Distance::Cosine,
        Some(d) => Distance::parse(&d).map_err(to_js)?,
    };
    Ok((dim, distance))
}

/// `createCollection`'s third argument `{ ifNotExists = false }` -> `ifNotExists`.
pub fn create_flags(options: &JsValue) -> JsResult<bool> {
    let o = Opts::new(options, "createOptions", &[CREATE_FLAG_KEYS])?;
    Ok(o.flag("ifNotExists")?.unwrap_or(false))
}
