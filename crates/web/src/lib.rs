//! AkiDB for the web: the wasm-bindgen layer over [`akidb_core`]. This crate is the only place
//! JS types appear: the JS classes and errors ([`bindings`]), the stores whose backend is a JS
//! API ([`stores`]: IndexedDB, `fetch` for S3, R2 bindings, users' own stores), the calls into JS
//! objects they share ([`js`]) and the clock, timer and entropy it installs into the core
//! ([`runtime`]). See ARCHITECTURE.md.
//!
//! Natively the crate is empty: everything in it needs a JS host.

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod js;
#[cfg(target_arch = "wasm32")]
pub mod runtime;
#[cfg(target_arch = "wasm32")]
pub mod stores;

#[cfg(target_arch = "wasm32")]
pub use bindings::{run_conformance, AkiDB, JsCollection};
