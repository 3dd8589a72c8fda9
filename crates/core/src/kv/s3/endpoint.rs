//! The S3 endpoint URL, parsed once (scheme, authority, base path), and the URLs and `Host`
//! values of a bucket's objects in path style or virtual-hosted style. No URL crate: endpoints
//! are plain `http(s)://host[:port][/base]`.

use crate::error::{Error, Result};

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: String,
    /// Lowercase host (IPv6 in brackets).
    pub host: String,
    /// Explicit port, when it is not the scheme's default.
    pub port: Option<u16>,
    /// Path prefix without a trailing `/` (usually empty).
    pub base_path: String,
}

impl Endpoint {
    /// Parses `http(s)://host[:port][/path]`; credentials, queries and fragments are refused.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid(format!("s3 endpoint {why}"));
        let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("must be an http:// or https:// URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if rest.contains(['?', '#', '@']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain credentials, a query, a fragment or spaces"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                let port: u16 = authority[i + 1..].parse().map_err(|_| bad("has an invalid port"))?;
                (&authority[..i], Some(port))
            }
            _ => (authority, None),
        };
        let host_ok = !host.is_empty()
            && (host.starts_with('[') && host.ends_with(']')
                || host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
        if !host_ok {
            return Err(bad("has an invalid host"));
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        Ok(Endpoint {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.filter(|p| *p != default_port),
            base_path: path.trim_end_matches('/').to_string(),
        })
    }

    /// True for IP addresses and `localhost`, where virtual-hosted URLs cannot work.
    pub fn is_ip_or_localhost(&self) -> bool {
        self.host.starts_with('[')
            || self.host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            || self.host == "localhost"
            || self.host.ends_with(".localhost")
    }

    fn authority(&self, host: &str) -> String {
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }
}

/// Where a bucket's requests go.
#[derive(Debug, Clone)]
pub struct BucketUrls {
    origin: String,
    host: String,
    prefix: String,
}

impl BucketUrls {
    /// URLs of `bucket` at `endpoint`, path style or virtual-hosted.
    pub fn new(endpoint: &Endpoint, bucket: &str, path_style: bool) -> Self {
        let host = if path_style {
            endpoint.authority(&endpoint.host)
        } else {
            endpoint.authority(&format!("{bucket}.{}", endpoint.host))
        };
        let prefix = if path_style { format!("{}/{bucket}", endpoint.base_path) } else { endpoint.base_path.clone() };
        BucketUrls { origin: format!("{}://{host}", endpoint.scheme), host, prefix }
    }

    /// The `Host` header value.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The encoded request path of an object.
    pub fn object_path(&self, key: &str) -> String {
        format!("{}/{}", self.prefix, super::sigv4::uri_encode(key, true))
    }

    /// The request path of bucket-level requests (listing).
    pub fn bucket_path(&self) -> String {
        if self.prefix.is_empty() {
            "/".to_string()
        } else {
            self.prefix.clone()
        }
    }

    /// Full URL of `path` (already encoded) with an encoded query string.
    pub fn url(&self, path: &str, query: &str) -> String {
        if query.is_empty() {
            format!("{}{path}", self.origin)
        } else {
            format!("{}{path}?{query}", self.origin)
        }
    }
}
