//! `S3Kv`: the [`Kv`](super::Kv) trait over the S3 REST API with conditional writes, for AWS S3,
//! Cloudflare R2, MinIO and other S3-compatible stores.
//!
//! The backend is sans-IO: [`request`] builds SigV4-signed requests ([`sigv4`]), [`response`]
//! turns HTTP answers into KV results and errors, and [`client::S3Kv`] drives both over any
//! [`HttpTransport`]. On wasm32 the transport is the JS global `fetch`
//! ([`super::s3_fetch`]); natively the tests use an in-memory S3 ([`fake`]).
//!
//! | operation | request | outcome |
//! |---|---|---|
//! | `get` | `GET` (`cache: 'no-store'`) | 200 → value + ETag; 404 → `None` |
//! | `get_if_changed` | `GET` + `If-None-Match: <etag>` | 304 → `Unchanged` |
//! | `put(IfAbsent)` | `PUT` + `If-None-Match: *` | 412 → `PreconditionFailed` |
//! | `put(IfVersion)` | `PUT` + `If-Match: <etag>` | 412, or 404 on a missing key → `PreconditionFailed` |
//! | `delete` | `DELETE` | 204 (also for a missing key) |
//! | `list` | `ListObjectsV2`, every page | keys in byte order |
//!
//! Version tokens are ETags. S3 ETags of single-part uploads are content hashes: a key deleted
//! and re-created with identical bytes gets its old token back. AkiDB never writes identical
//! bytes twice to a key (every manifest carries a fresh commit id; segments are create-only
//! under fresh UUIDs), so this cannot turn into an ABA problem for the commit protocol.

pub mod client;
pub mod config;
pub mod endpoint;
#[cfg(test)]
pub mod fake;
pub mod list_xml;
pub mod request;
pub mod response;
pub mod sigv4;
#[cfg(test)]
mod tests;

pub use client::{HttpTransport, S3Kv, S3Stats, TransportError};
pub use config::S3Config;
pub use request::{HttpMethod, HttpRequest, Op, S3Signer};
pub use response::HttpResponse;
