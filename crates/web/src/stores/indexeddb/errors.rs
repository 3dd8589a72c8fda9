//! IndexedDB failures as [`KvError`]s with messages that say what happened and what to do.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

use akidb_core::kv::KvError;

/// Maps a `DOMException` name and message raised while doing `op` on database `db`.
///
/// Every failing IndexedDB write is a whole transaction rolled back, so nothing is ever half
/// written: quota errors and closed connections are non-retryable [`KvError::Backend`] errors
/// (STORAGE in JS), while `UnknownError`/`AbortError`/`TimeoutError` (a transient disk or browser
/// hiccup, the transaction not applied) are [`KvError::Transient`] and retried by the commit loop.
pub(crate) fn from_dom(db: &str, op: &str, name: &str, message: &str) -> KvError {
    match name {
        "QuotaExceededError" => KvError::Backend(format!(
            "IndexedDB quota exceeded in database '{db}' during {op} (QuotaExceededError): the transaction was \
             rolled back and nothing was written; free space, delete data, or ask for persistent storage \
             (navigator.storage.persist())"
        )),
        "VersionError" => KvError::Backend(format!(
            "IndexedDB database '{db}' has a newer schema than this AkiDB build understands (VersionError: \
             {message}); upgrade the akidb package"
        )),
        "InvalidStateError" => KvError::Backend(format!(
            "IndexedDB connection to '{db}' is closed (InvalidStateError during {op}); open the database again"
        )),
        "TransactionInactiveError" => KvError::Backend(format!(
            "IndexedDB transaction on '{db}' ended before {op} finished (TransactionInactiveError)"
        )),
        "NotFoundError" => KvError::Backend(format!(
            "IndexedDB database '{db}' lacks AkiDB's object stores (NotFoundError during {op}); it was not \
             created by AkiDB"
        )),
        "UnknownError" | "AbortError" | "TimeoutError" => KvError::Transient {
            message: format!("IndexedDB {op} on '{db}' failed and was rolled back ({name}: {message})"),
            ambiguous: false,
        },
        _ => KvError::Backend(format!("IndexedDB {op} on '{db}' failed ({name}: {message})")),
    }
}

/// Maps a thrown JS value (usually a `DOMException`).
pub(crate) fn from_js(db: &str, op: &str, e: &JsValue) -> KvError {
    match e.dyn_ref::<DomException>() {
        Some(d) => from_dom(db, op, &d.name(), &d.message()),
        None => KvError::Backend(format!("IndexedDB {op} on '{db}' failed: {e:?}")),
    }
}

/// Maps an optional `DOMException` from `request.error` / `transaction.error`.
pub(crate) fn from_exception(db: &str, op: &str, e: Option<DomException>) -> KvError {
    match e {
        Some(d) => from_dom(db, op, &d.name(), &d.message()),
        None => KvError::Transient {
            message: format!("IndexedDB {op} on '{db}' was aborted without an error (rolled back)"),
            ambiguous: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::from_dom;
    use akidb_core::kv::KvError;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn quota_is_a_clear_non_retryable_storage_error() {
        let e = from_dom("akidb:x", "put", "QuotaExceededError", "full");
        let KvError::Backend(m) = &e else { panic!("{e:?}") };
        assert!(m.contains("QuotaExceededError") && m.contains("nothing was written"), "{m}");
        assert_eq!(akidb_core::error::Error::from(e).code(), "STORAGE");
    }

    #[test]
    fn transient_failures_are_retryable_and_not_ambiguous() {
        for name in ["UnknownError", "AbortError", "TimeoutError"] {
            assert!(matches!(from_dom("d", "put", name, "m"), KvError::Transient { ambiguous: false, .. }), "{name}");
        }
        let KvError::Backend(m) = from_dom("d", "open", "VersionError", "v") else { panic!() };
        assert!(m.contains("newer schema"), "{m}");
        let KvError::Backend(m) = from_dom("d", "get", "InvalidStateError", "s") else { panic!() };
        assert!(m.contains("closed"), "{m}");
    }
}
