//! IndexedDbKv in headless Chromium (`wasm-pack test --headless --chrome crates/web --test browser_indexeddb`):
//! the KV conformance suite, atomic compare-and-swap between separate connections (as separate
//! tabs hold), listing order, the error paths (closed, versionchange, blocked, newer schema,
//! foreign database), and the collection API with persistence across connections.
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use akidb::stores::indexeddb::database_name;
use akidb::stores::IndexedDbKv;
use akidb_core::kv::{conformance, Kv, KvError, PutCondition};
use akidb_core::retry::{Jitter, RetryPolicy};
use akidb_core::search::exec::SearchOptions;
use akidb_core::testkit::records;
use akidb_core::{Database, Distance, Storage};
use futures::future::join_all;
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{IdbDatabase, IdbFactory, IdbOpenDbRequest};

wasm_bindgen_test_configure!(run_in_browser);

fn fresh(tag: &str) -> String {
    format!("test-{tag}-{}", akidb_core::runtime::new_uuid())
}

// wasm is single-threaded: `Arc<dyn Kv>` is what Storage takes, nothing crosses threads.
#[allow(clippy::arc_with_non_send_sync)]
async fn open(name: &str) -> Arc<dyn Kv> {
    Arc::new(IndexedDbKv::open(name).await.expect("open IndexedDB"))
}

fn backend_message(r: Result<impl std::fmt::Debug, KvError>) -> String {
    match r {
        Err(KvError::Backend(m)) => m,
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

/// Opens an IndexedDB database directly (not through AkiDB), without a versionchange handler.
async fn raw_open(db_name: &str, version: u32) -> IdbDatabase {
    let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into()).unwrap().unchecked_into();
    let req: IdbOpenDbRequest = factory.open_with_u32(db_name, version).unwrap();
    let done = Promise::new(&mut |resolve, _| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&resolve));
    });
    JsFuture::from(done).await.unwrap();
    req.result().expect("raw open succeeded").unchecked_into()
}

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_retries: 200,
        max_backoff: std::time::Duration::from_millis(30),
        jitter: Jitter::Full,
        ..RetryPolicy::seed()
    }
}

#[wasm_bindgen_test]
async fn conformance_suite_passes() {
    akidb::runtime::install();
    let kv = IndexedDbKv::open(&fresh("conf")).await.unwrap();
    conformance::run_all(&kv, "conf/").await.unwrap();
    conformance::run_all_with(&kv, "", &conformance::ConformanceOptions { many_keys: 300, ..Default::default() })
        .await
        .unwrap();
}

#[wasm_bindgen_test]
async fn listing_is_by_prefix_in_byte_order() {
    akidb::runtime::install();
    let kv = open(&fresh("list")).await;
    let keys = ["u/a", "u/\u{e9}", "u/\u{FFFF}", "u/\u{FFFF}z", "u/\u{1F600}", "u/\u{E000}", "u", "u0", "v/x"];
    for k in keys {
        kv.put(k, vec![1], PutCondition::Any).await.unwrap();
    }
    let mut want: Vec<String> = keys.iter().filter(|k| k.starts_with("u/")).map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(kv.list("u/").await.unwrap(), want, "byte order, not UTF-16 order");
    assert_eq!(kv.list("u/\u{FFFF}").await.unwrap(), vec!["u/\u{FFFF}", "u/\u{FFFF}z"]);
    assert_eq!(kv.list("").await.unwrap().len(), keys.len());
    assert!(kv.list("w").await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn conditional_puts_from_separate_connections_have_one_winner() {
    akidb::runtime::install();
    let name = fresh("cas");
    let conns: Vec<Arc<dyn Kv>> = join_all((0..4).map(|_| open(&name))).await;
    let mut token = conns[0].put("m", b"0".to_vec(), PutCondition::Any).await.unwrap();
    for round in 0..25 {
        let attempts = conns.iter().enumerate().map(|(i, kv)| {
            let t = token.clone();
            async move { kv.put("m", format!("{round}-{i}").into_bytes(), PutCondition::IfVersion(t)).await }
        });
        let results = join_all(attempts).await;
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(results.iter().all(|r| r.is_ok() || r == &Err(KvError::PreconditionFailed)));
        token = winners[0].clone();
        let seen = conns[3].get("m").await.unwrap().unwrap();
        assert_eq!(seen.version, token, "every connection reads the winner");
    }
    let creates = join_all(conns.iter().map(|kv| kv.put("once", vec![7], PutCondition::IfAbsent))).await;
    assert_eq!(creates.iter().filter(|r| r.is_ok()).count(), 1, "{creates:?}");
}

#[wasm_bindgen_test]
async fn concurrent_writers_on_separate_connections_lose_nothing() {
    akidb::runtime::install();
    let name = fresh("writers");
    Storage::new(open(&name).await).create_collection("c", 8, Distance::L2).await.unwrap();
    let writers: Vec<Storage> = join_all((0..4).map(|_| open(&name)))
        .await
        .into_iter()
        .map(|kv| Storage::new(kv).with_retry_policy(patient()))
        .collect();
    let acked: Vec<_> = join_all(writers.iter().enumerate().map(|(w, s)| async move {
        let mut ids = Vec::new();
        for c in 0..10 {
            let r =
                s.write_segment_with_data("c", &records(&format!("w{w}c{c}-"), 2, 8, (w * 100 + c + 1) as u64)).await;
            ids.push(r.unwrap().segment_id.unwrap());
        }
        ids
    }))
    .await
    .into_iter()
    .flatten()
    .collect();
    let m = Storage::new(open(&name).await).load_manifest("c").await.unwrap();
    assert_eq!(m.segments.len(), 40);
    assert_eq!(m.version, 41, "one commit per upsert, none lost");
    assert!(acked.iter().all(|id| m.segment(id).is_some()));
}

#[wasm_bindgen_test]
async fn collection_api_and_persistence_across_connections() {
    akidb::runtime::install();
    let name = fresh("coll");
    let dim = 16;
    let data = records("r", 2500, dim, 42);
    let (version, first_hit) = {
        let a = Database::new(Storage::new(open(&name).await));
        let b = Database::new(Storage::new(open(&name).await));
        a.create_collection("docs", dim as u32, Distance::Cosine).await.unwrap();
        let docs = a.collection("docs").await.unwrap();
        let mut progress = Vec::new();
        let r = docs.upsert_batched(&data, 1000, &mut |d, t| progress.push((d, t))).await.unwrap();
        assert_eq!(progress, vec![(1000, 2500), (2000, 2500), (2500, 2500)]);
        assert_eq!((r.segment_ids.len(), r.version), (3, 2), "three segments, one commit");
        let hits = docs.search(&data[1234].vector, &SearchOptions { k: 3, ..Default::default() }).await.unwrap();
        assert_eq!(hits[0].id, "r1234");
        assert!((hits[0].score - 1.0).abs() < 1e-4);
        docs.seal(&r.segment_ids[0].to_string()).await.unwrap();
        docs.delete(&["r0".into(), "r1".into()]).await.unwrap();
        assert_eq!(docs.count().await.unwrap(), 2498);

        // The second connection (another tab) sees all of it after a refresh.
        let other = b.collection("docs").await.unwrap();
        assert!(!other.refresh().await.unwrap(), "opened at the latest version");
        docs.upsert(&records("late", 1, dim, 7)).await.unwrap();
        assert!(other.refresh().await.unwrap(), "refresh finds the newer version");
        assert_eq!(other.count().await.unwrap(), 2499);
        let m = other.manifest().await.unwrap();
        (m.version, hits[0].id.clone())
    };
    // Both connections were dropped (closed): a new one finds everything (like a reload).
    let db = Database::new(Storage::new(open(&name).await));
    let info = db.list_collections().await.unwrap();
    assert_eq!((info.len(), info[0].version, info[0].total_vectors), (1, version, 2501));
    let docs = db.collection("docs").await.unwrap();
    assert_eq!(docs.count().await.unwrap(), 2499);
    let hits = docs.search(&data[1234].vector, &SearchOptions { k: 1, ..Default::default() }).await.unwrap();
    assert_eq!(hits[0].id, first_hit);
    let m = docs.manifest().await.unwrap();
    assert_eq!(m.segments[0].state, akidb_core::SegmentState::Sealed);
    db.drop_collection("docs").await.unwrap();
    assert_eq!(
        db.storage().kv().list("").await.unwrap(),
        ["collections/docs/manifest.json"],
        "drop removes every record but the manifest's tombstone"
    );
}

/// Values over 64 KiB are stored in chunks: whole reads, range reads across chunk borders,
/// overwrites (with fewer chunks, or inline) and deletes leave no stale bytes.
#[wasm_bindgen_test]
async fn large_values_are_chunked_and_read_by_range() {
    akidb::runtime::install();
    let kv = open(&fresh("chunks")).await;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 253) as u8).collect();
    kv.put("big", big.clone(), PutCondition::IfAbsent).await.unwrap();
    assert!(kv.supports_ranges());
    assert_eq!(kv.get("big").await.unwrap().unwrap().value, big);
    for (s, n) in [(0u64, 10u64), (65_530, 20), (65_536, 65_536), (131_000, 100_000), (299_990, 50), (0, 300_000)] {
        let got = kv.get_range("big", s, n).await.unwrap().unwrap();
        let end = (s + n).min(300_000) as usize;
        assert_eq!(got, &big[s as usize..end], "range {s}+{n}");
    }
    assert_eq!(kv.get_range("big", 400_000, 10).await.unwrap().unwrap(), Vec::<u8>::new());
    // Overwrite with fewer chunks, then inline: nothing of the older value shows through.
    let mid: Vec<u8> = vec![7; 70_000];
    let v = kv.get("big").await.unwrap().unwrap().version;
    kv.put("big", mid.clone(), PutCondition::IfVersion(v)).await.unwrap();
    assert_eq!(kv.get("big").await.unwrap().unwrap().value, mid);
    assert_eq!(kv.get_range("big", 69_990, 100).await.unwrap().unwrap(), vec![7; 10]);
    kv.put("big", b"small".to_vec(), PutCondition::Any).await.unwrap();
    assert_eq!(kv.get("big").await.unwrap().unwrap().value, b"small");
    assert_eq!(kv.get_range("big", 1, 3).await.unwrap().unwrap(), b"mal");
    kv.put("big", big.clone(), PutCondition::Any).await.unwrap();
    kv.delete("big").await.unwrap();
    assert!(kv.get("big").await.unwrap().is_none());
    assert!(kv.get_range("big", 0, 10).await.unwrap().is_none());
    kv.put("big", mid.clone(), PutCondition::IfAbsent).await.unwrap();
    assert_eq!(kv.get("big").await.unwrap().unwrap().value, mid, "chunks of a deleted value came back");
}

/// A database written by schema 1 (stores `kv` and `meta` only) opens under schema 2: the
/// upgrade adds `chunks` and keeps every record.
#[wasm_bindgen_test]
async fn schema_1_databases_upgrade_and_keep_their_records() {
    akidb::runtime::install();
    let name = fresh("schema1");
    let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into()).unwrap().unchecked_into();
    let req: IdbOpenDbRequest = factory.open_with_u32(&database_name(&name), 1).unwrap();
    let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| {
        let db: IdbDatabase =
            ev.target().unwrap().unchecked_into::<IdbOpenDbRequest>().result().unwrap().unchecked_into();
        db.create_object_store("kv").unwrap();
        db.create_object_store("meta").unwrap();
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let done = Promise::new(&mut |resolve, _| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&resolve));
    });
    JsFuture::from(done).await.unwrap();
    let db: IdbDatabase = req.result().unwrap().unchecked_into();
    let tx = db.transaction_with_str_and_mode("kv", web_sys::IdbTransactionMode::Readwrite).unwrap();
    let rec = js_sys::Object::new();
    Reflect::set(&rec, &"v".into(), &js_sys::Uint8Array::from(&b"old"[..])).unwrap();
    Reflect::set(&rec, &"t".into(), &JsValue::from_f64(1.0)).unwrap();
    tx.object_store("kv").unwrap().put_with_key(&rec, &"k".into()).unwrap();
    let committed = Promise::new(&mut |resolve, _| tx.set_oncomplete(Some(&resolve)));
    JsFuture::from(committed).await.unwrap();
    db.close();
    let kv = open(&name).await;
    assert_eq!(kv.get("k").await.unwrap().unwrap().value, b"old");
    kv.put("big", vec![1; 100_000], PutCondition::IfAbsent).await.unwrap();
    assert_eq!(kv.get_range("big", 99_999, 5).await.unwrap().unwrap(), vec![1]);
}

#[wasm_bindgen_test]
async fn closed_connection_fails_clearly() {
    akidb::runtime::install();
    let kv = IndexedDbKv::open(&fresh("closed")).await.unwrap();
    kv.put("k", vec![1], PutCondition::Any).await.unwrap();
    kv.close();
    assert!(kv.is_closed());
    assert!(backend_message(kv.get("k").await).contains("closed (close() was called)"));
    assert!(backend_message(kv.put("k", vec![2], PutCondition::Any).await).contains("closed"));
}

#[wasm_bindgen_test]
async fn versionchange_from_another_connection_closes_ours() {
    akidb::runtime::install();
    let name = fresh("vc");
    let kv = IndexedDbKv::open(&name).await.unwrap();
    kv.put("k", vec![1], PutCondition::Any).await.unwrap();
    // Our connection yields to the deletion instead of blocking it.
    IndexedDbKv::delete_database(&name).await.unwrap();
    let msg = backend_message(kv.get("k").await);
    assert!(msg.contains("versionchange"), "{msg}");
    let again = IndexedDbKv::open(&name).await.unwrap();
    assert!(again.get("k").await.unwrap().is_none(), "the database was really deleted");
}

#[wasm_bindgen_test]
async fn blocked_deletion_and_foreign_databases_are_reported() {
    akidb::runtime::install();
    let name = fresh("blocked");
    let raw = raw_open(&database_name(&name), 1).await; // holds on, no versionchange handler
    let msg = backend_message(IndexedDbKv::delete_database(&name).await);
    assert!(msg.contains("blocked"), "{msg}");
    raw.close(); // the queued deletion now proceeds

    // A database of that name without AkiDB's object stores.
    let foreign = fresh("foreign");
    raw_open(&database_name(&foreign), 1).await.close();
    let msg = backend_message(IndexedDbKv::open(&foreign).await.map(|_| ()));
    assert!(msg.contains("not created by AkiDB"), "{msg}");

    let newer = fresh("newer");
    raw_open(&database_name(&newer), 5).await.close();
    let msg = backend_message(IndexedDbKv::open(&newer).await.map(|_| ()));
    assert!(msg.contains("newer schema") && msg.contains("VersionError"), "{msg}");
}

#[wasm_bindgen_test]
async fn js_api_opens_indexeddb_and_reports_codes() {
    akidb::runtime::install();
    use akidb::bindings::AkiDB;
    let code = |e: JsValue| Reflect::get(&e, &"code".into()).unwrap().as_string().unwrap();
    let opts = |json: &str| js_sys::JSON::parse(json).unwrap();
    // logLevel error: keep the conflict warnings of other tests out of the output.
    let quiet = |json: &str| opts(&json.replacen("{", r#"{"logLevel":"error","#, 1));
    let e = AkiDB::open(quiet(r#"{"store":"indexeddb"}"#)).await.err().unwrap();
    assert_eq!(code(e), "INVALID_ARGUMENT");
    let e = AkiDB::open(quiet(r#"{"store":"indexeddb","name":"x","simulatedLatencyMs":3}"#)).await.err().unwrap();
    assert_eq!(code(e), "INVALID_ARGUMENT");
    let name = fresh("js");
    let db = AkiDB::open(quiet(&format!(r#"{{"store":"indexeddb","name":"{name}","prefix":"p/"}}"#))).await.unwrap();
    db.create_collection("c".into(), opts(r#"{"dimension":2}"#), JsValue::UNDEFINED).await.unwrap();
    let e = db.create_collection("c".into(), opts(r#"{"dimension":2}"#), JsValue::UNDEFINED).await.err().unwrap();
    assert_eq!(code(e), "ALREADY_EXISTS");
    // Get-or-create: the same spec resolves, a different one names the difference, and two
    // callers at once on a fresh name both resolve (the README snippet run twice, or twice at once).
    let ensure = || opts(r#"{"ifNotExists":true}"#);
    db.create_collection("c".into(), opts(r#"{"dimension":2}"#), ensure()).await.unwrap();
    let e = db.create_collection("c".into(), opts(r#"{"dimension":3}"#), ensure()).await.err().unwrap();
    assert_eq!(code(e), "ALREADY_EXISTS");
    let (a, b) = futures::future::join(
        db.create_collection("e".into(), opts(r#"{"dimension":2}"#), ensure()),
        db.create_collection("e".into(), opts(r#"{"dimension":2}"#), ensure()),
    )
    .await;
    assert!(a.is_ok() && b.is_ok(), "both concurrent get-or-create calls resolve");
    let c = db.collection("c".into()).await.unwrap();
    let e = c.upsert(opts(r#"[{"id":"a","vector":[1,2]}]"#), opts(r#"{"segmentSize":0}"#)).await.err().unwrap();
    assert_eq!(code(e), "INVALID_ARGUMENT");
    let r = c.upsert(opts(r#"[{"id":"a","vector":[1,2]},{"id":"b","vector":[2,1]}]"#), opts(r#"{"segmentSize":1}"#));
    let r = r.await.unwrap();
    let ids: js_sys::Array = Reflect::get(&r, &"segmentIds".into()).unwrap().unchecked_into();
    assert_eq!(ids.length(), 2);
    assert_eq!(Reflect::get(&r, &"version".into()).unwrap().as_f64(), Some(2.0));
    db.close().await.unwrap();
    let e = db.list_collections().await.err().unwrap();
    assert_eq!(code(e.clone()), "STORAGE");
    assert!(e.unchecked_ref::<js_sys::Error>().message().as_string().unwrap().contains("closed"));
    // The prefix kept the keys apart, and a fresh connection sees the committed upsert.
    let kv = IndexedDbKv::open(&name).await.unwrap();
    assert!(kv.list("p/collections/c/1/segments/").await.unwrap().len() == 2);
}

/// Records `{ key, durability }` of every put into the `kv` object store until the returned
/// function is called (which restores `IDBObjectStore.prototype.put`).
fn spy_on_puts() -> (js_sys::Array, js_sys::Function) {
    let install = js_sys::Function::new_no_args(
        "const log = []; const proto = IDBObjectStore.prototype; const orig = proto.put;
         proto.put = function (value, key) {
           if (this.name === 'kv') log.push({ key: String(key), durability: this.transaction.durability });
           return orig.call(this, value, key);
         };
         return [log, () => { proto.put = orig; }];",
    );
    let pair: js_sys::Array = install.call0(&JsValue::NULL).unwrap().unchecked_into();
    (pair.get(0).unchecked_into(), pair.get(1).unchecked_into())
}

/// (key, durability) of the logged puts whose key ends with `suffix`.
fn puts_ending(log: &js_sys::Array, suffix: &str) -> Vec<(String, String)> {
    log.iter()
        .map(|e| {
            let get = |k: &str| Reflect::get(&e, &k.into()).unwrap().as_string().unwrap_or_default();
            (get("key"), get("durability"))
        })
        .filter(|(k, _)| k.ends_with(suffix))
        .collect()
}

#[wasm_bindgen_test]
async fn manifest_commits_are_strict_and_segment_writes_relaxed() {
    akidb::runtime::install();
    use akidb::stores::indexeddb::Durability;
    // Strict (the default); then the two other settings as controls: the spy must see a
    // difference, or it would prove nothing.
    for (durability, manifest, segment) in [
        (Durability::Strict, "strict", "relaxed"),
        (Durability::Relaxed, "relaxed", "relaxed"),
        (Durability::BrowserDefault, "default", "default"),
    ] {
        let (log, restore) = spy_on_puts();
        let name = fresh("durability");
        #[allow(clippy::arc_with_non_send_sync)]
        let kv: Arc<dyn Kv> = Arc::new(IndexedDbKv::open(&name).await.unwrap().with_durability(durability));
        let db = Database::new(Storage::new(kv));
        db.create_collection("c", 16, Distance::Cosine).await.unwrap();
        let c = db.collection("c").await.unwrap();
        // 5,000 × 16-d: segment objects over 64 KiB (chunked), two segments, one commit.
        c.upsert_batched(&records("r", 5000, 16, 3), 2500, &mut |_, _| {}).await.unwrap();
        c.upsert(&records("s", 3, 16, 4)).await.unwrap();
        restore.call0(&JsValue::NULL).unwrap();
        let manifests = puts_ending(&log, "manifest.json");
        let segments = puts_ending(&log, ".seg");
        assert_eq!(manifests.len(), 3, "create + two commits: {manifests:?}");
        assert_eq!(segments.len(), 3, "{segments:?}");
        assert!(manifests.iter().all(|(_, d)| d == manifest), "{durability:?}: {manifests:?}");
        assert!(segments.iter().all(|(_, d)| d == segment), "{durability:?}: {segments:?}");
        assert_eq!(c.count().await.unwrap(), 5003, "chunked segments still read back");
    }
}
