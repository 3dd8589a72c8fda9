//! `S3Kv`: the KV trait over any [`HttpTransport`]: request building, answer reading, listing
//! across pages, and request counters. Every call sends each request once; retries of
//! idempotent requests are [`RetryingKv`]'s (see [`S3Kv::retrying`]).

use std::sync::atomic::{AtomicU64, Ordering};

use super::config::S3Config;
use super::request::{HttpRequest, Op, S3Signer};
use super::response::{error_for, etag, HttpResponse};
use crate::error::Result;
use crate::kv::{GetIfChanged, Kv, KvError, PutCondition, RetryingKv, VersionToken, Versioned};
use async_trait::async_trait;

/// A request that got no HTTP answer (connection refused or cut, timeout, DNS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// What happened, already scrubbed of secrets by the transport.
    pub message: String,
}

/// Sends one request and returns the answer. Implemented by `fetch` on wasm32 and by the
/// in-memory S3 of the native tests.
#[async_trait(?Send)]
pub trait HttpTransport {
    /// Sends `req` once.
    async fn send(&self, req: &HttpRequest) -> std::result::Result<HttpResponse, TransportError>;
}

/// Counters of one `S3Kv` (requests actually sent, so a retry counts twice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct S3Stats {
    /// GET requests (including conditional ones).
    pub gets: u64,
    /// Conditional GETs answered 304 Not Modified.
    pub not_modified: u64,
    /// PUT requests.
    pub puts: u64,
    /// DELETE requests.
    pub deletes: u64,
    /// ListObjectsV2 pages requested.
    pub list_pages: u64,
}

#[derive(Default)]
struct Counters {
    gets: AtomicU64,
    not_modified: AtomicU64,
    puts: AtomicU64,
    deletes: AtomicU64,
    list_pages: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// An S3 bucket as a [`Kv`] store.
pub struct S3Kv<T: HttpTransport> {
    signer: S3Signer,
    transport: T,
    counters: Counters,
}

impl<T: HttpTransport> S3Kv<T> {
    /// A store for `config` sending requests through `transport`, each request once.
    pub fn new(config: &S3Config, transport: T) -> Result<Self> {
        Ok(S3Kv { signer: S3Signer::new(config)?, transport, counters: Counters::default() })
    }

    /// The store as callers use it: [`S3Kv::new`] behind a [`RetryingKv`] with
    /// `config.read_retry` (each retry is a freshly signed request).
    pub fn retrying(config: &S3Config, transport: T) -> Result<RetryingKv<Self>> {
        Ok(RetryingKv::new(Self::new(config, transport)?, config.read_retry.clone()))
    }

    /// Request counters since creation.
    pub fn stats(&self) -> S3Stats {
        let c = &self.counters;
        S3Stats {
            gets: c.gets.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            puts: c.puts.load(Ordering::Relaxed),
            deletes: c.deletes.load(Ordering::Relaxed),
            list_pages: c.list_pages.load(Ordering::Relaxed),
        }
    }

    /// The transport (tests inspect their fake server through it).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Sends once; a missing answer is a transient failure, ambiguous for writes.
    async fn send_once(&self, req: &HttpRequest) -> std::result::Result<HttpResponse, KvError> {
        let c = &self.counters;
        bump(match req.op {
            Op::Get | Op::GetIfChanged | Op::GetRange => &c.gets,
            Op::PutAny | Op::PutIfAbsent | Op::PutIfVersion => &c.puts,
            Op::Delete => &c.deletes,
            Op::List => &c.list_pages,
        });
        self.transport.send(req).await.map_err(|e| KvError::Transient {
            message: format!("S3 {} {:?}: {}", req.op.name(), req.key, e.message),
            ambiguous: req.op.is_write(),
        })
    }

    /// Sends `build()` once and reads the answer with `read`.
    async fn call<R>(
        &self,
        build: impl Fn() -> HttpRequest,
        read: impl Fn(&HttpRequest, HttpResponse) -> std::result::Result<R, KvError>,
    ) -> std::result::Result<R, KvError> {
        let req = build();
        let resp = self.send_once(&req).await?;
        read(&req, resp)
    }
}

/// Bytes `start..start + len` of `body`, clamped to its length.
fn slice(mut body: Vec<u8>, start: u64, len: u64) -> Vec<u8> {
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(body.len());
    let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX)).min(body.len());
    body.truncate(end);
    body.drain(..start);
    body
}

fn read_object(req: &HttpRequest, resp: HttpResponse) -> std::result::Result<GetIfChanged, KvError> {
    match resp.status {
        200 => {
            let tag = etag(req.op, &req.key, &resp)?;
            Ok(GetIfChanged::Changed(Versioned { value: resp.body, version: VersionToken(tag) }))
        }
        304 if req.op == Op::GetIfChanged => Ok(GetIfChanged::Unchanged),
        404 => match error_for(req.op, &req.key, &resp) {
            KvError::Backend(m) if m.contains("NoSuchBucket") => Err(KvError::Backend(m)),
            _ => Ok(GetIfChanged::Missing),
        },
        _ => Err(error_for(req.op, &req.key, &resp)),
    }
}

#[async_trait(?Send)]
impl<T: HttpTransport> Kv for S3Kv<T> {
    async fn get(&self, key: &str) -> std::result::Result<Option<Versioned>, KvError> {
        match self.call(|| self.signer.get(key), read_object).await? {
            GetIfChanged::Changed(v) => Ok(Some(v)),
            GetIfChanged::Missing => Ok(None),
            GetIfChanged::Unchanged => Err(KvError::Backend(format!("S3 GET {key:?}: unexpected 304"))),
        }
    }

    async fn get_range(&self, key: &str, start: u64, len: u64) -> std::result::Result<Option<Vec<u8>>, KvError> {
        if len == 0 {
            return Ok(self.get(key).await?.map(|_| Vec::new()));
        }
        self.call(
            || self.signer.get_range(key, start, len),
            |req, resp| match resp.status {
                206 => Ok(Some(resp.body)),
                // A server that ignores Range sends the whole object.
                200 => Ok(Some(slice(resp.body, start, len))),
                // The range starts past the end: nothing there.
                416 => Ok(Some(Vec::new())),
                404 => match error_for(req.op, &req.key, &resp) {
                    KvError::Backend(m) if m.contains("NoSuchBucket") => Err(KvError::Backend(m)),
                    _ => Ok(None),
                },
                _ => Err(error_for(req.op, &req.key, &resp)),
            },
        )
        .await
    }

    fn supports_ranges(&self) -> bool {
        true
    }

    async fn get_if_changed(&self, key: &str, known: &VersionToken) -> std::result::Result<GetIfChanged, KvError> {
        let out = self.call(|| self.signer.get_if_changed(key, known), read_object).await?;
        Ok(match out {
            GetIfChanged::Unchanged => {
                bump(&self.counters.not_modified);
                GetIfChanged::Unchanged
            }
            // A server that ignores If-None-Match answers 200 with the same ETag.
            GetIfChanged::Changed(v) if &v.version == known => GetIfChanged::Unchanged,
            other => other,
        })
    }

    async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        condition: PutCondition,
    ) -> std::result::Result<VersionToken, KvError> {
        self.call(
            || self.signer.put(key, value.clone(), &condition),
            |req, resp| match resp.status {
                200..=299 => etag(req.op, &req.key, &resp).map(VersionToken),
                _ => Err(error_for(req.op, &req.key, &resp)),
            },
        )
        .await
    }

    async fn delete(&self, key: &str) -> std::result::Result<(), KvError> {
        self.call(
            || self.signer.delete(key),
            |req, resp| match resp.status {
                200..=299 | 404 => Ok(()),
                _ => Err(error_for(req.op, &req.key, &resp)),
            },
        )
        .await
    }

    async fn list(&self, prefix: &str) -> std::result::Result<Vec<String>, KvError> {
        let mut keys = Vec::new();
        let mut continuation: Option<String> = None;
        // A server that hands out a token it gave before (alternating, not just repeating)
        // would page forever: remember every token.
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = self
                .call(
                    || self.signer.list(prefix, continuation.as_deref()),
                    |req, resp| match resp.status {
                        200 => {
                            let text = std::str::from_utf8(&resp.body).map_err(|_| {
                                KvError::Backend(format!("S3 LIST {:?}: response is not UTF-8", req.key))
                            })?;
                            super::list_xml::parse(text).map_err(|e| {
                                KvError::Backend(format!("S3 LIST {:?}: unreadable response: {e}", req.key))
                            })
                        }
                        _ => Err(error_for(req.op, &req.key, &resp)),
                    },
                )
                .await?;
            keys.extend(page.keys.into_iter().filter(|k| k.starts_with(prefix)));
            match page.next {
                Some(next) if seen.insert(next.clone()) => continuation = Some(next),
                Some(_) => {
                    return Err(KvError::Backend(format!(
                        "S3 LIST {prefix:?}: the server repeated a continuation token"
                    )))
                }
                None => break,
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}
