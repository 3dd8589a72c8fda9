//! The wasm runtime: the core's [`Platform`] (clock, timer, entropy) through JS globals, so the
//! same code works in a window, a web worker, Node and workerd (no `window` assumed). Installed
//! into the core when the module starts, and again (idempotently) by every entry point.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use akidb_core::runtime::Platform;

use js_sys::Promise;
use wasm_bindgen::JsValue;

use crate::js::{global, global_fn, method};
use wasm_bindgen_futures::JsFuture;

/// Waits for `d` with the global `setTimeout`. Dropping the future clears the timer, so an
/// abandoned wait (a group-commit waiter's lease timer, once its commit is done) neither fires
/// later nor keeps Node's event loop alive.
async fn sleep(d: Duration) {
    if d.is_zero() {
        return;
    }
    let ms = d.as_millis().min(i32::MAX as u128) as i32;
    let mut handle = None;
    let promise = Promise::new(&mut |resolve, _reject| {
        match global_fn("setTimeout") {
            Some(f) => match f.call2(&JsValue::NULL, &resolve, &JsValue::from(ms)) {
                Ok(h) => handle = Some(h),
                Err(_) => {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            },
            // No timers at all: resolve at once rather than hang forever.
            None => {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _timer = ClearOnDrop(handle);
    let _ = JsFuture::from(promise).await;
}

/// Clears a `setTimeout` handle when dropped (harmless once the timer has fired).
struct ClearOnDrop(Option<JsValue>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        if let (Some(h), Some(clear)) = (self.0.take(), global_fn("clearTimeout")) {
            let _ = clear.call1(&JsValue::NULL, &h);
        }
    }
}

/// Milliseconds from `performance.now()` when present, else `Date.now()`.
fn monotonic_ms() -> f64 {
    let perf = global("performance");
    if perf.is_object() {
        let now = method(&perf, "now");
        if let Some(v) = now.and_then(|f| f.call0(&perf).ok()).and_then(|v| v.as_f64()) {
            return v;
        }
    }
    js_sys::Date::now()
}

/// Wall-clock milliseconds since the Unix epoch.
fn unix_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// 64 bits from `crypto.getRandomValues` (every supported host has it); the clock otherwise.
fn random_seed() -> u64 {
    let crypto = global("crypto");
    if crypto.is_object() {
        let get = method(&crypto, "getRandomValues");
        let buf = js_sys::Uint8Array::new_with_length(8);
        if get.and_then(|f| f.call1(&crypto, &buf).ok()).is_some() {
            let mut b = [0u8; 8];
            buf.copy_to(&mut b);
            return u64::from_le_bytes(b);
        }
    }
    (js_sys::Math::random() * 2f64.powi(53)) as u64 ^ (js_sys::Date::now() as u64).rotate_left(32)
}

/// The JS host as the core sees it.
struct JsPlatform;

impl Platform for JsPlatform {
    fn monotonic_ms(&self) -> f64 {
        monotonic_ms()
    }
    fn unix_ms(&self) -> u64 {
        unix_ms()
    }
    fn sleep(&self, d: Duration) -> futures::future::LocalBoxFuture<'static, ()> {
        Box::pin(sleep(d))
    }
    fn random_seed(&self) -> u64 {
        random_seed()
    }
}

thread_local! {
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
}

/// Installs [`JsPlatform`] into the core once (later calls do nothing).
pub fn install() {
    if !INSTALLED.with(|i| i.replace(true)) {
        akidb_core::runtime::install(Rc::new(JsPlatform));
    }
}

/// Runs when the wasm module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    install();
}
