//! Opening the store named by `AkiDB.open({ store, ... })`. Each backend adds one arm here; the
//! rest of the bindings only see `Arc<dyn Kv>`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use wasm_bindgen::JsValue;

use super::convert::{is_absent, prop, string};
use super::errors::{invalid, JsResult};
use super::options::millis;
use crate::js::read_retry;
use crate::stores::CustomKv;
use crate::stores::R2Kv;
use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, MemoryKv, RetryingKv};

thread_local! {
    // Named memory stores live as long as the JS realm: two `AkiDB.open({ store: 'memory',
    // name })` calls share data, like two tabs sharing IndexedDB.
    static NAMED_MEMORY: RefCell<HashMap<String, Arc<MemoryKv>>> = RefCell::new(HashMap::new());
}

/// An opened store and the key prefix to use in it.
pub struct OpenedStore {
    /// The backend.
    pub kv: Arc<dyn Kv>,
    /// Prefix of every key (`options.prefix`, default empty).
    pub prefix: String,
    /// Name of the `BroadcastChannel` its commits are announced on: the same for every
    /// database open on the same data (IndexedDB name, memory store name, S3 bucket) and
    /// prefix; unique for stores that cannot tell (unnamed memory, 'r2', 'custom').
    pub channel: String,
}

/// Opens the store selected by `options.store` (default `'memory'`).
pub async fn open(options: &JsValue) -> JsResult<OpenedStore> {
    let kind = prop(options, "store");
    let kind = if is_absent(&kind) { "memory".to_string() } else { string(&kind, "options.store")? };
    let prefix_v = prop(options, "prefix");
    let prefix = if is_absent(&prefix_v) { String::new() } else { string(&prefix_v, "options.prefix")? };
    let name = prop(options, "name").as_string();
    let unique = || format!("unique:{}", akidb_core::runtime::new_uuid());
    let identity = match (kind.as_str(), name) {
        ("indexeddb", Some(n)) => format!("indexeddb:{n}"),
        ("memory", Some(n)) => format!("memory:{n}"),
        ("s3", _) => format!(
            "s3:{}/{}",
            prop(options, "endpoint").as_string().unwrap_or_default(),
            prop(options, "bucket").as_string().unwrap_or_default()
        ),
        _ => unique(),
    };
    let channel = format!("akidb:{}:{identity}|{prefix}", identity.len());
    let kv = match kind.as_str() {
        "memory" => memory(options)?,
        "indexeddb" => super::store_indexeddb::open(options).await?,
        "s3" => super::s3_store::open(options)?,
        "r2" => r2(options)?,
        "custom" => custom(options)?,
        other => {
            return Err(invalid(format!(
                "options.store must be 'memory', 'indexeddb', 's3', 'r2' or 'custom', got '{other}'"
            )))
        }
    };
    Ok(OpenedStore { kv, prefix, channel })
}

// wasm is single-threaded: the Arcs below only share ownership, they never cross threads.

/// `{ store: 'r2', bucket: env.MY_BUCKET }`
#[allow(clippy::arc_with_non_send_sync)]
fn r2(options: &JsValue) -> JsResult<Arc<dyn Kv>> {
    Ok(Arc::new(RetryingKv::new(R2Kv::new(prop(options, "bucket")).map_err(invalid)?, read_retry())))
}

/// `{ store: 'custom', kv: { get, put, delete, list } }`
#[allow(clippy::arc_with_non_send_sync)]
fn custom(options: &JsValue) -> JsResult<Arc<dyn Kv>> {
    Ok(Arc::new(RetryingKv::new(CustomKv::new(prop(options, "kv")).map_err(invalid)?, read_retry())))
}

/// `{ store: 'memory', name?, simulatedLatencyMs? }`
fn memory(options: &JsValue) -> JsResult<Arc<dyn Kv>> {
    let name_v = prop(options, "name");
    let base: Arc<MemoryKv> = if is_absent(&name_v) {
        Arc::new(MemoryKv::new())
    } else {
        let name = string(&name_v, "options.name")?;
        NAMED_MEMORY.with(|m| m.borrow_mut().entry(name).or_default().clone())
    };
    let latency = millis(&prop(options, "simulatedLatencyMs"), "options.simulatedLatencyMs", false)?;
    Ok(match latency {
        Some(max_delay) if !max_delay.is_zero() => {
            let config = ChaosConfig { max_delay, seed: akidb_core::runtime::random_u64(), ..ChaosConfig::default() };
            Arc::new(ChaosKv::new(base, config))
        }
        _ => base,
    })
}
