//! The fuzz targets' bodies: each feeds one input to a parser of untrusted bytes and checks
//! what must hold for every input. A violated property panics (that is the crash a fuzzer
//! reports); a rejected input is simply an `Err` from the parser, which is fine.
//!
//! Each returns a short outcome signature (`"ok"`, or the error message with its numbers
//! removed) that the structured fuzzer uses as cheap feedback; libFuzzer ignores it.
//!
//! Shared by the libFuzzer targets (`fuzz/fuzz_targets/`), the structured fuzzer
//! (`fuzz/src/engine.rs`) and the regression tests (`tests/fuzz_regressions.rs`, which
//! include this file by path).

use akidb_core::kv::s3::list_xml;
use akidb_core::manifest::{CollectionManifest, OpId, SegmentDescriptor, SegmentState};
use akidb_core::search::filter::Filter;
use akidb_core::segment::{self, Segment};
use akidb_core::{validate, Distance, Record};
use serde_json::{json, Value};
use uuid::Uuid;

/// The targets, by name (the names of the libFuzzer binaries and of `fuzz/crashes/<target>/`).
pub const TARGETS: [&str; 4] = ["segment_decode", "manifest_parse", "filter_parse", "s3_list_xml"];

/// Runs target `name` on `data`.
pub fn run(name: &str, data: &[u8]) -> String {
    match name {
        "segment_decode" => segment_decode(data),
        "manifest_parse" => manifest_parse(data),
        "filter_parse" => filter_parse(data),
        "s3_list_xml" => s3_list_xml(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

/// The plain words of an error message, quoted parts and numbers dropped: a coarse "which
/// branch rejected it" signature (the structured fuzzer's feedback).
fn signature(prefix: &str, msg: &str) -> String {
    let mut outside = String::new();
    let mut quote = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '`' | '"' | '\'') => quote = Some(c),
            None => outside.push(c),
        }
    }
    let words = outside
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty() && w.len() <= 12 && w.bytes().all(|b| b.is_ascii_lowercase()))
        .filter(|w| !["corrupt", "data", "manifest", "is", "not", "valid", "at", "line", "column"].contains(w))
        .take(3);
    let mut s = String::from(prefix);
    for w in words {
        s.push(' ');
        s.push_str(w);
    }
    s
}

/// Findings already reported that a long campaign may tolerate, so it can look past them:
/// `AKIDB_FUZZ_TOLERATE=float-drift,...` (scripts/fuzz.sh sets the known ones; the
/// regression tests in tests/fuzz_regressions.rs never tolerate anything).
pub fn tolerated(finding: &str) -> bool {
    static LIST: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        std::env::var("AKIDB_FUZZ_TOLERATE")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|f| f == finding)
}

/// JSON equality, where `float-drift` is tolerated allowing floats a few ULPs apart (serde_json
/// without `float_roundtrip` may read back a written f64 one or two ULPs off).
fn json_same(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    if !tolerated("float-drift") {
        return false;
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x.to_bits().abs_diff(y.to_bits()) <= 4,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_same(v, w)))
        }
        _ => false,
    }
}

fn metadata_same(a: &[Option<Value>], b: &[Option<Value>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => json_same(x, y),
            (None, None) => true,
            _ => false,
        })
}

/// `body` followed by its CRC-32, as the segment trailer stores it.
pub fn with_crc(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&crc32fast_hash(body).to_le_bytes());
    out
}

/// CRC-32 (IEEE), via the hex form the segment module exposes (keeps this file free of a
/// direct crc32fast dependency, so the root crate's tests can include it).
fn crc32fast_hash(bytes: &[u8]) -> u32 {
    u32::from_str_radix(&segment::checksum_hex(bytes), 16).expect("8 hex digits")
}

/// Equality of decoded segments with vectors compared bit for bit (NaN payloads included).
fn same_segment(a: &Segment, b: &Segment) -> bool {
    a.dimension == b.dimension
        && a.ids == b.ids
        && metadata_same(&a.metadata.values(), &b.metadata.values())
        && a.created_at_ms == b.created_at_ms
        && a.vectors.len() == b.vectors.len()
        && a.vectors.iter().zip(&b.vectors).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Segment decoder: never panics; a decoded segment is well formed, re-encodes, decodes back
/// to the same value, and its encoding is a fixed point. The input is tried as given and again
/// with its last four bytes replaced by the right CRC, so mutations get past the checksum.
pub fn segment_decode(data: &[u8]) -> String {
    let first = segment_decode_exact(data);
    if data.len() >= 4 {
        let fixed = with_crc(&data[..data.len() - 4]);
        if fixed != data {
            return segment_decode_exact(&fixed);
        }
    }
    first
}

fn segment_decode_exact(data: &[u8]) -> String {
    let seg = match segment::decode(data) {
        Ok(seg) => seg,
        Err(e) => {
            assert_eq!(e.code(), "CORRUPT", "decode error other than CORRUPT: {e}");
            return signature("segment err: ", &e.to_string());
        }
    };
    assert!(seg.dimension > 0, "decoded a segment of dimension 0");
    assert_eq!(seg.vectors.len(), seg.ids.len() * seg.dimension as usize, "vectors do not match ids x dimension");
    assert_eq!(seg.metadata.len(), seg.ids.len(), "metadata does not match ids");
    for i in 0..seg.len() {
        assert_eq!(seg.vector(i).len(), seg.dimension as usize);
    }
    let bytes = segment::encode(&seg);
    let again = match segment::decode(&bytes) {
        Ok(s) => s,
        Err(e) => panic!("a decoded segment re-encodes to bytes that do not decode: {e}"),
    };
    assert!(same_segment(&seg, &again), "segment changed through encode -> decode:\n{seg:?}\n{again:?}");
    assert!(segment::encode(&again) == bytes || tolerated("float-drift"), "segment encoding is not a fixed point");
    format!("segment ok: {} records", seg.len().min(4))
}

/// A fixed operation id, so the target is deterministic.
fn op(n: u128) -> OpId {
    OpId(Uuid::from_u128(0x00fa_0000_0000_4000_8000_0000_0000_0000 | n))
}

/// Manifest parser: never panics; a loaded manifest is consistent (what the engine relies
/// on), round-trips through `to_json`/`from_json` unchanged, answers the engine's reads without
/// panicking, and every mutation a commit makes to it either fails cleanly or gives a
/// manifest that loads again.
pub fn manifest_parse(data: &[u8]) -> String {
    let m = match CollectionManifest::from_json(data) {
        Ok(m) => m,
        Err(e) => {
            assert_eq!(e.code(), "CORRUPT", "from_json error other than CORRUPT: {e}");
            return signature("manifest err: ", &e.to_string());
        }
    };
    assert!(m.dimension > 0, "loaded a manifest of dimension 0");
    assert!(m.version > 0, "loaded a manifest at version 0");
    assert!(m.segments.iter().all(|s| s.dimension == m.dimension), "loaded a segment of another dimension");

    let json = m.to_json();
    let again = match CollectionManifest::from_json(&json) {
        Ok(a) => a,
        Err(e) => panic!("to_json of a loaded manifest does not load: {e}"),
    };
    assert_eq!(again, m, "manifest changed through to_json -> from_json");
    assert!(again.to_json() == json, "manifest JSON is not a fixed point");

    // Reads the engine makes on a loaded manifest.
    for o in &m.history.ops {
        let v = m.op_version(o);
        assert!(v.is_some(), "an op in the history has no version");
    }
    let _ = m.op_version(&op(1));
    for g in [0, 1, m.gc_gen, m.gc_gen.wrapping_sub(1), u64::MAX] {
        let _ = m.accepts_generation(g);
    }
    let _ = m.check_writable();
    let _ = m.is_dropped();
    if let Some(s) = m.segments.first() {
        assert!(m.segment(&s.id).is_some());
    }

    // Commits: each either fails cleanly or leaves a manifest that loads again.
    let mut w = m.clone();
    let mut steps = Vec::new();
    let desc = SegmentDescriptor {
        id: Uuid::from_u128(0x5e6_0000_0000_4000_8000_0000_0000_0001),
        state: SegmentState::Active,
        record_count: 3,
        dimension: m.dimension,
        size_bytes: 100,
        checksum: "00000000".into(),
        seq: 0,
        gen: m.gc_gen,
    };
    steps.push(w.add_segment(desc).map(|_| ()));
    if let Some(id) = w.segments.first().map(|s| s.id) {
        steps.push(w.seal(&id).map(|_| ()));
    }
    steps.push(w.add_tombstones(&["fuzz-id".to_string()]).map(|_| ()));
    steps.push(w.stamp_commit(op(2), 1_700_000_000_000));
    if steps.iter().all(|r| r.is_ok()) {
        let bytes = w.to_json();
        if let Err(e) = CollectionManifest::from_json(&bytes) {
            panic!("a manifest after a commit does not load again: {e}");
        }
        let stamped = CollectionManifest::from_json(&bytes).expect("checked");
        assert_eq!(stamped.op_version(&op(2)), Some(stamped.version), "the committing op is not recorded");
    }
    let mut d = m.clone();
    d.mark_dropped(1);
    assert!(CollectionManifest::from_json(&d.to_json()).is_ok(), "a dropped manifest does not load");
    format!("manifest ok: {} segments", m.segments.len().min(3))
}

/// Metadata the filter target matches parsed filters against (besides objects from the input).
fn sample_metadata() -> Vec<Value> {
    vec![
        json!({}),
        json!({"genre": "jazz", "year": 1959, "rating": 4.5, "live": false, "tags": ["classic", "modal", 7]}),
        json!({"a": {"b": [{"c": 1}, {"c": "x"}, 2]}, "n": null, "s": ""}),
        json!({"key": -0.0, "match": 1e300, "x": [[1, 2], [3]], "y": {"z": {"w": true}}}),
    ]
}

/// Up to `limit` objects found in `v` (breadth first, without recursion).
fn objects_in(v: &Value, limit: usize) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut queue = std::collections::VecDeque::from([v]);
    while let Some(x) = queue.pop_front() {
        if out.len() >= limit {
            break;
        }
        match x {
            Value::Object(map) => {
                out.push(x);
                queue.extend(map.values());
            }
            Value::Array(items) => queue.extend(items.iter()),
            _ => {}
        }
    }
    out
}

/// Filter parser (input: JSON text; other bytes are skipped): `Filter::parse` never panics and
/// rejects only with INVALID_ARGUMENT; a parsed filter matches any metadata without panicking,
/// deterministically, and composes as documented (`must: [f]` is `f`, `must_not: [f]` is
/// `not f`, `should: [f, f]` is `f`). Also: metadata the engine's batch validation accepts
/// reads back from a segment unchanged (an accepted upsert cannot poison a collection).
pub fn filter_parse(data: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return "not json".into();
    };
    metadata_round_trip(&v);
    let f = match Filter::parse(&v) {
        Ok(f) => f,
        Err(e) => {
            assert_eq!(e.code(), "INVALID_ARGUMENT", "Filter::parse error other than INVALID_ARGUMENT: {e}");
            return signature("filter err: ", &e.to_string());
        }
    };
    assert_eq!(Filter::parse(&v).ok().as_ref(), Some(&f), "Filter::parse is not deterministic");
    let samples = sample_metadata();
    let mut metas: Vec<&Value> = samples.iter().collect();
    metas.extend(objects_in(&v, 16));
    let must = Filter::parse(&json!({ "must": [v.clone()] })).ok();
    let must_not = Filter::parse(&json!({ "must_not": [v.clone()] })).ok();
    let should = Filter::parse(&json!({ "should": [v.clone(), v.clone()] })).ok();
    let composable = v.as_object().is_some_and(|o| !o.is_empty());
    let mut hits = 0;
    for meta in std::iter::once(None).chain(metas.into_iter().map(Some)) {
        let hit = f.matches(meta);
        assert_eq!(hit, f.matches(meta), "matches is not deterministic");
        hits += hit as usize;
        if composable {
            if let Some(g) = &must {
                assert_eq!(g.matches(meta), hit, "must: [f] differs from f on {meta:?}");
            }
            if let Some(g) = &must_not {
                assert_eq!(g.matches(meta), !hit, "must_not: [f] is not the negation of f on {meta:?}");
            }
            if let Some(g) = &should {
                assert_eq!(g.matches(meta), hit, "should: [f, f] differs from f on {meta:?}");
            }
        }
    }
    if f.is_empty() {
        assert_eq!(hits, samples.len() + objects_in(&v, 16).len() + 1, "an empty filter rejected something");
    }
    format!("filter ok: {} hits", hits.min(3))
}

/// If one record with metadata `v` passes the engine's batch validation, a segment holding it
/// decodes back to the same record (the "poisoned collection" class of issue 12).
fn metadata_round_trip(v: &Value) {
    if !v.is_object() {
        return;
    }
    let records = [Record::new("r", vec![1.0, 0.5], Some(v.clone()))];
    if validate::batch_for(&records, 2, Distance::Cosine).is_err() {
        return;
    }
    let seg = Segment::from_records(&records, 2, 7);
    match segment::decode(&segment::encode(&seg)) {
        Ok(back) => assert!(
            metadata_same(&back.metadata.values(), &seg.metadata.values()),
            "accepted metadata changed through the segment codec: {:?} -> {:?}",
            seg.metadata,
            back.metadata
        ),
        Err(e) => panic!("metadata accepted by validation does not read back from its segment: {e}"),
    }
}

/// XML text escaping for the listing round trip; whitespace and controls as character
/// references so `trim()` and line handling cannot change them.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_whitespace() || c.is_control() => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ListObjectsV2 page S3 would send for `page`.
pub fn list_xml(page: &list_xml::ListPage, url: bool) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    if url {
        x.push_str("<EncodingType>url</EncodingType>");
    }
    x.push_str(&format!("<IsTruncated>{}</IsTruncated>", page.next.is_some()));
    for k in &page.keys {
        let k = if url { url_encode(k) } else { k.clone() };
        x.push_str(&format!("<Contents><Key>{}</Key><Size>1</Size></Contents>", xml_escape(&k)));
    }
    if let Some(t) = &page.next {
        x.push_str(&format!("<NextContinuationToken>{}</NextContinuationToken>", xml_escape(t)));
    }
    x.push_str("</ListBucketResult>");
    x
}

/// S3 ListObjectsV2 parser (input: UTF-8 text; other bytes are read lossily): never panics; a
/// parsed page is what S3 meant: writing it back as XML (plain and URL-encoded) parses to the
/// same page, and a truncated page has a non-empty token.
pub fn s3_list_xml(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let page = match list_xml::parse(&text) {
        Ok(p) => p,
        Err(e) => return signature("list err: ", &e),
    };
    if let Some(t) = &page.next {
        assert!(!t.trim().is_empty(), "a continuation token that is blank");
    }
    for url in [false, true] {
        let xml = list_xml(&page, url);
        match list_xml::parse(&xml) {
            Ok(back) => assert_eq!(back, page, "listing changed through XML (url encoding: {url}):\n{xml}"),
            Err(e) => panic!("the XML of a parsed page does not parse (url encoding: {url}): {e}\n{xml}"),
        }
    }
    format!("list ok: {} keys, next {}", page.keys.len().min(3), page.next.is_some())
}
