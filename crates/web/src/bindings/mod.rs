//! wasm-bindgen bindings: the JS API. JS classes `AkiDB` and `Collection`,
//! JS `Error`s with `.code`, and conversions between JS values and engine types.

mod auto_compact;
mod collection;
mod conformance;
mod convert;
mod database;
mod errors;
mod keys;
mod lean;
mod live;
mod options;
mod reports;
mod s3_store;
mod storage_manager;
mod store_indexeddb;
mod stores;

pub use collection::JsCollection;
pub use conformance::run_conformance;
pub use database::AkiDB;
