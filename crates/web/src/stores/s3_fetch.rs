//! The S3 transport on wasm32: the JS global `fetch`, so the same code runs in Node ≥ 20,
//! browsers and workerd. GETs ask for `cache: 'no-store'` (a cached manifest would be a stale
//! version); runtimes that reject that field get requests without it. Every request has a
//! timeout (`AbortSignal.timeout`). Error messages are scrubbed of the URL's query and of every
//! secret.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use js_sys::{Function, Object, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::js::{method, prop, set};
use akidb_core::error::Result;
use akidb_core::kv::s3::{HttpMethod, HttpRequest, HttpResponse, HttpTransport, S3Config, S3Kv, TransportError};
use akidb_core::kv::RetryingKv;

/// `fetch`-based [`HttpTransport`].
pub struct FetchTransport {
    timeout_ms: f64,
    secrets: Vec<String>,
    // Cleared once a runtime rejects `cache: 'no-store'`.
    no_store: AtomicBool,
}

/// An S3 store over `fetch`, its idempotent requests retried with `read_retry`.
pub type FetchS3Kv = RetryingKv<S3Kv<FetchTransport>>;

/// Opens an S3 store over `fetch` for `config` (validated; no request is sent).
pub fn open(config: &S3Config) -> Result<FetchS3Kv> {
    let transport = FetchTransport {
        timeout_ms: config.request_timeout.as_secs_f64() * 1000.0,
        secrets: config.secrets().into_iter().map(str::to_string).collect(),
        no_store: AtomicBool::new(true),
    };
    S3Kv::retrying(config, transport)
}

fn function(obj: &JsValue, key: &str) -> Option<Function> {
    method(obj, key)
}

/// The message of a thrown JS value, with its `cause` (Node puts the socket error there).
fn js_message(e: &JsValue) -> String {
    let text = |v: &JsValue| {
        v.as_string().or_else(|| prop(v, "message").as_string()).unwrap_or_else(|| "unknown error".to_string())
    };
    let mut msg = format!("{}{}", prop(e, "name").as_string().map(|n| format!("{n}: ")).unwrap_or_default(), text(e));
    let cause = prop(e, "cause");
    if cause.is_object() {
        let code = prop(&cause, "code").as_string().map(|c| format!("{c} ")).unwrap_or_default();
        msg.push_str(&format!(" ({code}{})", text(&cause)));
    }
    msg
}

impl FetchTransport {
    /// Removes the URL's query and every secret from `msg`, and bounds its length.
    fn scrub(&self, msg: &str, url: &str) -> String {
        let mut out = msg.replace(url, url.split('?').next().unwrap_or(""));
        for s in &self.secrets {
            out = out.replace(s.as_str(), "<redacted>");
        }
        out.chars().take(400).collect()
    }

    fn init(&self, req: &HttpRequest, no_store: bool) -> Object {
        let init = Object::new();
        set(&init, "method", &JsValue::from_str(req.method.as_str()));
        let headers = Object::new();
        for (name, value) in &req.headers {
            set(&headers, name, &JsValue::from_str(value));
        }
        set(&init, "headers", &headers);
        // Never follow a redirect: it would carry the signed headers (and the session token)
        // to another host. A 3xx (or a browser's opaque redirect, status 0) is an error.
        set(&init, "redirect", &JsValue::from_str("manual"));
        if let Some(body) = &req.body {
            set(&init, "body", &Uint8Array::from(body.as_slice()));
        }
        if no_store && req.method == HttpMethod::Get {
            set(&init, "cache", &JsValue::from_str("no-store"));
        }
        let global = js_sys::global();
        let abort = prop(&global, "AbortSignal");
        if let Some(timeout) = function(&abort, "timeout") {
            if let Ok(signal) = timeout.call1(&abort, &JsValue::from_f64(self.timeout_ms)) {
                set(&init, "signal", &signal);
            }
        }
        init
    }

    /// One `fetch` call.
    async fn fetch_once(&self, req: &HttpRequest, no_store: bool) -> std::result::Result<JsValue, JsValue> {
        let global = js_sys::global();
        let fetch = function(&global, "fetch").ok_or_else(|| JsValue::from_str("no global fetch in this runtime"))?;
        let promise = fetch.call2(&global, &JsValue::from_str(&req.url), &self.init(req, no_store))?;
        JsFuture::from(js_sys::Promise::from(promise)).await
    }

    /// Starts `fetch`, falling back to no `cache` field where the runtime rejects it.
    async fn fetch(&self, req: &HttpRequest) -> std::result::Result<JsValue, JsValue> {
        let no_store = self.no_store.load(Ordering::Relaxed) && req.method == HttpMethod::Get;
        match self.fetch_once(req, no_store).await {
            Err(e) if no_store && js_message(&e).contains("cache") => {
                self.no_store.store(false, Ordering::Relaxed);
                self.fetch_once(req, false).await
            }
            other => other,
        }
    }
}

#[async_trait(?Send)]
impl HttpTransport for FetchTransport {
    async fn send(&self, req: &HttpRequest) -> std::result::Result<HttpResponse, TransportError> {
        let fail = |e: JsValue| TransportError { message: self.scrub(&js_message(&e), &req.url) };
        let resp = self.fetch(req).await.map_err(fail)?;
        let status = prop(&resp, "status").as_f64().unwrap_or(0.0) as u16;
        let headers = prop(&resp, "headers");
        let etag = function(&headers, "get")
            .and_then(|g| g.call1(&headers, &JsValue::from_str("etag")).ok())
            .and_then(|v| v.as_string());
        let buffer = match function(&resp, "arrayBuffer") {
            Some(f) => JsFuture::from(js_sys::Promise::from(f.call0(&resp).map_err(fail)?)).await.map_err(fail)?,
            None => return Err(TransportError { message: "fetch response has no body reader".into() }),
        };
        Ok(HttpResponse { status, etag, body: Uint8Array::new(&buffer).to_vec() })
    }
}
