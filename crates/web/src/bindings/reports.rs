//! Engine receipts and reports as the JS objects the API returns (shared by the `AkiDB` and
//! `Collection` classes, so neither imports the other for them).

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use akidb_core::storage::{GcReport, OperationStatus};

/// `{ generation, deleted, keptRecent, keptUnknown }` of a GC pass.
pub fn gc_report(r: &GcReport) -> JsValue {
    let o = Object::new();
    let deleted: Array = r.deleted.iter().map(|k| JsValue::from_str(k)).collect();
    let _ = Reflect::set(&o, &"generation".into(), &JsValue::from_f64(r.generation as f64));
    let _ = Reflect::set(&o, &"deleted".into(), &deleted);
    let _ = Reflect::set(&o, &"keptRecent".into(), &JsValue::from_f64(r.kept_recent as f64));
    let _ = Reflect::set(&o, &"keptUnknown".into(), &JsValue::from_f64(r.kept_unknown as f64));
    o.into()
}

/// `{ status: 'committed', version }`, `{ status: 'not_committed' }` or `{ status: 'unknown' }`.
pub fn operation_status(status: OperationStatus) -> JsValue {
    let o = Object::new();
    let name = match status {
        OperationStatus::Committed { version } => {
            let _ = Reflect::set(&o, &"version".into(), &JsValue::from_f64(version as f64));
            "committed"
        }
        OperationStatus::NotCommitted => "not_committed",
        OperationStatus::Unknown => "unknown",
    };
    let _ = Reflect::set(&o, &"status".into(), &JsValue::from_str(name));
    o.into()
}
