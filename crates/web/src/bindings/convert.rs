//! Conversions between JS values and engine types. Every failure is an INVALID_ARGUMENT error
//! naming the offending path.

use js_sys::{Array, Float32Array, Object, Reflect};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

use super::errors::{invalid, JsResult};
use akidb_core::limits::{MAX_DELETE_IDS, MAX_DIMENSION, MAX_JSON_DEPTH, MAX_JSON_NODES, MAX_UPSERT_RECORDS};
use akidb_core::record::Record;

pub use crate::js::prop;

/// True for `undefined` and `null`.
pub fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A `Float32Array` or an array of numbers as a `Vec<f32>`; the length is checked against the
/// largest dimension before anything is allocated (a sparse `new Array(2 ** 31)` included).
pub fn vector(v: &JsValue, what: &str) -> JsResult<Vec<f32>> {
    let too_long = |len: u32| invalid(format!("{what} has {len} values; the largest dimension is {MAX_DIMENSION}"));
    if let Some(fa) = v.dyn_ref::<Float32Array>() {
        if fa.length() > MAX_DIMENSION {
            return Err(too_long(fa.length()));
        }
        return Ok(fa.to_vec());
    }
    if let Some(arr) = v.dyn_ref::<Array>() {
        if arr.length() > MAX_DIMENSION {
            return Err(too_long(arr.length()));
        }
        let mut out = Vec::with_capacity(arr.length() as usize);
        for (i, x) in arr.iter().enumerate() {
            let n = x.as_f64().ok_or_else(|| invalid(format!("{what}[{i}] is not a number")))?;
            out.push(n as f32);
        }
        return Ok(out);
    }
    Err(invalid(format!("{what} must be a Float32Array or an array of numbers")))
}

/// A container being converted: its source, the next index, what is built so far.
enum Frame {
    Array { src: Array, next: u32, out: Vec<Value> },
    Object { src: JsValue, keys: Array, next: u32, out: Map<String, Value>, key: String },
}

/// Either a finished scalar or a container to descend into.
enum Start {
    Leaf(Value),
    Container(Frame),
}

/// Any JSON-compatible JS value as `serde_json::Value`, converted without recursion: at most
/// [`MAX_JSON_DEPTH`] levels and [`MAX_JSON_NODES`] values, so neither a deeply nested nor a
/// circular value can overflow the wasm stack (a cycle is just too deep). `undefined`
/// properties are skipped and `undefined` array items become `null`, as in `JSON.stringify`;
/// non-finite numbers, functions, symbols and bigints are rejected.
pub fn json(v: &JsValue, what: &str) -> JsResult<Value> {
    let mut nodes = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    let mut next = v.clone();
    loop {
        nodes += 1;
        if nodes > MAX_JSON_NODES {
            return Err(invalid(format!("{what} has more than {MAX_JSON_NODES} values (the limit)")));
        }
        let (mut done, mut attach) = match start(&next, what)? {
            Start::Leaf(x) => (x, true),
            Start::Container(f) => {
                if stack.len() >= MAX_JSON_DEPTH {
                    return Err(invalid(format!(
                        "{what} is nested deeper than {MAX_JSON_DEPTH} levels (or contains a cycle)"
                    )));
                }
                stack.push(f);
                // Nothing finished yet: go straight to the new container's first child.
                (Value::Null, false)
            }
        };
        // Attach finished values to their parents and find the next child to convert.
        loop {
            let Some(top) = stack.last_mut() else { return Ok(done) };
            if attach {
                match top {
                    Frame::Array { out, .. } => out.push(std::mem::take(&mut done)),
                    Frame::Object { out, key, .. } => {
                        out.insert(std::mem::take(key), std::mem::take(&mut done));
                    }
                }
            }
            attach = true;
            let child = match top {
                Frame::Array { src, next: i, .. } if *i < src.length() => {
                    *i += 1;
                    Some(src.get(*i - 1))
                }
                Frame::Object { src, keys, next: i, key, .. } => {
                    let mut found = None;
                    while *i < keys.length() {
                        let k = keys.get(*i);
                        *i += 1;
                        let value = Reflect::get(src, &k).unwrap_or(JsValue::UNDEFINED);
                        if !value.is_undefined() {
                            *key = k.as_string().unwrap_or_default();
                            found = Some(value);
                            break;
                        }
                    }
                    found
                }
                _ => None,
            };
            match child {
                Some(c) => {
                    next = c;
                    break;
                }
                None => {
                    done = match stack.pop().expect("top exists") {
                        Frame::Array { out, .. } => Value::Array(out),
                        Frame::Object { out, .. } => Value::Object(out),
                    };
                }
            }
        }
    }
}

fn start(v: &JsValue, what: &str) -> JsResult<Start> {
    if is_absent(v) {
        return Ok(Start::Leaf(Value::Null));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Start::Leaf(Value::Bool(b)));
    }
    if let Some(n) = v.as_f64() {
        return Number::from_f64(n)
            .map(|n| Start::Leaf(Value::Number(n)))
            .ok_or_else(|| invalid(format!("{what} is not JSON-compatible: contains the number {n}")));
    }
    if let Some(s) = v.as_string() {
        return Ok(Start::Leaf(Value::String(s)));
    }
    if Array::is_array(v) {
        let src: Array = v.clone().unchecked_into();
        if src.length() as usize > MAX_JSON_NODES {
            return Err(invalid(format!(
                "{what} has an array of {} items (the limit is {MAX_JSON_NODES})",
                src.length()
            )));
        }
        return Ok(Start::Container(Frame::Array { src, next: 0, out: Vec::new() }));
    }
    if v.is_function() || v.is_symbol() || v.is_bigint() || !v.is_object() {
        return Err(invalid(format!("{what} is not JSON-compatible (functions, symbols and bigints are not)")));
    }
    let keys = Object::keys(v.unchecked_ref::<Object>());
    if keys.length() as usize > MAX_JSON_NODES {
        return Err(invalid(format!("{what} has an object of {} keys (the limit is {MAX_JSON_NODES})", keys.length())));
    }
    Ok(Start::Container(Frame::Object { src: v.clone(), keys, next: 0, out: Map::new(), key: String::new() }))
}

/// A string property, required.
pub fn string(v: &JsValue, what: &str) -> JsResult<String> {
    v.as_string().ok_or_else(|| invalid(format!("{what} must be a string")))
}

/// An array of `{ id, vector, metadata }` objects.
pub fn records(v: &JsValue) -> JsResult<Vec<Record>> {
    let arr = v.dyn_ref::<Array>().ok_or_else(|| invalid("records must be an array of { id, vector, metadata }"))?;
    if arr.length() as usize > MAX_UPSERT_RECORDS {
        return Err(invalid(format!("{} records in one upsert; the limit is {MAX_UPSERT_RECORDS}", arr.length())));
    }
    let mut out = Vec::with_capacity(arr.length() as usize);
    for (i, item) in arr.iter().enumerate() {
        if !item.is_object() {
            return Err(invalid(format!("records[{i}] must be an object")));
        }
        let id = string(&prop(&item, "id"), &format!("records[{i}].id"))?;
        let vector = vector(&prop(&item, "vector"), &format!("records[{i}].vector"))?;
        let meta = prop(&item, "metadata");
        let metadata = if is_absent(&meta) { None } else { Some(json(&meta, &format!("records[{i}].metadata"))?) };
        out.push(Record { id, vector, metadata });
    }
    Ok(out)
}

/// An array of strings.
pub fn strings(v: &JsValue, what: &str) -> JsResult<Vec<String>> {
    let arr = v.dyn_ref::<Array>().ok_or_else(|| invalid(format!("{what} must be an array of strings")))?;
    if arr.length() as usize > MAX_DELETE_IDS {
        return Err(invalid(format!("{what} has {} items; the limit is {MAX_DELETE_IDS}", arr.length())));
    }
    arr.iter().enumerate().map(|(i, x)| string(&x, &format!("{what}[{i}]"))).collect()
}

/// Serialises to plain JS objects (maps as objects, u64 as numbers).
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> JsResult<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| super::errors::to_js(akidb_core::error::Error::Storage(format!("could not convert result: {e}"))))
}
