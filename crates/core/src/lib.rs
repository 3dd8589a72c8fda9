//! AkiDB for the web: a vector database engine that runs natively, in browsers, in Node and in
//! edge workers. Every change to a collection is published by one compare-and-swap of its
//! manifest (Manifest V1, see docs/PROTOCOL.md), so any number of writers can share one store.
//!
//! Layers, top to bottom: [`bindings`] (wasm only) → [`database`] / [`collection`] →
//! [`search`] and [`storage`] → [`segment`] and [`manifest`] → [`kv`] backends, with
//! [`runtime`] glue for sleeping and clocks.

pub mod collection;
pub mod database;
pub mod distance;
pub mod error;
pub mod group_commit;
pub mod index;
pub mod kernels;
pub mod kv;
pub mod limits;
pub mod manifest;
pub mod metrics;
pub mod record;
pub mod retry;
pub mod runtime;
pub mod search;
pub mod segment;
pub mod storage;
pub mod testkit;
pub mod validate;

pub use collection::Collection;
pub use database::{CollectionInfo, Database};
pub use distance::Distance;
pub use error::{Error, Result};
pub use manifest::{CollectionManifest, SegmentDescriptor, SegmentState};
pub use record::Record;
pub use retry::RetryPolicy;
pub use storage::{CommitReceipt, Storage};
