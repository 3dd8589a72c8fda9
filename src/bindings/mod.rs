//! wasm-bindgen bindings: the only place JS types appear. JS classes `AkiDB` and `Collection`,
//! JS `Error`s with `.code`, and conversions between JS values and engine types.

mod auto_compact;
mod collection;
mod convert;
mod database;
mod errors;
mod options;
mod s3_store;
mod store_indexeddb;
mod stores;

pub use collection::JsCollection;
pub use database::AkiDB;
