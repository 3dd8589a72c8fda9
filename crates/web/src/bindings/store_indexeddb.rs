//! `AkiDB.open({ store: 'indexeddb', name })`: the IndexedDB database `akidb:{name}`.

use std::sync::Arc;

use wasm_bindgen::JsValue;

use super::convert::{is_absent, prop, string};
use super::errors::{invalid, to_js, JsResult};
use crate::stores::indexeddb::Durability;
use {crate::stores::IndexedDbKv, akidb_core::kv::Kv};

/// Opens the IndexedDB store named by `options.name` (required, non-empty) with
/// `options.durability` ('strict' (default): strict manifest commits, relaxed segment writes;
/// 'relaxed'; 'default': the browser's).
pub async fn open(options: &JsValue) -> JsResult<Arc<dyn Kv>> {
    let name_v = prop(options, "name");
    if is_absent(&name_v) {
        return Err(invalid("options.name is required for store 'indexeddb' (it names the IndexedDB database)"));
    }
    let name = string(&name_v, "options.name")?;
    if name.is_empty() {
        return Err(invalid("options.name must not be empty"));
    }
    if !is_absent(&prop(options, "simulatedLatencyMs")) {
        return Err(invalid("options.simulatedLatencyMs is only supported by store 'memory'"));
    }
    let d = prop(options, "durability");
    let durability = if is_absent(&d) {
        Durability::default()
    } else {
        Durability::parse(&string(&d, "options.durability")?)
            .ok_or_else(|| invalid("options.durability must be 'strict', 'relaxed' or 'default'"))?
    };
    let kv = IndexedDbKv::open(&name).await.map_err(|e| to_js(e.into()))?.with_durability(durability);
    // wasm is single-threaded: the Arc only shares ownership, it never crosses threads.
    #[allow(clippy::arc_with_non_send_sync)]
    let kv: Arc<dyn Kv> = Arc::new(kv);
    Ok(kv)
}
