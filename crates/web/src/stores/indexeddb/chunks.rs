//! Large values in chunks. A value longer than [`CHUNK_BYTES`] is stored as records
//! `[key, i]` of the `chunks` object store (array keys) next to a `kv` record `{ v: empty, t,
//! n: chunks, len: bytes }`, written in the same transaction. A range read then reads only the
//! chunks it overlaps — the browser's equivalent of an HTTP `Range` request, so a cold ANN query
//! reads the index header and the probed partitions of a large segment, not all of it.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbKeyRange, IdbObjectStore};

/// Object store of the chunks (schema version 2).
pub const CHUNKS: &str = "chunks";
/// Bytes per chunk: about one partition of a 384-d index, so a partition read touches 1–2.
pub const CHUNK_BYTES: usize = 64 << 10;

/// `[key, i]`
pub fn chunk_key(key: &str, i: usize) -> JsValue {
    let a = Array::new();
    a.push(&JsValue::from_str(key));
    a.push(&JsValue::from_f64(i as f64));
    a.into()
}

/// Every chunk key of `key`, or those of chunks `from..=to`.
pub fn chunk_range(key: &str, span: Option<(usize, usize)>) -> Result<IdbKeyRange, JsValue> {
    let (lo, hi) = match span {
        Some((a, b)) => (chunk_key(key, a), chunk_key(key, b)),
        None => (chunk_key(key, 0), {
            let a = Array::new();
            a.push(&JsValue::from_str(key));
            a.push(&JsValue::from_f64(f64::INFINITY));
            a.into()
        }),
    };
    IdbKeyRange::bound(&lo, &hi)
}

/// Writes `value` as chunks of `key` (inside the caller's readwrite transaction).
pub fn put_chunks(store: &IdbObjectStore, key: &str, value: &[u8]) -> Result<usize, JsValue> {
    let mut n = 0;
    for (i, c) in value.chunks(CHUNK_BYTES).enumerate() {
        store.put_with_key(&Uint8Array::from(c), &chunk_key(key, i))?;
        n = i + 1;
    }
    Ok(n)
}

/// The chunk count and byte length of a chunked record, `None` for an inline one.
pub fn chunked(rec: &JsValue) -> Option<(usize, usize)> {
    let n = Reflect::get(rec, &JsValue::from_str("n")).ok()?.as_f64()?;
    let len = Reflect::get(rec, &JsValue::from_str("len")).ok()?.as_f64()?;
    Some((n as usize, len as usize))
}

/// Concatenates the `Uint8Array`s of a `getAll` result; `None` if one is not bytes.
pub fn concat(parts: &JsValue) -> Option<Vec<u8>> {
    let parts = parts.dyn_ref::<Array>()?;
    let mut out = Vec::new();
    for p in parts.iter() {
        out.extend_from_slice(&p.dyn_into::<Uint8Array>().ok()?.to_vec());
    }
    Some(out)
}
