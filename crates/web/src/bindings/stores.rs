//! Opening the store that `AkiDB.open`'s options name ([`StoreOptions`]). Each backend adds
//! one arm here; the rest of the bindings only see `Arc<dyn Kv>`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::errors::{invalid, to_js, JsResult};
use super::options::{OpenOptions, StoreOptions};
use crate::js::read_retry;
use crate::stores::{s3_fetch, CustomKv, IndexedDbKv, R2Kv};
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

/// Opens the store `options` describe.
// wasm is single-threaded: the Arcs below only share ownership, they never cross threads.
#[allow(clippy::arc_with_non_send_sync)]
pub async fn open(options: &OpenOptions) -> JsResult<OpenedStore> {
    let unique = || format!("unique:{}", akidb_core::runtime::new_uuid());
    let identity = match &options.store {
        StoreOptions::IndexedDb { name, .. } => format!("indexeddb:{name}"),
        StoreOptions::Memory { name: Some(n), .. } => format!("memory:{n}"),
        StoreOptions::S3(c) => format!("s3:{}/{}", c.endpoint, c.bucket),
        _ => unique(),
    };
    let prefix = options.prefix.clone();
    let channel = format!("akidb:{}:{identity}|{prefix}", identity.len());
    let kv: Arc<dyn Kv> = match &options.store {
        StoreOptions::Memory { name, latency } => memory(name.as_deref(), *latency),
        StoreOptions::IndexedDb { name, durability } => {
            Arc::new(IndexedDbKv::open(name).await.map_err(|e| to_js(e.into()))?.with_durability(*durability))
        }
        StoreOptions::S3(c) => Arc::new(s3_fetch::open(c).map_err(to_js)?),
        StoreOptions::R2 { bucket } => {
            Arc::new(RetryingKv::new(R2Kv::new(bucket.clone()).map_err(invalid)?, read_retry()))
        }
        StoreOptions::Custom { kv } => {
            Arc::new(RetryingKv::new(CustomKv::new(kv.clone()).map_err(invalid)?, read_retry()))
        }
    };
    Ok(OpenedStore { kv, prefix, channel })
}

/// `{ store: 'memory', name?, simulatedLatencyMs? }`
fn memory(name: Option<&str>, latency: Option<std::time::Duration>) -> Arc<dyn Kv> {
    let base: Arc<MemoryKv> = match name {
        None => Arc::new(MemoryKv::new()),
        Some(name) => NAMED_MEMORY.with(|m| m.borrow_mut().entry(name.to_string()).or_default().clone()),
    };
    match latency {
        Some(max_delay) if !max_delay.is_zero() => {
            let config = ChaosConfig { max_delay, seed: akidb_core::runtime::random_u64(), ..ChaosConfig::default() };
            Arc::new(ChaosKv::new(base, config))
        }
        _ => base,
    }
}
