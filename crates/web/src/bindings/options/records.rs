//! The options of the record reads: `get(ids, options)` and `scan(options)`.

use wasm_bindgen::JsValue;

use super::super::convert::json;
use super::super::errors::{to_js, JsResult};
use super::reader::Opts;
use akidb_core::collection::records::{check_batch_size, DEFAULT_SCAN_BATCH};
use akidb_core::limits::MAX_SCAN_BATCH;
use akidb_core::search::filter::Filter;

/// Keys of the options of `get`.
pub const GET_KEYS: &[&str] = &["includeVectors", "includeMetadata"];
/// Keys of the options of `scan`.
pub const SCAN_KEYS: &[&str] = &["batchSize", "includeVectors", "includeMetadata", "filter"];

/// Which fields a read returns.
#[derive(Clone, Copy)]
pub struct Fields {
    /// `vector` (a Float32Array, bit-exact as written).
    pub vectors: bool,
    /// `metadata` (null when the record has none).
    pub metadata: bool,
}

/// `{ includeVectors = true, includeMetadata = true }`.
pub fn get(options: &JsValue) -> JsResult<Fields> {
    let o = Opts::new(options, "options", &[GET_KEYS])?;
    fields(&o)
}

fn fields(o: &Opts) -> JsResult<Fields> {
    Ok(Fields {
        vectors: o.flag("includeVectors")?.unwrap_or(true),
        metadata: o.flag("includeMetadata")?.unwrap_or(true),
    })
}

/// Options of `scan`.
pub struct ScanOptions {
    /// Fields of each record.
    pub fields: Fields,
    /// Records per batch (at most; a batch never spans two segments).
    pub batch_size: usize,
    /// Only records whose metadata matches.
    pub filter: Option<Filter>,
}

/// `{ batchSize = 1000, includeVectors = true, includeMetadata = true, filter }`.
pub fn scan(options: &JsValue) -> JsResult<ScanOptions> {
    let o = Opts::new(options, "options", &[SCAN_KEYS])?;
    let batch_size = match o.whole("batchSize", 1.0, MAX_SCAN_BATCH as f64)? {
        Some(n) => check_batch_size(n as usize).map_err(to_js)?,
        None => DEFAULT_SCAN_BATCH,
    };
    let f = o.raw("filter");
    let filter = if super::super::convert::is_absent(&f) {
        None
    } else {
        Some(Filter::parse(&json(&f, "options.filter")?).map_err(to_js)?)
    };
    Ok(ScanOptions { fields: fields(&o)?, batch_size, filter })
}
