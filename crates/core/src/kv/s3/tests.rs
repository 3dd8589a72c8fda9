//! Native tests of the S3 backend against the in-memory S3 ([`super::fake`]): the shared KV
//! conformance suite (with pagination), request building, the answer table, retries, secrets,
//! and the commit protocol over ambiguous S3 answers.

use std::sync::Arc;
use std::time::Duration;

use futures::executor::block_on;

use super::fake::{FakeS3, Fault};
use super::request::{HttpMethod, Op, S3Signer};
use super::response::{error_code, error_for, HttpResponse};
use super::{S3Config, S3Kv};
use crate::distance::Distance;
use crate::kv::conformance::{run_all_with_tokens, ConformanceOptions, TokenModel};
use crate::kv::{GetIfChanged, Kv, KvError, PutCondition, RetryingKv, VersionToken};
use crate::record::Record;
use crate::storage::Storage;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN";

fn config() -> S3Config {
    let mut c = S3Config::new("http://127.0.0.1:9000", "akidb-test", "AKIAIOSFODNN7EXAMPLE", SECRET);
    c.session_token = Some(TOKEN.into());
    c.read_retry.initial_backoff = Duration::from_millis(1);
    c
}

/// The S3 store as callers build it: single-shot requests behind the retrying wrapper.
fn kv(page_size: usize) -> RetryingKv<S3Kv<FakeS3>> {
    S3Kv::retrying(&config(), FakeS3::new("akidb-test", page_size)).unwrap()
}

fn resp(status: u16, code: &str) -> HttpResponse {
    HttpResponse { status, etag: None, body: format!("<Error><Code>{code}</Code></Error>").into_bytes() }
}

#[test]
fn conformance_suite_passes_across_list_pages() {
    let s3 = kv(1000);
    let opts = ConformanceOptions { many_keys: 1100, ..Default::default() };
    block_on(run_all_with_tokens(&s3, "conf/", &opts, TokenModel::ContentHash)).unwrap();
    assert!(s3.inner().stats().list_pages >= 2 + 2, "1,100 keys need two pages");
}

#[test]
fn unique_token_model_does_not_fit_s3() {
    // S3 ETags are content hashes: the strict no-ABA check must fail, which is why the S3
    // suite runs with TokenModel::ContentHash (see the module docs for why AkiDB is safe).
    let s3 = kv(1000);
    let err = block_on(run_all_with_tokens(&s3, "strict/", &ConformanceOptions::default(), TokenModel::Unique));
    assert!(err.unwrap_err().contains("ABA"));
}

#[test]
fn conditional_headers_are_sent_and_signed() {
    let signer = S3Signer::new(&config()).unwrap();
    let signed = |r: &super::HttpRequest| {
        let auth = r.header("authorization").unwrap().to_string();
        auth.split("SignedHeaders=").nth(1).unwrap().split(',').next().unwrap().to_string()
    };
    let r = signer.put("a/b c.json", b"x".to_vec(), &PutCondition::IfAbsent);
    assert_eq!(r.op, Op::PutIfAbsent);
    assert_eq!(r.header("if-none-match"), Some("*"));
    assert_eq!(r.url, "http://127.0.0.1:9000/akidb-test/a/b%20c.json");
    assert_eq!(signed(&r), "host;if-none-match;x-amz-content-sha256;x-amz-date;x-amz-security-token");
    assert_eq!(r.header("x-amz-content-sha256"), Some(super::sigv4::sha256_hex(b"x").as_str()));
    assert_eq!(r.header("x-amz-security-token"), Some(TOKEN));
    let r = signer.put("k", Vec::new(), &PutCondition::IfVersion(VersionToken("\"abc\"".into())));
    assert_eq!(r.header("if-match"), Some("\"abc\""));
    assert!(signed(&r).contains("if-match"));
    let r = signer.get_if_changed("k", &VersionToken("\"abc\"".into()));
    assert_eq!((r.method, r.header("if-none-match")), (HttpMethod::Get, Some("\"abc\"")));
    assert!(signed(&r).contains("if-none-match"));
    let r = signer.list("p/", Some("to/k=n"));
    assert_eq!(
        r.url,
        "http://127.0.0.1:9000/akidb-test?continuation-token=to%2Fk%3Dn&encoding-type=url&list-type=2&prefix=p%2F"
    );
}

#[test]
fn url_style_follows_the_endpoint() {
    let mut c = config();
    c.endpoint = "https://s3.eu-west-1.amazonaws.com".into();
    c.region = "eu-west-1".into();
    assert!(!c.path_style());
    assert_eq!(S3Signer::new(&c).unwrap().base_url(), "https://akidb-test.s3.eu-west-1.amazonaws.com/");
    assert_eq!(S3Signer::new(&c).unwrap().get("x/y").url, "https://akidb-test.s3.eu-west-1.amazonaws.com/x/y");
    c.force_path_style = Some(true);
    assert_eq!(S3Signer::new(&c).unwrap().base_url(), "https://s3.eu-west-1.amazonaws.com/akidb-test");
    c.endpoint = "https://gateway.example:8443/s3/".into();
    assert_eq!(S3Signer::new(&c).unwrap().get("k").url, "https://gateway.example:8443/s3/akidb-test/k");
    c.endpoint = "http://localhost:4567".into();
    c.force_path_style = None;
    assert!(c.path_style());
    c.endpoint = "https://host:443".into();
    assert_eq!(super::endpoint::Endpoint::parse(&c.endpoint).unwrap().port, None, "default port dropped");
}

#[test]
fn bad_config_is_rejected_without_echoing_secrets() {
    for edit in [
        (|c: &mut S3Config| c.endpoint = "ftp://x".into()) as fn(&mut S3Config),
        |c| c.endpoint = "not a url".into(),
        |c| c.endpoint = format!("http://user:{SECRET}@host"),
        |c| c.endpoint = "http://host:99999".into(),
        |c| c.endpoint = "http://ho st".into(),
        |c| c.endpoint = "http://host/?a=b".into(),
        |c| c.bucket = "Bad_Bucket".into(),
        |c| c.region = String::new(),
        |c| c.access_key_id = String::new(),
        |c| c.secret_access_key = String::new(),
    ] {
        let mut c = config();
        edit(&mut c);
        let e = S3Signer::new(&c).unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
        assert!(!e.to_string().contains(SECRET), "{e}");
    }
}

#[test]
fn debug_output_has_no_secrets() {
    let c = config();
    let signer = S3Signer::new(&c).unwrap();
    let req = signer.put("k", b"v".to_vec(), &PutCondition::Any);
    for text in [format!("{c:?}"), format!("{req:?}"), format!("{signer:?}")] {
        assert!(!text.contains(SECRET) && !text.contains(TOKEN) && !text.contains("Signature="), "{text}");
    }
    assert_eq!(req.header("x-amz-security-token"), Some(TOKEN), "the token is sent, only never printed");
}

#[test]
fn answers_map_to_kv_errors() {
    let pre = KvError::PreconditionFailed;
    assert_eq!(error_for(Op::PutIfVersion, "k", &resp(412, "PreconditionFailed")), pre);
    assert_eq!(error_for(Op::PutIfAbsent, "k", &resp(412, "PreconditionFailed")), pre);
    assert_eq!(error_for(Op::PutIfVersion, "k", &resp(404, "NoSuchKey")), pre, "If-Match on a missing key");
    assert!(
        matches!(error_for(Op::PutIfVersion, "k", &resp(404, "NoSuchBucket")), KvError::Backend(m) if m.contains("NoSuchBucket"))
    );
    for code in ["SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"] {
        match error_for(Op::Get, "k", &resp(403, code)) {
            KvError::Auth(m) => assert!(m.contains(code) && m.contains("403"), "{m}"),
            other => panic!("{code}: {other:?}"),
        }
    }
    assert!(matches!(error_for(Op::Get, "k", &resp(400, "ExpiredToken")), KvError::Auth(_)));
    let t = |op, status, code| error_for(op, "k", &resp(status, code));
    assert!(matches!(
        t(Op::PutIfVersion, 409, "ConditionalRequestConflict"),
        KvError::Transient { ambiguous: false, .. }
    ));
    // A 503 or 429 after a write may come from a proxy that forwarded it: may have landed.
    assert!(matches!(t(Op::PutIfVersion, 503, "SlowDown"), KvError::Transient { ambiguous: true, .. }));
    assert!(matches!(t(Op::PutIfVersion, 429, "TooManyRequests"), KvError::Transient { ambiguous: true, .. }));
    assert!(matches!(t(Op::Get, 503, "SlowDown"), KvError::Transient { ambiguous: false, .. }));
    assert!(matches!(t(Op::PutIfVersion, 500, "InternalError"), KvError::Transient { ambiguous: true, .. }));
    assert!(matches!(t(Op::Get, 500, "InternalError"), KvError::Transient { ambiguous: false, .. }));
    assert!(matches!(t(Op::PutAny, 400, "EntityTooLarge"), KvError::Backend(_)));
}

#[test]
fn error_codes_are_read_from_xml_only_when_plausible() {
    assert_eq!(error_code(b"<Error><Code>NoSuchKey</Code></Error>").as_deref(), Some("NoSuchKey"));
    assert_eq!(error_code(b"<Error><Code>a b<x></Code></Error>"), None);
    assert_eq!(error_code(b"\xff\xfe"), None);
    assert_eq!(error_code(b""), None);
}

#[test]
fn reads_are_retried_conditional_writes_are_not() {
    let s3 = kv(1000);
    block_on(s3.put("k", b"v".to_vec(), PutCondition::Any)).unwrap();
    s3.inner().transport().inject(&[Fault::Status(500, "InternalError"), Fault::Drop]);
    assert_eq!(block_on(s3.get("k")).unwrap().unwrap().value, b"v");
    assert_eq!(s3.stats().retries, 2);
    s3.inner().transport().inject(&[Fault::Status(503, "SlowDown")]);
    let e = block_on(s3.put("n", b"v".to_vec(), PutCondition::IfAbsent)).unwrap_err();
    assert!(matches!(e, KvError::Transient { ambiguous: true, ref message } if message.contains("SlowDown")), "{e:?}");
    s3.inner().transport().inject(&[Fault::DropAfterApply]);
    let e = block_on(s3.put("n", b"v".to_vec(), PutCondition::IfAbsent)).unwrap_err();
    assert!(matches!(e, KvError::Transient { ambiguous: true, .. }), "{e:?}");
    assert_eq!(s3.inner().transport().object("n").as_deref(), Some(&b"v"[..]), "applied though the answer was lost");
    // Retries are bounded: a persistently failing read ends in a transient error.
    s3.inner().transport().inject(&[Fault::Status(500, "InternalError"); 5]);
    assert!(matches!(block_on(s3.get("k")), Err(KvError::Transient { .. })));
}

#[test]
fn not_modified_is_counted_and_bucket_errors_are_not_missing_keys() {
    let s3 = kv(1000);
    let t = block_on(s3.put("m", b"1".to_vec(), PutCondition::Any)).unwrap();
    assert_eq!(block_on(s3.get_if_changed("m", &t)).unwrap(), GetIfChanged::Unchanged);
    assert_eq!(s3.inner().stats().not_modified, 1);
    s3.inner().transport().inject(&[Fault::Status(404, "NoSuchBucket")]);
    assert!(matches!(block_on(s3.get("m")), Err(KvError::Backend(m)) if m.contains("NoSuchBucket")));
    s3.inner().transport().inject(&[Fault::Status(403, "SignatureDoesNotMatch")]);
    match block_on(s3.get("m")) {
        Err(KvError::Auth(m)) => assert!(m.contains("SignatureDoesNotMatch") && !m.contains(SECRET)),
        other => panic!("{other:?}"),
    }
}

fn records(tag: &str) -> Vec<Record> {
    vec![Record { id: tag.into(), vector: vec![1.0, 2.0], metadata: None }]
}

#[test]
fn ambiguous_and_failed_puts_commit_exactly_once() {
    use Fault::{Pass, Status};
    let s3 = Arc::new(kv(1000));
    let storage = Storage::new(s3.clone()).with_retry_policy(crate::RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        ..crate::RetryPolicy::default()
    });
    block_on(storage.create_collection("c", 2, Distance::L2)).unwrap();
    // An upsert is: GET manifest, PUT segment (create-only), PUT manifest (If-Match).
    let scripts: [&[Fault]; 6] = [
        &[Pass, Pass, Fault::DropAfterApply],
        &[Pass, Pass, Fault::StatusAfterApply(500)],
        &[Pass, Pass, Fault::StatusAfterApply(503)],
        &[Pass, Pass, Status(500, "InternalError")],
        &[Pass, Pass, Status(409, "ConditionalRequestConflict")],
        &[Pass, Fault::DropAfterApply],
    ];
    for (i, script) in scripts.iter().enumerate() {
        s3.inner().transport().inject(script);
        let r = block_on(storage.write_segment_with_data("c", &records(&format!("r{i}")))).unwrap();
        assert_eq!(r.version, i as u64 + 2, "script {i}");
    }
    let m = block_on(storage.load_manifest("c")).unwrap();
    assert_eq!(m.version, 7, "versions stay dense: each change applied once");
    assert_eq!(m.segments.len(), 6);
    let mut ids: Vec<_> = m.segments.iter().map(|d| d.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 6);
}

#[test]
fn a_listing_that_hands_out_an_earlier_token_again_ends_in_an_error() {
    let s3 = kv(1000);
    let page = |key: &str, next: &str| {
        format!(
            "<ListBucketResult><Contents><Key>{key}</Key></Contents><IsTruncated>true</IsTruncated>\
             <NextContinuationToken>{next}</NextContinuationToken></ListBucketResult>"
        )
    };
    let (a, b, c) = (page("p/1", "A"), page("p/2", "B"), page("p/3", "A"));
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    s3.inner().transport().inject(&[Fault::Body(leak(a)), Fault::Body(leak(b)), Fault::Body(leak(c))]);
    match block_on(s3.list("p/")) {
        Err(KvError::Backend(m)) => assert!(m.contains("repeated a continuation token"), "{m}"),
        other => panic!("alternating tokens must not page forever: {other:?}"),
    }
}
