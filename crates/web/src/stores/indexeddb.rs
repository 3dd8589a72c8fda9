//! `IndexedDbKv`: the [`Kv`] trait on IndexedDB, for browser windows and web workers (wasm32 only).
//!
//! Layout: one IndexedDB database per AkiDB database, named `akidb:{name}`, schema version
//! [`SCHEMA_VERSION`], with two object stores:
//!
//! - `kv`: one record per key (out-of-line string keys), `{ v: Uint8Array, t: number }` — the
//!   value and its version counter. Manifests and every segment object are separate records, so
//!   opening a collection reads its manifest and the segments it needs, never a whole-database blob.
//! - `meta`: the store-wide version counter under the key `"version"`.
//! - `chunks` (schema 2): values longer than 64 KiB, in chunks keyed `[key, i]`; their `kv`
//!   record is `{ v: empty, t, n, len }` ([`chunks`]). Range reads read only the chunks they need.
//!
//! Every put is ONE readwrite transaction over both stores: read the counter and (for conditional
//! puts) the current record, compare, then write the record with `counter + 1` and the counter.
//! IndexedDB serialises readwrite transactions with overlapping scopes across every tab and worker
//! of the origin, so the compare-and-put is atomic everywhere; and because the counter is
//! store-wide and never goes back, a deleted and re-created key never reuses a token (no ABA).
//! Only IndexedDB requests are awaited inside the transaction (see `events.rs`).

mod chunks;
mod durability;
mod errors;
mod events;
mod put;
mod range;

use std::cell::RefCell;
use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use log::warn;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Event, IdbDatabase, IdbFactory, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
    IdbVersionChangeEvent,
};

use akidb_core::kv::{Kv, KvError, PutCondition, VersionToken, Versioned};
pub use durability::Durability;
use events::settle;

/// Prefix of the IndexedDB database name: `AkiDB.open({ store: 'indexeddb', name: 'x' })` uses the
/// IndexedDB database `akidb:x`.
pub const DB_NAME_PREFIX: &str = "akidb:";
/// Schema version of the IndexedDB database (object stores `kv`, `meta` and, from 2, `chunks`;
/// opening a version 1 database upgrades it by adding `chunks`).
pub const SCHEMA_VERSION: u32 = 2;
const DATA: &str = "kv";
const META: &str = "meta";
const COUNTER: &str = "version";

/// A key-value store in one IndexedDB database. Dropping it closes the connection.
pub struct IndexedDbKv {
    db_name: String,
    db: IdbDatabase,
    /// Why the connection is closed, once it is.
    closed: Rc<RefCell<Option<String>>>,
    durability: Durability,
    _on_versionchange: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(Event)>,
}

fn factory() -> Result<IdbFactory, KvError> {
    let f = Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB")).unwrap_or(JsValue::UNDEFINED);
    if f.is_object() {
        Ok(f.unchecked_into())
    } else {
        Err(KvError::Backend(
            "IndexedDB is not available in this runtime: store 'indexeddb' needs a browser window or worker \
             (or an IndexedDB implementation such as fake-indexeddb); use store 'memory' or 's3' elsewhere"
                .into(),
        ))
    }
}

/// `onupgradeneeded`: creates the object stores that do not exist yet.
fn create_stores(ev: IdbVersionChangeEvent) {
    let db = ev.target().and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok()).and_then(|r| r.result().ok());
    let Some(db) = db.and_then(|d| d.dyn_into::<IdbDatabase>().ok()) else { return };
    let names = db.object_store_names();
    // A new database gets every store; an AkiDB database of schema 1 gains `chunks`. A database
    // of that name that AkiDB did not create is left alone (open reports it).
    if ev.old_version() > 0.0 && !(names.contains(DATA) && names.contains(META)) {
        return;
    }
    for store in [DATA, META, chunks::CHUNKS] {
        if !names.contains(store) {
            if let Err(e) = db.create_object_store(store) {
                warn!("could not create IndexedDB object store '{store}': {e:?}");
            }
        }
    }
}

/// The IndexedDB database name used for an AkiDB database name.
pub fn database_name(name: &str) -> String {
    format!("{DB_NAME_PREFIX}{name}")
}

impl IndexedDbKv {
    /// Opens (creating if needed) the IndexedDB database `akidb:{name}`.
    ///
    /// Errors: IndexedDB unavailable; the open is blocked by a connection that will not close; the
    /// database has a newer schema (`VersionError`); it exists without AkiDB's object stores.
    pub async fn open(name: &str) -> Result<Self, KvError> {
        let db_name = database_name(name);
        let req =
            factory()?.open_with_u32(&db_name, SCHEMA_VERSION).map_err(|e| errors::from_js(&db_name, "open", &e))?;
        let upgrade = Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(create_stores);
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let kind = settle(&req, &["success", "error", "blocked"])?.kind().await;
        match kind.as_str() {
            "success" => req.set_onupgradeneeded(None),
            "blocked" => {
                // The open stays queued; if it is granted later, close that connection at once.
                let late = Closure::once_into_js(move |ev: Event| {
                    let db =
                        ev.target().and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok()).and_then(|r| r.result().ok());
                    if let Some(db) = db.and_then(|d| d.dyn_into::<IdbDatabase>().ok()) {
                        db.close();
                    }
                });
                req.set_onsuccess(Some(late.unchecked_ref()));
                // `upgrade` must outlive a later upgradeneeded event: leak it (one closure).
                upgrade.forget();
                return Err(KvError::Backend(format!(
                    "opening IndexedDB database '{db_name}' is blocked (blocked event): another tab or worker \
                     holds an older version open and does not close it; close the other tabs of this app and retry"
                )));
            }
            _ => {
                req.set_onupgradeneeded(None);
                return Err(errors::from_exception(&db_name, "open", req.error().ok().flatten()));
            }
        }
        drop(upgrade);
        let db: IdbDatabase = req.result().map_err(|e| errors::from_js(&db_name, "open", &e))?.unchecked_into();
        let names = db.object_store_names();
        if !(names.contains(DATA) && names.contains(META) && names.contains(chunks::CHUNKS)) {
            db.close();
            return Err(KvError::Backend(format!(
                "IndexedDB database '{db_name}' exists but was not created by AkiDB (object stores '{DATA}' and \
                 '{META}' missing)"
            )));
        }
        let closed = Rc::new(RefCell::new(None));
        let on_versionchange = {
            let (closed, name) = (closed.clone(), db_name.clone());
            Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
                // Let the other side (an upgrade or a deleteDatabase elsewhere) proceed.
                if let Some(db) = ev.target().and_then(|t| t.dyn_into::<IdbDatabase>().ok()) {
                    db.close();
                }
                warn!("IndexedDB database '{name}': versionchange from another connection; closing this one");
                closed.borrow_mut().get_or_insert_with(|| {
                    format!(
                        "IndexedDB connection to '{name}' was closed because another tab or worker upgraded or \
                         deleted the database (versionchange); open the database again"
                    )
                });
            })
        };
        let on_close = {
            let (closed, name) = (closed.clone(), db_name.clone());
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                warn!("IndexedDB database '{name}': the browser closed the connection");
                closed.borrow_mut().get_or_insert_with(|| {
                    format!(
                        "IndexedDB connection to '{name}' was closed by the browser (site data cleared or a \
                         storage failure); open the database again"
                    )
                });
            })
        };
        db.set_onversionchange(Some(on_versionchange.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(IndexedDbKv {
            db_name,
            db,
            closed,
            durability: Durability::default(),
            _on_versionchange: on_versionchange,
            _on_close: on_close,
        })
    }

    /// Deletes the IndexedDB database `akidb:{name}` and everything in it. Open AkiDB connections
    /// to it close themselves (their later operations fail with a clear error). Fails when the
    /// deletion is blocked by a connection that does not close (it then happens once that closes).
    pub async fn delete_database(name: &str) -> Result<(), KvError> {
        let db_name = database_name(name);
        let req = factory()?.delete_database(&db_name).map_err(|e| errors::from_js(&db_name, "deleteDatabase", &e))?;
        match settle(&req, &["success", "error", "blocked"])?.kind().await.as_str() {
            "success" => Ok(()),
            "blocked" => Err(KvError::Backend(format!(
                "deleting IndexedDB database '{db_name}' is blocked (blocked event): another connection does not \
                 close; it will be deleted once that closes"
            ))),
            _ => Err(errors::from_exception(&db_name, "deleteDatabase", req.error().ok().flatten())),
        }
    }

    /// The IndexedDB database name (`akidb:{name}`).
    pub fn database_name(&self) -> &str {
        &self.db_name
    }

    /// Sets the durability its readwrite transactions request (default [`Durability::Strict`]:
    /// strict commit points, relaxed staged writes).
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The durability its readwrite transactions request.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// True once the connection is closed ([`Kv::close`], a versionchange, or the browser).
    pub fn is_closed(&self) -> bool {
        self.closed.borrow().is_some()
    }

    /// A transaction over `stores`; `commit_point` (readwrite only) picks the durability hint.
    fn transaction(
        &self,
        stores: &[&str],
        mode: IdbTransactionMode,
        commit_point: bool,
        op: &str,
    ) -> Result<IdbTransaction, KvError> {
        if let Some(reason) = self.closed.borrow().as_ref() {
            return Err(KvError::Backend(reason.clone()));
        }
        let names = Array::new();
        for s in stores {
            names.push(&JsValue::from_str(s));
        }
        let tx = match mode {
            IdbTransactionMode::Readwrite => {
                durability::readwrite(&self.db, &names, self.durability.hint(commit_point))
            }
            _ => self.db.transaction_with_str_sequence_and_mode(&names, mode),
        };
        tx.map_err(|e| match self.closed.borrow().as_ref() {
            Some(reason) => KvError::Backend(reason.clone()),
            None => errors::from_js(&self.db_name, op, &e),
        })
    }

    fn store(&self, tx: &IdbTransaction, name: &str, op: &str) -> Result<IdbObjectStore, KvError> {
        tx.object_store(name).map_err(|e| errors::from_js(&self.db_name, op, &e))
    }

    /// Takes an issued request and starts listening for its outcome at once (so a request that
    /// completes before it is awaited is never missed).
    fn start(&self, req: Result<IdbRequest, JsValue>, op: &'static str) -> Result<Pending, KvError> {
        let req = req.map_err(|e| errors::from_js(&self.db_name, op, &e))?;
        let wait = settle(&req, &["success", "error"])?;
        Ok(Pending { req, wait, op })
    }

    /// The result of a started request (inside the transaction it belongs to).
    async fn result(&self, p: Pending) -> Result<JsValue, KvError> {
        if p.wait.kind().await != "success" {
            return Err(errors::from_exception(&self.db_name, p.op, p.req.error().ok().flatten()));
        }
        p.req.result().map_err(|e| errors::from_js(&self.db_name, p.op, &e))
    }

    fn corrupt(&self, key: &str, what: &str) -> KvError {
        KvError::Backend(format!("IndexedDB record '{key}' in '{}' is not an AkiDB record ({what})", self.db_name))
    }

    /// `{ v, t }` → value and token; `undefined` → `None`. A chunked record's value is read
    /// from `chunk_store` (in the same transaction), whole or only the chunks `span` covers.
    async fn decode(
        &self,
        key: &str,
        rec: &JsValue,
        chunk_store: &IdbObjectStore,
        span: Option<(usize, usize)>,
    ) -> Result<Option<Versioned>, KvError> {
        if rec.is_undefined() {
            return Ok(None);
        }
        let t = Reflect::get(rec, &JsValue::from_str("t")).ok().and_then(|t| t.as_f64());
        let t = t.ok_or_else(|| self.corrupt(key, "no version counter"))?;
        if let Some((n, len)) = chunks::chunked(rec) {
            let (a, b) = span.map_or((0, n.saturating_sub(1)), |(a, b)| (a, b.min(n.saturating_sub(1))));
            if n == 0 || a > b {
                return Ok(Some(Versioned { value: Vec::new(), version: token(t) }));
            }
            let range =
                chunks::chunk_range(key, Some((a, b))).map_err(|e| errors::from_js(&self.db_name, "get", &e))?;
            let parts = self.result(self.start(chunk_store.get_all_with_key(&range), "get (chunks)")?).await?;
            let value = chunks::concat(&parts).ok_or_else(|| self.corrupt(key, "a chunk is not bytes"))?;
            let want = if span.is_some() { value.len() } else { len };
            if value.len() != want
                || (span.is_none() && parts.dyn_ref::<Array>().map_or(0, |p| p.length()) as usize != n)
            {
                return Err(self.corrupt(key, "chunks missing"));
            }
            return Ok(Some(Versioned { value, version: token(t) }));
        }
        let v = Reflect::get(rec, &JsValue::from_str("v")).unwrap_or(JsValue::UNDEFINED);
        let bytes = if let Some(a) = v.dyn_ref::<Uint8Array>() {
            a.to_vec()
        } else if let Some(b) = v.dyn_ref::<ArrayBuffer>() {
            Uint8Array::new(b).to_vec()
        } else {
            return Err(self.corrupt(key, "value is not bytes"));
        };
        Ok(Some(Versioned { value: bytes, version: token(t) }))
    }

    /// The version counter of a stored record, for the compare step of a put.
    fn version_of(&self, key: &str, rec: &JsValue) -> Result<Option<f64>, KvError> {
        if rec.is_undefined() {
            return Ok(None);
        }
        Reflect::get(rec, &JsValue::from_str("t"))
            .ok()
            .and_then(|t| t.as_f64())
            .map(Some)
            .ok_or_else(|| self.corrupt(key, "no version counter"))
    }

    /// Waits for a readwrite transaction to commit; an abort reports its error (quota, ...).
    async fn finish(&self, tx: &IdbTransaction, done: events::Settle, op: &str) -> Result<(), KvError> {
        // Commit now instead of when the last callback returns (ignored where unsupported).
        // web-sys marks IDBTransaction.commit() deprecated, but it is standard (IndexedDB 3.0).
        #[allow(deprecated)]
        let _ = tx.commit();
        if done.kind().await == "complete" {
            Ok(())
        } else {
            Err(errors::from_exception(&self.db_name, op, tx.error()))
        }
    }
}

/// An issued request whose outcome is being listened for.
struct Pending {
    req: IdbRequest,
    wait: events::Settle,
    op: &'static str,
}

fn token(counter: f64) -> VersionToken {
    VersionToken(format!("{}", counter as u64))
}

#[async_trait(?Send)]
impl Kv for IndexedDbKv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        let tx = self.transaction(&[DATA, chunks::CHUNKS], IdbTransactionMode::Readonly, false, "get")?;
        let data = self.store(&tx, DATA, "get")?;
        let parts = self.store(&tx, chunks::CHUNKS, "get")?;
        let rec = self.result(self.start(data.get(&JsValue::from_str(key)), "get")?).await?;
        self.decode(key, &rec, &parts, None).await
    }

    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>, KvError> {
        let tx = self.transaction(&[DATA, chunks::CHUNKS], IdbTransactionMode::Readonly, false, "get")?;
        let data = self.store(&tx, DATA, "get")?;
        let parts = self.store(&tx, chunks::CHUNKS, "get")?;
        let rec = self.result(self.start(data.get(&JsValue::from_str(key)), "get")?).await?;
        let total = if rec.is_undefined() { None } else { chunks::chunked(&rec).map(|(_, l)| l as u64) };
        let clamp = |n: u64| -> (usize, usize) {
            let s = start.min(n);
            (s as usize, s.saturating_add(len).min(n) as usize)
        };
        let Some(total) = total else {
            // Inline (or absent): slice the whole value.
            return Ok(self.decode(key, &rec, &parts, None).await?.map(|v| {
                let (s, e) = clamp(v.value.len() as u64);
                v.value[s..e].to_vec()
            }));
        };
        let (s, e) = clamp(total);
        if s == e {
            return Ok(Some(Vec::new()));
        }
        let span = (s / chunks::CHUNK_BYTES, (e - 1) / chunks::CHUNK_BYTES);
        let v = self.decode(key, &rec, &parts, Some(span)).await?.ok_or_else(|| self.corrupt(key, "vanished"))?;
        let off = s - span.0 * chunks::CHUNK_BYTES;
        if v.value.len() < off + (e - s) {
            return Err(self.corrupt(key, "chunks missing"));
        }
        Ok(Some(v.value[off..off + (e - s)].to_vec()))
    }

    fn supports_ranges(&self) -> bool {
        true
    }

    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        self.put_with(key, value, condition, true).await
    }

    async fn put_staged(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        self.put_with(key, value, condition, false).await
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let tx = self.transaction(&[DATA, chunks::CHUNKS], IdbTransactionMode::Readwrite, false, "delete")?;
        let done = settle(&tx, &["complete", "abort"])?;
        let data = self.store(&tx, DATA, "delete")?;
        let parts = self.store(&tx, chunks::CHUNKS, "delete")?;
        let deleted = chunks::chunk_range(key, None)
            .and_then(|r| parts.delete(&r))
            .and_then(|_| data.delete(&JsValue::from_str(key)));
        if let Err(e) = deleted {
            let _ = tx.abort();
            return Err(errors::from_js(&self.db_name, "delete", &e));
        }
        self.finish(&tx, done, "delete").await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let tx = self.transaction(&[DATA], IdbTransactionMode::Readonly, false, "list")?;
        let data = self.store(&tx, DATA, "list")?;
        let range = range::prefix_range(prefix).map_err(|e| errors::from_js(&self.db_name, "list", &e))?;
        let req = match &range {
            Some(r) => data.get_all_keys_with_key(r),
            None => data.get_all_keys(),
        };
        let keys = self.result(self.start(req, "list")?).await?;
        let keys = keys.dyn_into::<Array>().map_err(|_| self.corrupt(prefix, "getAllKeys returned no array"))?;
        let mut out: Vec<String> =
            keys.iter().filter_map(|k| k.as_string()).filter(|k| k.starts_with(prefix)).collect();
        // IndexedDB orders by UTF-16 code units; the trait promises byte order.
        out.sort();
        Ok(out)
    }

    fn close(&self) {
        self.closed.borrow_mut().get_or_insert_with(|| {
            format!("IndexedDB connection to '{}' is closed (close() was called)", self.db_name)
        });
        self.db.close();
    }
}

impl Drop for IndexedDbKv {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.set_onclose(None);
        self.db.close();
    }
}
