//! Reading records back from JS: `collection.get(ids, options)` and `collection.scan(options)`
//! (an async iterator of record batches, one snapshot, one segment in memory at a time).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Reflect, Symbol};
use wasm_bindgen::prelude::*;

use super::collection::JsCollection;
use super::convert::{self, to_js};
use super::errors::{invalid, to_js as err_of, JsResult};
use super::keys::with_keys;
use super::options::{self, Fields};
use akidb_core::collection::records::{RowRef, Scan};
use akidb_core::segment::Segment;

/// `{ id, vector?, metadata? }` for one record.
fn record(r: &RowRef, fields: Fields) -> JsResult<JsValue> {
    let o = Object::new();
    with_keys(|k| {
        let _ = Reflect::set(&o, &k.id, &JsValue::from_str(r.id()));
        if fields.vectors {
            let _ = Reflect::set(&o, &k.vector, &Float32Array::from(r.vector()));
        }
        if fields.metadata {
            let m = match r.metadata() {
                Some(m) => to_js(&m)?,
                None => JsValue::NULL,
            };
            let _ = Reflect::set(&o, &k.metadata, &m);
        }
        Ok::<_, JsValue>(())
    })?;
    Ok(o.into())
}

#[wasm_bindgen(js_class = Collection)]
impl JsCollection {
    /// The records with `ids` on this handle's snapshot, in the order asked:
    /// `[{ id, vector, metadata } | null]` (`null`: never written, or deleted). Options:
    /// `includeVectors` (default true; vectors are bit-exact as written), `includeMetadata`
    /// (default true; `null` when the record has none). At most 10,000 ids per call.
    pub async fn get(&self, ids: JsValue, options: JsValue) -> JsResult<JsValue> {
        let ids = convert::strings(&ids, "ids")?;
        let fields = options::get(&options)?;
        let found = self.inner.get(&ids).await.map_err(err_of)?;
        let out = Array::new_with_length(found.len() as u32);
        for (i, f) in found.iter().enumerate() {
            let v = match f {
                Some(r) => record(r, fields)?,
                None => JsValue::NULL,
            };
            out.set(i as u32, v);
        }
        Ok(out.into())
    }

    /// Every live record of this handle's current snapshot (newest write wins, deletes
    /// hidden), as an async iterator of arrays of `{ id, vector, metadata }`:
    /// `for await (const batch of c.scan({ batchSize, includeVectors, includeMetadata, filter }))`.
    /// Commits made while it runs are not seen. It reads one segment at a time; `break` (the
    /// iterator's `return()`) frees it.
    pub fn scan(&self, options: JsValue) -> JsResult<JsValue> {
        let o = options::scan(&options)?;
        let state = ScanState { scan: Some(self.inner.scan(o.filter)), current: None, reading: false, closed: false };
        let version = state.scan.as_ref().map_or(0, Scan::version);
        let it: JsValue =
            JsScan { state: Rc::new(RefCell::new(state)), fields: o.fields, batch: o.batch_size, version }.into();
        // `for await` asks the iterable for its iterator: the scan is its own, and
        // `Object.prototype.valueOf` is a built-in that returns its receiver.
        let proto = Object::get_prototype_of(&it);
        let key = Symbol::async_iterator();
        if !Reflect::has(&proto, &key).unwrap_or(false) {
            let value_of = Reflect::get(&Object::get_prototype_of(&Object::new()), &"valueOf".into())?;
            Reflect::set(&proto, &key, &value_of)?;
        }
        Ok(it)
    }
}

struct ScanState {
    /// `None` once finished (or while a `next()` is reading).
    scan: Option<Scan>,
    /// The segment being handed out: its live rows and how many were handed out.
    current: Option<(Rc<Segment>, Vec<u32>, usize)>,
    /// A `next()` is reading the next segment.
    reading: bool,
    /// `return()` was called: a read still in flight is dropped when it lands.
    closed: bool,
}

/// A running `collection.scan()`: an async iterator of record batches.
#[wasm_bindgen(js_name = RecordScan)]
pub struct JsScan {
    state: Rc<RefCell<ScanState>>,
    fields: Fields,
    batch: usize,
    version: u64,
}

fn step(done: bool, value: JsValue) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"done".into(), &JsValue::from_bool(done));
    let _ = Reflect::set(&o, &"value".into(), &value);
    o.into()
}

#[wasm_bindgen(js_class = RecordScan)]
impl JsScan {
    /// The version of the snapshot being scanned.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.version as f64
    }

    /// The next batch → `{ done: false, value: [records] }`, then `{ done: true }`.
    pub async fn next(&self) -> JsResult<JsValue> {
        loop {
            let pending = {
                let mut st = self.state.borrow_mut();
                if st.reading {
                    return Err(busy());
                }
                if let Some((seg, rows, at)) = st.current.as_mut() {
                    if *at < rows.len() {
                        let end = (*at + self.batch).min(rows.len());
                        let out = Array::new_with_length((end - *at) as u32);
                        for (i, &row) in rows[*at..end].iter().enumerate() {
                            out.set(
                                i as u32,
                                record(&RowRef { segment: seg.clone(), row: row as usize }, self.fields)?,
                            );
                        }
                        *at = end;
                        return Ok(step(false, out.into()));
                    }
                    st.current = None;
                }
                st.reading = st.scan.is_some();
                st.scan.take()
            };
            let Some(mut scan) = pending else {
                return Ok(step(true, JsValue::UNDEFINED));
            };
            // A failed read ends the scan (a retry would start over: call scan() again).
            let next = scan.next_segment().await;
            let mut st = self.state.borrow_mut();
            st.reading = false;
            let next = next.map_err(err_of)?;
            if st.closed {
                return Ok(step(true, JsValue::UNDEFINED));
            }
            match next {
                Some((seg, rows)) => {
                    st.current = Some((seg, rows, 0));
                    st.scan = Some(scan);
                }
                None => return Ok(step(true, JsValue::UNDEFINED)),
            }
        }
    }

    /// Ends the scan early (what `break` in `for await` calls) and frees what it holds.
    #[wasm_bindgen(js_name = "return")]
    pub fn finish(&self) -> JsValue {
        let mut st = self.state.borrow_mut();
        st.scan = None;
        st.current = None;
        st.closed = true;
        step(true, JsValue::UNDEFINED)
    }
}

/// `next()` called while another `next()` of the same scan is pending.
fn busy() -> JsValue {
    invalid("scan.next() was called while the previous next() is pending; await each batch in turn")
}
