//! The lean search path: `collection.searchIds(query, options | k)` and its synchronous twin
//! `searchIdsSync` answer `{ ids: string[], scores: Float32Array }` — one array of strings
//! and one typed array instead of an object per hit — and option objects are read with
//! property names created once per realm (every `Reflect.get` with a fresh key would first
//! decode the key into a new JS string).

use js_sys::{Array, Float32Array, JsString, Object, Reflect};

use super::keys::with_keys;
use wasm_bindgen::JsValue;

use super::errors::JsResult;
use akidb_core::search::exec::{SearchHit, SearchOptions};

/// Options of the lean path: as for `search` (a number is `k`); its `includeMetadata` is
/// ignored: the lean path returns no metadata.
pub fn search_options(options: &JsValue) -> JsResult<SearchOptions> {
    let mut o = super::options::search(options)?;
    o.include_metadata = false;
    Ok(o)
}

/// The ids as a JS array: one string crosses into JS and is split there at NULs (ids never
/// contain control characters), instead of one string decode per id.
fn id_array(hits: &[SearchHit]) -> Array {
    if hits.is_empty() || hits.iter().any(|h| h.id.contains('\0')) {
        return hits.iter().map(|h| JsValue::from_str(&h.id)).collect();
    }
    let mut joined = String::with_capacity(hits.iter().map(|h| h.id.len() + 1).sum());
    for (i, h) in hits.iter().enumerate() {
        if i > 0 {
            joined.push('\0');
        }
        joined.push_str(&h.id);
    }
    JsString::from(joined).split("\0")
}

/// `{ ids: string[], scores: Float32Array }`, best first.
pub fn ids_and_scores(hits: &[SearchHit]) -> JsValue {
    let ids = id_array(hits);
    let scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
    let out = Object::new();
    with_keys(|k| {
        let _ = Reflect::set(&out, &k.ids, &ids);
        let _ = Reflect::set(&out, &k.scores, &Float32Array::from(&scores[..]));
    });
    out.into()
}
