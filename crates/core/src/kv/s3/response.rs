//! Reading S3 answers (sans-IO): status codes and S3 error codes become KV results and
//! [`KvError`]s, following the S3 conditional-write semantics. Error messages name the
//! operation, the key and the S3 error code, never the body (AWS echoes the canonical request,
//! which contains the session token, in `SignatureDoesNotMatch` bodies).

use super::request::Op;
use crate::kv::KvError;

/// The parts of an HTTP response the backend needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The `ETag` header, verbatim (quotes included).
    pub etag: Option<String>,
    /// Response body.
    pub body: Vec<u8>,
}

/// S3 error codes that mean the credentials or their permissions were rejected.
const AUTH_CODES: &[&str] = &[
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AccessDenied",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "RequestTimeTooSkewed",
    "AuthorizationQueryParametersError",
    "AuthorizationHeaderMalformed",
    "InvalidSecurity",
    "AllAccessDisabled",
    "AccountProblem",
];

/// The `<Code>` of an S3 XML error body, when there is one.
pub fn error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    let code = text[start..start + len].trim();
    let plausible = !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric());
    plausible.then(|| code.to_string())
}

fn describe(op: Op, key: &str, status: u16, code: Option<&str>) -> String {
    match code {
        Some(c) => format!("S3 {} {key:?}: HTTP {status} {c}", op.name()),
        None => format!("S3 {} {key:?}: HTTP {status}", op.name()),
    }
}

/// The error for a response that is not a success of `op`.
pub fn error_for(op: Op, key: &str, resp: &HttpResponse) -> KvError {
    let code = error_code(&resp.body);
    let code = code.as_deref();
    let msg = || describe(op, key, resp.status, code);
    match (resp.status, code) {
        (412, _) => KvError::PreconditionFailed,
        // If-Match on a missing key: S3 answers 404 NoSuchKey; the condition did not hold.
        (404, Some("NoSuchBucket")) => KvError::Backend(format!("{}: the bucket does not exist", msg())),
        (404, _) if op == Op::PutIfVersion => KvError::PreconditionFailed,
        (_, Some(c)) if AUTH_CODES.contains(&c) => KvError::Auth(msg()),
        (401 | 403, _) => KvError::Auth(msg()),
        // A concurrent conditional write raced this one (ConditionalRequestConflict): not
        // applied, safe to retry after re-reading.
        (409, _) | (400, Some("RequestTimeout")) => KvError::Transient { message: msg(), ambiguous: false },
        // Throttling and server errors: S3 usually has not applied a write it answers with 503
        // SlowDown, but a proxy or gateway in between may answer 5xx after the write went
        // through. Any of these after a write is "may have landed"; the commit loop resolves it.
        (429 | 500..=599, _) => KvError::Transient { message: msg(), ambiguous: op.is_write() },
        _ => KvError::Backend(msg()),
    }
}

/// The version token of a successful response, required for reads and writes alike.
pub fn etag(op: Op, key: &str, resp: &HttpResponse) -> Result<String, KvError> {
    match resp.etag.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() => Ok(e.to_string()),
        // A write without an ETag in its answer did land; the caller's commit loop re-reads.
        _ if op.is_write() => Err(KvError::Transient {
            message: format!("S3 {} {key:?}: response has no ETag header", op.name()),
            ambiguous: true,
        }),
        _ => Err(KvError::Backend(format!(
            "S3 {} {key:?}: response has no ETag header (in browsers, the bucket's CORS rules must expose ETag)",
            op.name()
        ))),
    }
}
