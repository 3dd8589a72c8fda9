//! S3Kv from the wasm build, in Node, against a real S3 server (tests/edge/run.sh starts
//! ministack with signature checking and exports `AKIDB_S3_*`). Without those variables the
//! tests skip, unless `AKIDB_S3_REQUIRED=1` (set by tests/edge/run.sh) makes that a failure.
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use akidb::stores::s3_fetch::{self, FetchS3Kv};
use akidb_core::kv::conformance::{run_all_with_tokens, ConformanceOptions, TokenModel};
use akidb_core::kv::{GetIfChanged, Kv, KvError, PutCondition, S3Config, VersionToken};
use akidb_core::{Database, Distance, Record, Storage};
use futures::future::join_all;
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn env(name: &str) -> Option<String> {
    let process = Reflect::get(&js_sys::global(), &JsValue::from_str("process")).ok()?;
    let vars = Reflect::get(&process, &JsValue::from_str("env")).ok()?;
    Reflect::get(&vars, &JsValue::from_str(name)).ok()?.as_string().filter(|s| !s.is_empty())
}

/// The server's configuration, or `None` (skip) when no server was started for this run.
fn config() -> Option<S3Config> {
    let Some(endpoint) = env("AKIDB_S3_ENDPOINT") else {
        assert!(env("AKIDB_S3_REQUIRED").is_none(), "AKIDB_S3_REQUIRED is set but AKIDB_S3_ENDPOINT is not");
        web_sys_log("s3_kv: no AKIDB_S3_ENDPOINT, skipping (tests/edge/run.sh runs these against ministack)");
        return None;
    };
    let mut c = S3Config::new(
        endpoint,
        env("AKIDB_S3_BUCKET").expect("AKIDB_S3_BUCKET"),
        env("AKIDB_S3_ACCESS_KEY_ID").expect("AKIDB_S3_ACCESS_KEY_ID"),
        env("AKIDB_S3_SECRET_ACCESS_KEY").expect("AKIDB_S3_SECRET_ACCESS_KEY"),
    );
    if let Some(r) = env("AKIDB_S3_REGION") {
        c.region = r;
    }
    Some(c)
}

fn web_sys_log(msg: &str) {
    let console = Reflect::get(&js_sys::global(), &JsValue::from_str("console")).unwrap_or(JsValue::UNDEFINED);
    if let Ok(log) = Reflect::get(&console, &JsValue::from_str("log")) {
        if let Ok(f) = wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(log) {
            let _ = f.call1(&console, &JsValue::from_str(msg));
        }
    }
}

fn open(c: &S3Config) -> FetchS3Kv {
    s3_fetch::open(c).expect("valid config")
}

fn fresh_prefix(what: &str) -> String {
    format!("wasm-tests/{}/{what}/", akidb_core::runtime::new_uuid())
}

#[wasm_bindgen_test]
async fn conformance_suite_against_s3_across_list_pages() {
    akidb::runtime::install();
    let Some(c) = config() else { return };
    let kv = open(&c);
    let opts = ConformanceOptions { many_keys: 1100, ..Default::default() };
    run_all_with_tokens(&kv, &fresh_prefix("conformance"), &opts, TokenModel::ContentHash).await.unwrap();
    // Two listings of 1,100 keys (check + cleanup) need at least two pages each.
    assert!(kv.inner().stats().list_pages >= 4, "{:?}", kv.inner().stats());
}

#[wasm_bindgen_test]
async fn if_match_on_a_missing_key_is_a_failed_precondition() {
    akidb::runtime::install();
    let Some(c) = config() else { return };
    let kv = open(&c);
    let key = format!("{}missing", fresh_prefix("if-match"));
    let r = kv.put(&key, b"x".to_vec(), PutCondition::IfVersion(VersionToken("\"0123\"".into()))).await;
    assert_eq!(r, Err(KvError::PreconditionFailed));
    assert_eq!(kv.get(&key).await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn unchanged_manifests_answer_304() {
    akidb::runtime::install();
    let Some(c) = config() else { return };
    let kv = Arc::new(open(&c));
    let db = Database::new(Storage::new(kv.clone()).with_prefix(fresh_prefix("refresh")));
    db.create_collection("docs", 2, Distance::L2).await.unwrap();
    let docs = db.collection("docs").await.unwrap();
    let before = kv.inner().stats().not_modified;
    assert!(!docs.refresh().await.unwrap(), "nothing changed");
    assert_eq!(kv.inner().stats().not_modified, before + 1, "the refresh was a 304");
    docs.upsert(&[Record { id: "a".into(), vector: vec![1.0, 0.0], metadata: None }]).await.unwrap();
    let key = db.storage().manifest_key("docs");
    let current = kv.get(&key).await.unwrap().unwrap();
    assert_eq!(kv.get_if_changed(&key, &current.version).await.unwrap(), GetIfChanged::Unchanged);
    db.drop_collection("docs").await.unwrap();
}

#[wasm_bindgen_test]
async fn wrong_secret_and_unknown_key_are_auth_errors_naming_the_s3_code() {
    akidb::runtime::install();
    let Some(c) = config() else { return };
    let mut wrong = c.clone();
    wrong.secret_access_key = format!("{}x", c.secret_access_key);
    let err = open(&wrong).get("any").await.unwrap_err();
    match &err {
        KvError::Auth(m) => assert!(m.contains("SignatureDoesNotMatch"), "{m}"),
        other => panic!("expected AUTH, got {other:?}"),
    }
    assert!(!format!("{err} {err:?}").contains(&wrong.secret_access_key));
    let mut unknown = c.clone();
    unknown.access_key_id = "AKIAUNKNOWNUNKNOWN00".into();
    match open(&unknown).put("any", b"x".to_vec(), PutCondition::Any).await {
        Err(KvError::Auth(m)) => assert!(m.contains("InvalidAccessKeyId"), "{m}"),
        other => panic!("expected AUTH, got {other:?}"),
    }
    // Through the engine the code is AUTH.
    let db = Database::new(Storage::new(Arc::new(open(&wrong))));
    assert_eq!(db.list_collections().await.unwrap_err().code(), "AUTH");
}

#[wasm_bindgen_test]
async fn concurrent_conditional_puts_have_exactly_one_winner() {
    akidb::runtime::install();
    let Some(c) = config() else { return };
    let kv = open(&c);
    let key = format!("{}cas", fresh_prefix("race"));
    let t0 = kv.put(&key, b"v0".to_vec(), PutCondition::Any).await.unwrap();
    for round in 0..5 {
        let base = kv.get(&key).await.unwrap().unwrap().version;
        let puts =
            (0..8).map(|w| kv.put(&key, format!("r{round}w{w}").into_bytes(), PutCondition::IfVersion(base.clone())));
        let results = join_all(puts).await;
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        assert!(results.iter().all(|r| r.is_ok() || r == &Err(KvError::PreconditionFailed)), "{results:?}");
    }
    let new_key = format!("{key}-new");
    let creates = (0..8).map(|w| kv.put(&new_key, vec![w], PutCondition::IfAbsent));
    assert_eq!(join_all(creates).await.iter().filter(|r| r.is_ok()).count(), 1);
    assert_ne!(kv.get(&key).await.unwrap().unwrap().version, t0);
    for k in kv.list(&key).await.unwrap() {
        kv.delete(&k).await.unwrap();
    }
}
