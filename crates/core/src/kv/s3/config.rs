//! Configuration of the S3 backend, validated once. Secrets are kept out of `Debug` output and
//! out of every error message.

use std::fmt;
use std::time::Duration;

use super::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::retry::{Jitter, RetryPolicy};

/// Where and how to reach an S3-compatible bucket.
#[derive(Clone)]
pub struct S3Config {
    /// Service endpoint, e.g. `https://s3.us-east-1.amazonaws.com`,
    /// `https://<account>.r2.cloudflarestorage.com` or `http://127.0.0.1:4567`.
    pub endpoint: String,
    /// Signing region (`auto` for R2).
    pub region: String,
    /// Bucket name.
    pub bucket: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key. Never printed.
    pub secret_access_key: String,
    /// Session token of temporary credentials. Never printed.
    pub session_token: Option<String>,
    /// Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted ones
    /// (`bucket.endpoint/key`). `None`: path style only for IP addresses and `localhost`.
    pub force_path_style: Option<bool>,
    /// Abort a request that takes longer than this (counts as a transient, ambiguous failure).
    pub request_timeout: Duration,
    /// Retries of idempotent requests (GET, LIST, DELETE, unconditional PUT) on transient
    /// failures. Conditional PUTs are never retried here: the commit loop resolves them.
    pub read_retry: RetryPolicy,
}

impl S3Config {
    /// A configuration with the defaults: region `us-east-1`, automatic URL style, 30 s
    /// timeout, 4 retries of idempotent requests (25 ms doubling to 1 s, full jitter).
    pub fn new(
        endpoint: impl Into<String>,
        bucket: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        S3Config {
            endpoint: endpoint.into(),
            region: "us-east-1".into(),
            bucket: bucket.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            force_path_style: None,
            request_timeout: Duration::from_secs(30),
            read_retry: Self::default_read_retry(),
        }
    }

    /// The default retry schedule of idempotent requests.
    pub fn default_read_retry() -> RetryPolicy {
        RetryPolicy {
            max_retries: 4,
            initial_backoff: Duration::from_millis(25),
            max_backoff: Duration::from_millis(1000),
            multiplier: 2.0,
            jitter: Jitter::Full,
            max_elapsed: None,
        }
    }

    /// Checks every field; errors name the field, never a secret's value.
    pub fn validate(&self) -> Result<()> {
        Endpoint::parse(&self.endpoint)?;
        let bucket_ok = (3..=63).contains(&self.bucket.len())
            && self.bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(Error::invalid(format!(
                "s3 bucket {:?} is not a valid bucket name (3-63 of a-z, 0-9, '-', '.')",
                self.bucket
            )));
        }
        if self.region.is_empty() || !self.region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::invalid(format!("s3 region {:?} is not valid", self.region)));
        }
        if self.access_key_id.is_empty() || self.access_key_id.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(Error::invalid("s3 accessKeyId is missing or malformed"));
        }
        if self.secret_access_key.is_empty() {
            return Err(Error::invalid("s3 secretAccessKey is missing"));
        }
        if self.session_token.as_deref() == Some("") {
            return Err(Error::invalid("s3 sessionToken is empty"));
        }
        if self.request_timeout.is_zero() {
            return Err(Error::invalid("s3 requestTimeoutMs must be positive"));
        }
        self.read_retry.validate()
    }

    /// Whether requests use path-style URLs.
    pub fn path_style(&self) -> bool {
        self.force_path_style
            .unwrap_or_else(|| Endpoint::parse(&self.endpoint).map(|e| e.is_ip_or_localhost()).unwrap_or(false))
    }

    /// Every secret of this configuration, for scrubbing messages from the transport.
    pub fn secrets(&self) -> Vec<&str> {
        let mut s = vec![self.secret_access_key.as_str()];
        if let Some(t) = &self.session_token {
            s.push(t);
        }
        s
    }
}

/// Shows at most the first four characters of an access key id.
fn masked(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    format!("{head}…")
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &masked(&self.access_key_id))
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("force_path_style", &self.force_path_style)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}
