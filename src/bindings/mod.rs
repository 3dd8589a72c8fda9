//! wasm-bindgen bindings: the only place JS types appear. JS classes `AkiDB` and `Collection`,
//! JS `Error`s with `.code`, and conversions between JS values and engine types.

mod auto_compact;
mod collection;
mod conformance;
mod convert;
mod custom_store;
mod database;
mod errors;
mod js_calls;
mod lean;
mod live;
mod options;
mod r2_store;
mod s3_store;
mod storage_manager;
mod store_indexeddb;
mod stores;

pub use collection::JsCollection;
pub use conformance::run_conformance;
pub use database::AkiDB;
