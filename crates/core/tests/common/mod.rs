//! Shared helpers for the integration tests (native and wasm32).
#![allow(dead_code, unused_imports)]

#[cfg(target_arch = "wasm32")]
pub mod host;

use std::sync::Arc;

use akidb_core::kv::{Kv, MemoryKv};
use akidb_core::Storage;

/// Drives a future to completion. Works on wasm too, as long as nothing really sleeps.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    setup();
    futures::executor::block_on(f)
}

/// Installs the JS host on wasm (wasm-bindgen-test never runs start functions); natively the
/// core has std's clock already.
pub fn setup() {
    #[cfg(target_arch = "wasm32")]
    host::install_host();
}

/// A fresh memory store and a storage over it.
pub fn memory_storage() -> (Arc<MemoryKv>, Storage) {
    let kv = Arc::new(MemoryKv::new());
    let storage = Storage::new(kv.clone() as Arc<dyn Kv>);
    (kv, storage)
}

pub use akidb_core::testkit::{records, XorShift as Rng};
