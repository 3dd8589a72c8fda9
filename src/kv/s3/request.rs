//! Building signed S3 requests (sans-IO). Requests are SigV4-presigned with rusty-s3: the
//! signature, credential scope and session token travel in the query string, and the
//! conditional headers (`If-Match`, `If-None-Match`) are signed too. Because the URL carries
//! credentials, [`HttpRequest`]'s `Debug` shows only the path.

use std::fmt;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use super::config::S3Config;
use crate::error::{Error, Result};
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
            Op::Get | Op::GetIfChanged => "GET",
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
    /// Presigned URL. Contains the signature (and session token): never log it.
    pub url: String,
    /// Headers to send (lowercase names). The conditional ones are part of the signature.
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
        let path = url::Url::parse(&self.url).map(|u| u.path().to_string()).unwrap_or_default();
        f.debug_struct("HttpRequest")
            .field("op", &self.op)
            .field("method", &self.method)
            .field("path", &path)
            .field("headers", &self.headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// Builds presigned requests for one bucket and one set of credentials.
pub struct S3Signer {
    bucket: Bucket,
    credentials: Credentials,
    expiry: Duration,
}

impl fmt::Debug for S3Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Signer").field("bucket", &self.bucket.name()).finish_non_exhaustive()
    }
}

impl S3Signer {
    /// A signer for `config` (validated first).
    pub fn new(config: &S3Config) -> Result<Self> {
        config.validate()?;
        let endpoint =
            url::Url::parse(&config.endpoint).map_err(|e| Error::invalid(format!("s3 endpoint is not a URL: {e}")))?;
        let style = if config.path_style() { UrlStyle::Path } else { UrlStyle::VirtualHost };
        let bucket = Bucket::new(endpoint, style, config.bucket.clone(), config.region.clone())
            .map_err(|e| Error::invalid(format!("s3 bucket URL cannot be built: {e}")))?;
        let credentials = match &config.session_token {
            Some(t) => {
                Credentials::new_with_token(config.access_key_id.clone(), config.secret_access_key.clone(), t.clone())
            }
            None => Credentials::new(config.access_key_id.clone(), config.secret_access_key.clone()),
        };
        Ok(S3Signer { bucket, credentials, expiry: config.presign_expiry })
    }

    /// The bucket's base URL (no credentials in it).
    pub fn base_url(&self) -> &str {
        self.bucket.base_url().as_str()
    }

    fn finish(
        &self,
        op: Op,
        method: HttpMethod,
        url: url::Url,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        key: &str,
    ) -> HttpRequest {
        HttpRequest { op, method, url: url.into(), headers, body, key: key.to_string() }
    }

    /// `GET key`.
    pub fn get(&self, key: &str) -> HttpRequest {
        let action = self.bucket.get_object(Some(&self.credentials), key);
        self.finish(Op::Get, HttpMethod::Get, action.sign(self.expiry), Vec::new(), None, key)
    }

    /// `GET key` with `If-None-Match: <etag>` (304 when unchanged).
    pub fn get_if_changed(&self, key: &str, known: &VersionToken) -> HttpRequest {
        let mut action = self.bucket.get_object(Some(&self.credentials), key);
        action.headers_mut().insert("if-none-match", known.0.clone());
        let headers = vec![("if-none-match".to_string(), known.0.clone())];
        self.finish(Op::GetIfChanged, HttpMethod::Get, action.sign(self.expiry), headers, None, key)
    }

    /// `PUT key` under `condition`: nothing, `If-None-Match: *` or `If-Match: <etag>`.
    pub fn put(&self, key: &str, body: Vec<u8>, condition: &PutCondition) -> HttpRequest {
        let mut action = self.bucket.put_object(Some(&self.credentials), key);
        let (op, cond) = match condition {
            PutCondition::Any => (Op::PutAny, None),
            PutCondition::IfAbsent => (Op::PutIfAbsent, Some(("if-none-match", "*".to_string()))),
            PutCondition::IfVersion(t) => (Op::PutIfVersion, Some(("if-match", t.0.clone()))),
        };
        let mut headers = vec![("content-type".to_string(), "application/octet-stream".to_string())];
        if let Some((name, value)) = cond {
            action.headers_mut().insert(name, value.clone());
            headers.push((name.to_string(), value));
        }
        self.finish(op, HttpMethod::Put, action.sign(self.expiry), headers, Some(body), key)
    }

    /// `DELETE key`.
    pub fn delete(&self, key: &str) -> HttpRequest {
        let action = self.bucket.delete_object(Some(&self.credentials), key);
        self.finish(Op::Delete, HttpMethod::Delete, action.sign(self.expiry), Vec::new(), None, key)
    }

    /// One page of `ListObjectsV2` under `prefix` (at most 1,000 keys), continuing after
    /// `continuation` when given.
    pub fn list(&self, prefix: &str, continuation: Option<&str>) -> HttpRequest {
        let mut action = self.bucket.list_objects_v2(Some(&self.credentials));
        action.with_prefix(prefix.to_string());
        if let Some(token) = continuation {
            action.with_continuation_token(token.to_string());
        }
        self.finish(Op::List, HttpMethod::Get, action.sign(self.expiry), Vec::new(), None, prefix)
    }
}
