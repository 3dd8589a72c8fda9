//! wasm runtime glue through JS globals, so the same code works in a window, a web worker,
//! Node and workerd (no `window` assumed).

use std::time::Duration;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Waits for `d` with the global `setTimeout`. Dropping the future clears the timer, so an
/// abandoned wait (a group-commit waiter's lease timer, once its commit is done) neither fires
/// later nor keeps Node's event loop alive.
pub async fn sleep(d: Duration) {
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

fn global_fn(name: &str) -> Option<Function> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name)).ok().and_then(|f| f.dyn_into::<Function>().ok())
}

/// Milliseconds from `performance.now()` when present, else `Date.now()`.
pub fn monotonic_ms() -> f64 {
    let perf = Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).ok().filter(|p| p.is_object());
    if let Some(perf) = perf {
        let now = Reflect::get(&perf, &JsValue::from_str("now")).ok().and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(v) = now.and_then(|f| f.call0(&perf).ok()).and_then(|v| v.as_f64()) {
            return v;
        }
    }
    js_sys::Date::now()
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    js_sys::Date::now() as u64
}
