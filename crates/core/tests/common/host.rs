//! The JS host for the core's wasm tests in Node: `setTimeout`, `performance.now()` and
//! `crypto.getRandomValues`, installed when the test module starts (the web crate does the same
//! for users; the core itself cannot see JS).

use std::rc::Rc;
use std::time::Duration;

use akidb_core::runtime::Platform;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

struct NodeHost;

fn global(name: &str) -> JsValue {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn method(obj: &JsValue, name: &str) -> Function {
    Reflect::get(obj, &JsValue::from_str(name)).expect(name).dyn_into::<Function>().expect(name)
}

impl Platform for NodeHost {
    fn monotonic_ms(&self) -> f64 {
        let perf = global("performance");
        method(&perf, "now").call0(&perf).ok().and_then(|v| v.as_f64()).unwrap_or_else(js_sys::Date::now)
    }
    fn unix_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
    fn sleep(&self, d: Duration) -> futures::future::LocalBoxFuture<'static, ()> {
        let ms = d.as_millis().min(i32::MAX as u128) as i32;
        let promise = Promise::new(&mut |resolve, _| {
            let set_timeout = global("setTimeout").dyn_into::<Function>().expect("setTimeout");
            let _ = set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
        });
        Box::pin(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        })
    }
    fn random_seed(&self) -> u64 {
        (js_sys::Math::random() * 2f64.powi(53)) as u64
    }
}

thread_local! {
    static INSTALLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs the host once (wasm-bindgen-test does not run `start` functions, so every test
/// entry calls this through `common::setup`).
pub fn install_host() {
    if !INSTALLED.with(|i| i.replace(true)) {
        akidb_core::runtime::install(Rc::new(NodeHost));
    }
}
