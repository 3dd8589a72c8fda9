//! Waiting for IndexedDB events without leaving the transaction.
//!
//! A readwrite transaction stays active only while its request callbacks (and the microtasks they
//! queue) run. [`settle`] resolves a promise from the event itself, and `JsFuture` plus the
//! wasm-bindgen task queue continue the Rust future in microtasks of that same callback, so code
//! between two awaits of [`settle`] futures still runs inside the active transaction. Nothing else
//! (timers, fetches) may be awaited there. The promise never rejects, so an abandoned wait (a
//! transaction we aborted ourselves) leaves no unhandled rejection behind.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Event, EventTarget};

use akidb_core::kv::KvError;

/// A pending wait for the first of some event types on one target.
pub(super) struct Settle(JsFuture);

impl Settle {
    /// Waits for the event and returns its type (`"success"`, `"error"`, `"complete"`, ...).
    pub(super) async fn kind(self) -> String {
        match self.0.await {
            // Read `type` without an `instanceof Event` check: IndexedDB implementations outside
            // browsers (fake-indexeddb in Node) dispatch events of their own class.
            Ok(ev) if ev.is_object() => ev.unchecked_into::<Event>().type_(),
            Ok(_) => String::new(),
            // The promise never rejects; treat the impossible as an error event.
            Err(_) => "error".to_string(),
        }
    }
}

/// Starts listening NOW for the first of `types` on `target` (listeners are attached before this
/// returns, so no event fired later is missed even if the future is polled later).
pub(super) fn settle(target: &EventTarget, types: &[&str]) -> Result<Settle, KvError> {
    let mut failed: Option<JsValue> = None;
    let promise = Promise::new(&mut |resolve, _reject| {
        for t in types {
            if let Err(e) = target.add_event_listener_with_callback(t, &resolve) {
                failed = Some(e);
            }
        }
    });
    match failed {
        Some(e) => Err(KvError::Backend(format!("could not listen for IndexedDB events: {e:?}"))),
        None => Ok(Settle(JsFuture::from(promise))),
    }
}
