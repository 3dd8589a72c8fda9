//! The [`akidb_core::kv::Kv`] stores whose backend is a JS API, one file each: IndexedDB (browser
//! windows and workers), the `fetch` transport under the core's sans-IO S3 client, Cloudflare R2
//! bucket bindings, and a user's own JS object. The pure stores (memory, chaos, S3 requests)
//! live in the core crate.

pub mod custom;
pub mod indexeddb;
pub mod r2;
pub mod s3_fetch;

pub use custom::CustomKv;
pub use indexeddb::IndexedDbKv;
pub use r2::R2Kv;
