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
mod records;
mod reports;
mod storage_manager;
mod stores;
mod verify;

pub use collection::JsCollection;
pub use conformance::run_conformance;
pub use database::AkiDB;
