//! Building signed S3 requests (sans-IO): URL, headers and a SigV4 `Authorization` header
//! ([`super::sigv4`]). Conditional headers (`If-Match`, `If-None-Match`) and the session token
//! are signed. [`HttpRequest`]'s `Debug` hides the signature and the token.

use std::fmt;

use super::config::S3Config;
use super::endpoint::{BucketUrls, Endpoint};
use super::sigv4::{self, SigningInput, EMPTY_SHA256};
use crate::error::Result;
use crate::kv::{PutCondition, VersionToken};

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method name for the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// What a request does, which decides how its answer is read and whether it may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Read an object.
    Get,
    /// Read an object unless its ETag still matches (`If-None-Match`).
    GetIfChanged,
    /// Read a byte range of an object (`Range: bytes=a-b`, signed).
    GetRange,
    /// Unconditional write.
    PutAny,
    /// Create-only write (`If-None-Match: *`).
    PutIfAbsent,
    /// Compare-and-swap write (`If-Match`).
    PutIfVersion,
    /// Delete an object.
    Delete,
    /// One page of `ListObjectsV2`.
    List,
}

impl Op {
    /// True for requests whose repetition cannot change the outcome, so the backend retries
    /// them itself on transient failures. Conditional PUTs are not: a retry of a create-only
    /// put that had landed would report "already exists".
    pub fn idempotent(self) -> bool {
        !matches!(self, Op::PutIfAbsent | Op::PutIfVersion)
    }

    /// True for requests that change the bucket.
    pub fn is_write(self) -> bool {
        matches!(self, Op::PutAny | Op::PutIfAbsent | Op::PutIfVersion | Op::Delete)
    }

    /// Short name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Op::Get | Op::GetIfChanged | Op::GetRange => "GET",
            Op::PutAny | Op::PutIfAbsent | Op::PutIfVersion => "PUT",
            Op::Delete => "DELETE",
            Op::List => "LIST",
        }
    }
}

/// A fully built, signed request, ready for any HTTP client.
#[derive(Clone)]
pub struct HttpRequest {
    /// What the request does.
    pub op: Op,
    /// HTTP method.
    pub method: HttpMethod,
    /// Full URL (no credentials in it).
    pub url: String,
    /// Headers to send (lowercase names), `authorization` included. Never log their values.
    pub headers: Vec<(String, String)>,
    /// Request body (PUT only).
    pub body: Option<Vec<u8>>,
    /// The object key, or the prefix of a listing, for messages.
    pub key: String,
}

impl HttpRequest {
    /// A header's value, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| match n.as_str() {
                "authorization" | "x-amz-security-token" => (n.as_str(), "<redacted>"),
                _ => (n.as_str(), v.as_str()),
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("op", &self.op)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// Builds signed requests for one bucket and one set of credentials.
pub struct S3Signer {
    urls: BucketUrls,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl fmt::Debug for S3Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Signer")
            .field("host", &self.urls.host())
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl S3Signer {
    /// A signer for `config` (validated first).
    pub fn new(config: &S3Config) -> Result<Self> {
        config.validate()?;
        let endpoint = Endpoint::parse(&config.endpoint)?;
        Ok(S3Signer {
            urls: BucketUrls::new(&endpoint, &config.bucket, config.path_style()),
            region: config.region.clone(),
            access_key_id: config.access_key_id.clone(),
            secret_access_key: config.secret_access_key.clone(),
            session_token: config.session_token.clone(),
        })
    }

    /// The URL of bucket-level requests (no credentials in it).
    pub fn base_url(&self) -> String {
        self.urls.url(&self.urls.bucket_path(), "")
    }

    /// Signs and assembles one request.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        op: Op,
        method: HttpMethod,
        path: String,
        query: Vec<(String, String)>,
        extra: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        key: &str,
    ) -> HttpRequest {
        let (amz_date, _) = sigv4::amz_dates(crate::runtime::unix_ms());
        let payload_hash = match &body {
            Some(b) => sigv4::sha256_hex(b),
            None => EMPTY_SHA256.to_string(),
        };
        let mut signed = vec![
            ("host".to_string(), self.urls.host().to_string()),
            ("x-amz-content-sha256".to_string(), payload_hash.clone()),
            ("x-amz-date".to_string(), amz_date.clone()),
        ];
        if let Some(t) = &self.session_token {
            signed.push(("x-amz-security-token".to_string(), t.clone()));
        }
        signed.extend(extra);
        let authorization = sigv4::authorization(&SigningInput {
            method: method.as_str(),
            path: &path,
            query: &query,
            headers: &signed,
            payload_hash: &payload_hash,
            amz_date: &amz_date,
            region: &self.region,
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
        });
        // `host` is set by the HTTP client from the URL (browsers forbid setting it).
        let mut headers: Vec<(String, String)> = signed.into_iter().filter(|(n, _)| n != "host").collect();
        headers.push(("authorization".to_string(), authorization));
        if body.is_some() {
            headers.push(("content-type".to_string(), "application/octet-stream".to_string()));
        }
        let url = self.urls.url(&path, &sigv4::canonical_query(&query));
        HttpRequest { op, method, url, headers, body, key: key.to_string() }
    }

    /// `GET key`.
    pub fn get(&self, key: &str) -> HttpRequest {
        self.build(Op::Get, HttpMethod::Get, self.urls.object_path(key), Vec::new(), Vec::new(), None, key)
    }

    /// `GET key` with `If-None-Match: <etag>` (304 when unchanged).
    pub fn get_if_changed(&self, key: &str, known: &VersionToken) -> HttpRequest {
        let cond = vec![("if-none-match".to_string(), known.0.clone())];
        self.build(Op::GetIfChanged, HttpMethod::Get, self.urls.object_path(key), Vec::new(), cond, None, key)
    }

    /// `GET key` of bytes `start..start + len` (`len` ≥ 1), with a signed `Range` header.
    pub fn get_range(&self, key: &str, start: u64, len: u64) -> HttpRequest {
        let last = start.saturating_add(len.max(1) - 1);
        let range = vec![("range".to_string(), format!("bytes={start}-{last}"))];
        self.build(Op::GetRange, HttpMethod::Get, self.urls.object_path(key), Vec::new(), range, None, key)
    }

    /// `PUT key` under `condition`: nothing, `If-None-Match: *` or `If-Match: <etag>`.
    pub fn put(&self, key: &str, body: Vec<u8>, condition: &PutCondition) -> HttpRequest {
        let (op, cond) = match condition {
            PutCondition::Any => (Op::PutAny, Vec::new()),
            PutCondition::IfAbsent => (Op::PutIfAbsent, vec![("if-none-match".to_string(), "*".to_string())]),
            PutCondition::IfVersion(t) => (Op::PutIfVersion, vec![("if-match".to_string(), t.0.clone())]),
        };
        self.build(op, HttpMethod::Put, self.urls.object_path(key), Vec::new(), cond, Some(body), key)
    }

    /// `DELETE key`.
    pub fn delete(&self, key: &str) -> HttpRequest {
        self.build(Op::Delete, HttpMethod::Delete, self.urls.object_path(key), Vec::new(), Vec::new(), None, key)
    }

    /// One page of `ListObjectsV2` under `prefix` (at most 1,000 keys), continuing after
    /// `continuation` when given.
    pub fn list(&self, prefix: &str, continuation: Option<&str>) -> HttpRequest {
        let mut query = vec![
            ("list-type".to_string(), "2".to_string()),
            ("prefix".to_string(), prefix.to_string()),
            ("encoding-type".to_string(), "url".to_string()),
        ];
        if let Some(token) = continuation {
            query.push(("continuation-token".to_string(), token.to_string()));
        }
        self.build(Op::List, HttpMethod::Get, self.urls.bucket_path(), query, Vec::new(), None, prefix)
    }
}
