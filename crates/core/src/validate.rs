//! Input validation. Everything a caller passes is checked here before anything is written, and
//! every message names the offending item.

use std::collections::HashSet;

use crate::distance::Distance;
use crate::error::{Error, Result};
use crate::record::Record;

use crate::limits::{MAX_DELETE_IDS, MAX_METADATA_BYTES, MAX_METADATA_DEPTH, MAX_UPSERT_RECORDS};
pub use crate::limits::{MAX_DIMENSION, MAX_ID_BYTES, MAX_NAME_BYTES};

/// Collection names: 1..=128 bytes, not `.`, no '/', '\\', "..", or control characters (they
/// become object keys and URL path segments, so nothing may escape the collection's prefix or
/// be rewritten by URL normalisation).
pub fn collection_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("collection name must not be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::invalid(format!(
            "collection name is {} bytes long; the limit is {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    if name.contains('/') || name.contains('\\') {
        return Err(Error::invalid(format!("collection name {name:?} must not contain '/' or '\\'")));
    }
    if name == "." {
        return Err(Error::invalid("collection name must not be '.'"));
    }
    if name.contains("..") {
        return Err(Error::invalid(format!("collection name {name:?} must not contain '..'")));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(format!("collection name {name:?} must not contain control characters")));
    }
    Ok(())
}

/// Dimensions: 1..=4096.
pub fn dimension(dim: u32) -> Result<u16> {
    if dim == 0 || dim > MAX_DIMENSION {
        return Err(Error::invalid(format!("dimension must be between 1 and {MAX_DIMENSION}, got {dim}")));
    }
    Ok(dim as u16)
}

/// A vector of the right length with only finite values; `what` names it in errors.
pub fn vector(v: &[f32], dim: u16, what: &str) -> Result<()> {
    if v.len() != dim as usize {
        return Err(Error::invalid(format!("{what}: vector has dimension {}, collection expects {dim}", v.len())));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid(format!("{what}: vector[{i}] is {} (must be finite)", v[i])));
    }
    Ok(())
}

/// A record id: 1..=1024 bytes, no control characters.
pub fn record_id(id: &str, what: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(format!("{what}: id must not be empty")));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(Error::invalid(format!("{what}: id is {} bytes; the limit is {MAX_ID_BYTES}", id.len())));
    }
    if id.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(format!("{what}: id {id:?} contains control characters")));
    }
    Ok(())
}

/// A write batch: non-empty, valid ids, no duplicate id, vectors of the right shape, metadata
/// a JSON object (or absent).
pub fn batch(records: &[Record], dim: u16) -> Result<()> {
    if records.is_empty() {
        return Err(Error::invalid("batch is empty: upsert needs at least one record"));
    }
    if records.len() > MAX_UPSERT_RECORDS {
        return Err(Error::invalid(format!(
            "upsert of {} records; the limit is {MAX_UPSERT_RECORDS} per call",
            records.len()
        )));
    }
    let mut seen = HashSet::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let what = format!("record {i} (id {:?})", r.id);
        record_id(&r.id, &what)?;
        if !seen.insert(r.id.as_str()) {
            return Err(Error::invalid(format!("{what}: duplicate id within one batch")));
        }
        vector(&r.vector, dim, &what)?;
        if let Some(m) = &r.metadata {
            if !(m.is_object() || m.is_null()) {
                return Err(Error::invalid(format!("{what}: metadata must be a JSON object")));
            }
            metadata(m, &what)?;
        }
    }
    Ok(())
}

/// Metadata within [`MAX_METADATA_DEPTH`] and [`MAX_METADATA_BYTES`]; measured without
/// recursion, so even a value nested far deeper than the limit is rejected safely.
pub fn metadata(m: &serde_json::Value, what: &str) -> Result<()> {
    use serde_json::Value;
    let mut bytes = 0usize;
    let mut stack: Vec<(&Value, usize)> = vec![(m, 1)];
    while let Some((v, depth)) = stack.pop() {
        if depth > MAX_METADATA_DEPTH {
            return Err(Error::invalid(format!(
                "{what}: metadata is nested deeper than {MAX_METADATA_DEPTH} levels (the limit)"
            )));
        }
        bytes += match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 24,
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                stack.extend(items.iter().map(|x| (x, depth + 1)));
                items.len() + 2
            }
            Value::Object(map) => {
                stack.extend(map.iter().map(|(k, x)| {
                    bytes += k.len() + 3;
                    (x, depth + 1)
                }));
                map.len() + 2
            }
        };
        if bytes > MAX_METADATA_BYTES {
            return Err(Error::invalid(format!(
                "{what}: metadata is larger than {MAX_METADATA_BYTES} bytes of JSON (the limit)"
            )));
        }
    }
    Ok(())
}

/// [`batch`], plus everything that could otherwise only fail later, inside a group commit
/// carrying other callers' records: zero vectors under cosine distance (they cannot be
/// normalised) and metadata that would not read back from a segment (one encode → decode
/// round trip per record, with the decoder's own limits).
pub fn batch_for(records: &[Record], dim: u16, distance: Distance) -> Result<()> {
    batch(records, dim)?;
    for (i, r) in records.iter().enumerate() {
        if distance == Distance::Cosine && r.vector.iter().all(|x| *x == 0.0) {
            return Err(Error::invalid(format!(
                "record {i} (id {:?}): zero vector cannot be used with cosine distance",
                r.id
            )));
        }
        if let Some(m) = r.metadata.as_ref().filter(|m| !m.is_null()) {
            // `batch` bounded depth and size, so this cannot recurse deeply or allocate much.
            let bytes = serde_json::to_vec(m).map_err(|e| Error::invalid(format!("record {i}: metadata: {e}")))?;
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                return Err(Error::invalid(format!(
                    "record {i} (id {:?}): metadata would not read back ({e}); nest it less deeply",
                    r.id
                )));
            }
        }
    }
    Ok(())
}

/// Ids for a delete: non-empty list of valid ids (duplicates are harmless and removed).
pub fn delete_ids(ids: &[String]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Err(Error::invalid("delete needs at least one id"));
    }
    if ids.len() > MAX_DELETE_IDS {
        return Err(Error::invalid(format!("delete of {} ids; the limit is {MAX_DELETE_IDS} per call", ids.len())));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        record_id(id, &format!("ids[{i}]"))?;
        if seen.insert(id.as_str()) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn names() {
        assert!(collection_name("docs-1_a.b").is_ok());
        assert!(collection_name("ünïcödé").is_ok());
        for bad in ["", ".", "a/b", "a\\b", "..", "a..b", "tab\tname", "nl\n"] {
            let e = collection_name(bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT", "{bad:?}");
        }
        assert!(collection_name(&"x".repeat(128)).is_ok());
        let e = collection_name(&"x".repeat(129)).unwrap_err();
        assert!(e.to_string().contains("129 bytes"), "{e}");
    }

    #[test]
    fn dimensions() {
        assert_eq!(dimension(1).unwrap(), 1);
        assert_eq!(dimension(4096).unwrap(), 4096);
        assert!(dimension(0).is_err());
        assert!(dimension(4097).is_err());
    }

    #[test]
    fn batches_name_the_offender() {
        let ok = Record::new("a", vec![1.0, 2.0], None);
        assert!(batch(std::slice::from_ref(&ok), 2).is_ok());
        let e = batch(&[], 2).unwrap_err();
        assert!(e.to_string().contains("empty"));
        let e = batch(&[ok.clone(), Record::new("b", vec![1.0], None)], 2).unwrap_err();
        assert!(e.to_string().contains("record 1 (id \"b\")") && e.to_string().contains("dimension 1"), "{e}");
        let e = batch(&[Record::new("n", vec![1.0, f32::NAN], None)], 2).unwrap_err();
        assert!(e.to_string().contains("vector[1] is NaN"), "{e}");
        let e = batch(&[Record::new("i", vec![f32::INFINITY, 0.0], None)], 2).unwrap_err();
        assert!(e.to_string().contains("vector[0] is inf"), "{e}");
        let e = batch(&[ok.clone(), ok.clone()], 2).unwrap_err();
        assert!(e.to_string().contains("record 1 (id \"a\"): duplicate id"), "{e}");
        let e = batch(&[Record::new("m", vec![1.0, 2.0], Some(serde_json::json!([1])))], 2).unwrap_err();
        assert!(e.to_string().contains("metadata must be a JSON object"), "{e}");
        let e = batch(&[Record::new("", vec![1.0, 2.0], None)], 2).unwrap_err();
        assert!(e.to_string().contains("id must not be empty"), "{e}");
    }

    #[test]
    fn batches_for_a_collection_check_what_would_fail_later() {
        let zero = Record::new("z", vec![0.0, 0.0], None);
        let e = batch_for(std::slice::from_ref(&zero), 2, Distance::Cosine).unwrap_err();
        assert!(e.to_string().contains("record 0 (id \"z\"): zero vector"), "{e}");
        assert!(batch_for(std::slice::from_ref(&zero), 2, Distance::L2).is_ok());
        let mut deep = serde_json::json!(1);
        for _ in 0..200 {
            deep = serde_json::json!({ "a": deep });
        }
        let e = batch_for(&[Record::new("d", vec![1.0, 0.0], Some(deep))], 2, Distance::L2).unwrap_err();
        assert!(e.to_string().contains("nested deeper than"), "{e}");
    }

    #[test]
    fn metadata_limits_are_measured_without_recursion() {
        let mut deep = serde_json::json!(1);
        for _ in 0..100_000 {
            deep = serde_json::Value::Array(vec![deep]);
        }
        let e = metadata(&deep, "r").unwrap_err();
        assert!(e.to_string().contains("deeper than 32"), "{e}");
        // Dropping a 100,000-deep value recurses; take it apart iteratively instead.
        let mut v = deep;
        while let serde_json::Value::Array(mut items) = v {
            v = items.pop().unwrap_or(serde_json::Value::Null);
        }
        let big = serde_json::json!({ "s": "x".repeat(MAX_METADATA_BYTES) });
        assert!(metadata(&big, "r").unwrap_err().to_string().contains("larger than"));
        assert!(metadata(&serde_json::json!({ "a": [1, { "b": "c" }] }), "r").is_ok());
    }

    #[test]
    fn delete_ids_dedupe() {
        assert_eq!(delete_ids(&["a".into(), "a".into(), "b".into()]).unwrap(), vec!["a", "b"]);
        assert!(delete_ids(&[]).is_err());
    }
}
