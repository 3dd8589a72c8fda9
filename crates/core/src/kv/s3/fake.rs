//! An in-memory S3 for the native tests: it reads the signed requests S3Kv builds (path-style
//! URLs, signed conditional headers), applies the S3 conditional-write rules, pages listings,
//! uses content-hash ETags like S3, and injects scripted faults.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use super::client::{HttpTransport, TransportError};
use super::request::{HttpMethod, HttpRequest};
use super::response::HttpResponse;

/// A scripted failure for the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No fault: handle the request normally (a placeholder in a script).
    Pass,
    /// Answer with this status and S3 error code without applying the request.
    Status(u16, &'static str),
    /// Apply the request, then answer with this status (an ambiguous outcome).
    StatusAfterApply(u16),
    /// No answer; the request was not applied.
    Drop,
    /// Apply the request, then lose the answer (connection cut).
    DropAfterApply,
    /// Answer 200 with this body without applying the request (a scripted listing page).
    Body(&'static str),
}

/// The in-memory S3 server.
pub struct FakeS3 {
    bucket: String,
    objects: Mutex<BTreeMap<String, (Vec<u8>, String)>>,
    faults: Mutex<VecDeque<Fault>>,
    page_size: usize,
    /// Every request seen: (method, decoded key or list prefix, status or 0 for dropped).
    pub log: Mutex<Vec<(HttpMethod, String, u16)>>,
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{:08x}{:08x}\"", crc32fast::hash(body), body.len())
}

fn error(status: u16, code: &str) -> HttpResponse {
    let body =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>m</Message></Error>");
    HttpResponse { status, etag: None, body: body.into_bytes() }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex =
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl FakeS3 {
    /// An empty bucket named `bucket` listing `page_size` keys per page.
    pub fn new(bucket: &str, page_size: usize) -> Self {
        FakeS3 {
            bucket: bucket.to_string(),
            objects: Mutex::new(BTreeMap::new()),
            faults: Mutex::new(VecDeque::new()),
            page_size,
            log: Mutex::new(Vec::new()),
        }
    }

    /// Queues faults for the next requests, in order.
    pub fn inject(&self, faults: &[Fault]) {
        self.faults.lock().unwrap().extend(faults.iter().copied());
    }

    /// The stored bytes of a key.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.objects.lock().unwrap().get(key).map(|(b, _)| b.clone())
    }

    fn handle(&self, req: &HttpRequest) -> HttpResponse {
        let after_scheme = req.url.split_once("://").map(|(_, r)| r).unwrap_or("");
        let path_and_query = after_scheme.find('/').map(|i| &after_scheme[i..]).unwrap_or("/");
        let (raw_path, raw_query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let query: BTreeMap<String, String> = raw_query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        let Some(auth) = req.header("authorization") else {
            return error(403, "AccessDenied");
        };
        let signed = auth.split("SignedHeaders=").nth(1).and_then(|r| r.split(',').next()).unwrap_or("");
        for (name, _) in &req.headers {
            let must_sign = name.starts_with("if-") || name.starts_with("x-amz-") || name == "range";
            if must_sign && !signed.split(';').any(|s| s == name) {
                return error(403, "SignatureDoesNotMatch");
            }
        }
        let path = percent_decode(raw_path);
        if req.method == HttpMethod::Get && query.contains_key("list-type") && path == format!("/{}", self.bucket) {
            return self.list(&self.objects.lock().unwrap(), &query);
        }
        let Some(key) = path.strip_prefix(&format!("/{}/", self.bucket)).map(str::to_string) else {
            return error(404, "NoSuchBucket");
        };
        let mut objects = self.objects.lock().unwrap();
        match req.method {
            HttpMethod::Get => match objects.get(&key) {
                None => error(404, "NoSuchKey"),
                Some((_, tag)) if req.header("if-none-match") == Some(tag.as_str()) => {
                    HttpResponse { status: 304, etag: Some(tag.clone()), body: Vec::new() }
                }
                Some((body, tag)) => match req.header("range").and_then(parse_range) {
                    Some((a, _)) if a >= body.len() as u64 => error(416, "InvalidRange"),
                    Some((a, b)) => {
                        let end = (b.saturating_add(1)).min(body.len() as u64) as usize;
                        HttpResponse { status: 206, etag: Some(tag.clone()), body: body[a as usize..end].to_vec() }
                    }
                    None => HttpResponse { status: 200, etag: Some(tag.clone()), body: body.clone() },
                },
            },
            HttpMethod::Put => {
                let current = objects.get(&key).map(|(_, t)| t.clone());
                if req.header("if-none-match") == Some("*") && current.is_some() {
                    return error(412, "PreconditionFailed");
                }
                if let Some(want) = req.header("if-match") {
                    match &current {
                        None => return error(404, "NoSuchKey"),
                        Some(t) if t != want => return error(412, "PreconditionFailed"),
                        Some(_) => {}
                    }
                }
                let body = req.body.clone().unwrap_or_default();
                let tag = etag_of(&body);
                objects.insert(key, (body, tag.clone()));
                HttpResponse { status: 200, etag: Some(tag), body: Vec::new() }
            }
            HttpMethod::Delete => {
                objects.remove(&key);
                HttpResponse { status: 204, etag: None, body: Vec::new() }
            }
        }
    }

    fn list(&self, objects: &BTreeMap<String, (Vec<u8>, String)>, q: &BTreeMap<String, String>) -> HttpResponse {
        let prefix = q.get("prefix").cloned().unwrap_or_default();
        let after = q.get("continuation-token").map(|t| t.trim_start_matches("tok:").to_string());
        let matching: Vec<(&String, &(Vec<u8>, String))> =
            objects.iter().filter(|(k, _)| k.starts_with(&prefix) && after.as_ref().is_none_or(|a| *k > a)).collect();
        let truncated = matching.len() > self.page_size;
        let page = &matching[..matching.len().min(self.page_size)];
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        xml += &format!("<Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{}</MaxKeys><EncodingType>url</EncodingType><IsTruncated>{truncated}</IsTruncated>",
            self.bucket, url_encode(&prefix), page.len(), self.page_size);
        for (k, (body, tag)) in page {
            xml += &format!(
                "<Contents><Key>{}</Key><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                url_encode(k),
                tag.replace('"', "&quot;"),
                body.len()
            );
        }
        if truncated {
            xml +=
                &format!("<NextContinuationToken>tok:{}</NextContinuationToken>", url_encode(page[page.len() - 1].0));
        }
        xml += "</ListBucketResult>";
        HttpResponse { status: 200, etag: None, body: xml.into_bytes() }
    }
}

#[async_trait(?Send)]
impl HttpTransport for FakeS3 {
    async fn send(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let fault = self.faults.lock().unwrap().pop_front();
        let (result, status) = match fault {
            None | Some(Fault::Pass) => {
                let r = self.handle(req);
                let s = r.status;
                (Ok(r), s)
            }
            Some(Fault::Status(s, code)) => (Ok(error(s, code)), s),
            Some(Fault::StatusAfterApply(s)) => {
                self.handle(req);
                (Ok(error(s, "InternalError")), s)
            }
            Some(Fault::Body(b)) => (Ok(HttpResponse { status: 200, etag: None, body: b.as_bytes().to_vec() }), 200),
            Some(Fault::Drop) => (Err(TransportError { message: "connection refused".into() }), 0),
            Some(Fault::DropAfterApply) => {
                self.handle(req);
                (Err(TransportError { message: "connection reset".into() }), 0)
            }
        };
        self.log.lock().unwrap().push((req.method, req.key.clone(), status));
        result
    }
}

/// `bytes=a-b` → `(a, b)`.
fn parse_range(h: &str) -> Option<(u64, u64)> {
    let (a, b) = h.strip_prefix("bytes=")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
