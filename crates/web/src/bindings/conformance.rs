//! `runConformance(options)`: the crate's KV conformance suite (`src/kv/conformance.rs`) run
//! from JS against any store `AkiDB.open` accepts — in particular a user's own
//! `{ store: 'custom', kv }` or an R2 binding `{ store: 'r2', bucket }` — so people can check
//! their backend before trusting it with data.

use wasm_bindgen::prelude::*;

use super::convert::to_js;
use super::errors::JsResult;
use super::options::OpenOptions;
use super::reports::ConformanceView;
use super::stores;
use akidb_core::kv::conformance::{run_all_with_tokens, ConformanceOptions, TokenModel, CHECKS};

/// Largest `manyKeys` / `concurrency` accepted, as a JS number.
const MAX_COUNT: f64 = akidb_core::limits::MAX_CONFORMANCE_COUNT as f64;

/// Keys `runConformance` takes beside those of `AkiDB.open`.
pub const CONFORMANCE_KEYS: &[&str] = &["manyKeys", "concurrency", "tokens"];

/// Runs the KV conformance suite against the store `options` describe (the options of
/// `AkiDB.open`, plus `manyKeys` (keys of the listing check, default 50; more than 1000 crosses
/// a list page), `concurrency` (writers racing in the atomicity check, default 8; 0 skips it)
/// and `tokens` ('contentHash' (default: a key re-created with identical bytes may get its old
/// version back, as with S3/R2 ETags) or 'unique' (versions never repeat))). Works under
/// `{prefix}akidb-conformance-{random}/` and deletes what it wrote. Resolves
/// `{ ok: true, checks, ms }` or `{ ok: false, failure, checks, ms }` (`failure` starts with
/// the name of the check that broke); bad options reject with INVALID_ARGUMENT.
#[wasm_bindgen(js_name = runConformance)]
pub async fn run_conformance(options: JsValue) -> JsResult<JsValue> {
    crate::runtime::install();
    let (open, o) = OpenOptions::parse_with(&options, CONFORMANCE_KEYS)?;
    let defaults = ConformanceOptions::default();
    let count = |key: &str, default: usize| -> JsResult<usize> {
        Ok(o.whole(key, 0.0, MAX_COUNT)?.map_or(default, |n| n as usize))
    };
    let opts = ConformanceOptions {
        many_keys: count("manyKeys", defaults.many_keys)?,
        concurrency: count("concurrency", defaults.concurrency)?,
    };
    let tokens = match o.choice("tokens", &["contentHash", "unique"])?.as_deref() {
        Some("unique") => TokenModel::Unique,
        _ => TokenModel::ContentHash,
    };
    let store = stores::open(&open).await?;
    let prefix = format!("{}akidb-conformance-{:08x}/", store.prefix, akidb_core::runtime::random_u64() as u32);
    let start = akidb_core::runtime::monotonic_ms();
    let result = run_all_with_tokens(store.kv.as_ref(), &prefix, &opts, tokens).await;
    if result.is_err() {
        // Leave no test keys behind, even after a failure (best effort).
        if let Ok(keys) = store.kv.list(&prefix).await {
            for k in keys {
                let _ = store.kv.delete(&k).await;
            }
        }
    }
    let ms = (akidb_core::runtime::monotonic_ms() - start).round();
    let report =
        ConformanceView { ok: result.is_ok(), failure: result.as_ref().err().map(String::as_str), checks: CHECKS, ms };
    store.kv.close();
    to_js(&report)
}
