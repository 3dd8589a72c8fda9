//! Conversions between JS values and engine types. Every failure is an INVALID_ARGUMENT error
//! naming the offending path.

use js_sys::{Array, Float32Array, Reflect};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use super::errors::{invalid, JsResult};
use crate::record::Record;

/// Reads property `key` of `obj` (undefined when `obj` is not an object).
pub fn prop(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// True for `undefined` and `null`.
pub fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A `Float32Array` or an array of numbers as a `Vec<f32>`.
pub fn vector(v: &JsValue, what: &str) -> JsResult<Vec<f32>> {
    if let Some(fa) = v.dyn_ref::<Float32Array>() {
        return Ok(fa.to_vec());
    }
    if let Some(arr) = v.dyn_ref::<Array>() {
        let mut out = Vec::with_capacity(arr.length() as usize);
        for (i, x) in arr.iter().enumerate() {
            let n = x.as_f64().ok_or_else(|| invalid(format!("{what}[{i}] is not a number")))?;
            out.push(n as f32);
        }
        return Ok(out);
    }
    Err(invalid(format!("{what} must be a Float32Array or an array of numbers")))
}

/// Any JSON-compatible JS value as `serde_json::Value`.
pub fn json(v: &JsValue, what: &str) -> JsResult<Value> {
    serde_wasm_bindgen::from_value(v.clone()).map_err(|e| invalid(format!("{what} is not JSON-compatible: {e}")))
}

/// A string property, required.
pub fn string(v: &JsValue, what: &str) -> JsResult<String> {
    v.as_string().ok_or_else(|| invalid(format!("{what} must be a string")))
}

/// An array of `{ id, vector, metadata }` objects.
pub fn records(v: &JsValue) -> JsResult<Vec<Record>> {
    let arr = v.dyn_ref::<Array>().ok_or_else(|| invalid("records must be an array of { id, vector, metadata }"))?;
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
    arr.iter().enumerate().map(|(i, x)| string(&x, &format!("{what}[{i}]"))).collect()
}

/// Serialises to plain JS objects (maps as objects, u64 as numbers).
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> JsResult<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| super::errors::to_js(crate::error::Error::Storage(format!("could not convert result: {e}"))))
}
