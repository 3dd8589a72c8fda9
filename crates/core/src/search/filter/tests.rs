//! Tests of filter parsing, matching and limits.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use serde_json::json;

use super::*;

fn f(v: Value) -> Filter {
    Filter::parse(&v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn parse_err(v: Value) -> String {
    match Filter::parse(&v) {
        Err(e) => {
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            match e {
                Error::InvalidArgument(m) => m,
                _ => unreachable!(),
            }
        }
        Ok(f) => panic!("{v} parsed as {f:?}"),
    }
}

fn meta() -> Value {
    json!({
        "genre": "jazz",
        "year": 1959,
        "rating": 4.5,
        "live": false,
        "tags": ["classic", "modal", 7],
        "artist": { "name": "Miles", "born": 1926, "instruments": ["trumpet"] },
        "tracks": [ { "title": "So What", "len": 562 }, { "title": "Blue in Green", "len": 337 } ],
        "nothing": null,
        "empty": []
    })
}

/// Checks the filter on the JSON value and on the same metadata in a segment's column (the
/// representation searches read), which must agree.
fn check(filter: Value, want: bool) {
    let m = meta();
    assert_eq!(f(filter.clone()).matches(Some(&m)), want, "{filter}");
    let mut col = crate::segment::MetaBuilder::default();
    col.push(Some(&m));
    let col = col.finish();
    assert_eq!(f(filter.clone()).matches_view(col.row(0)), want, "{filter} on the column");
}

#[test]
fn empty_filter_matches_everything() {
    let e = f(json!({}));
    assert!(e.is_empty());
    assert!(e.matches(None));
    assert!(e.matches(Some(&meta())));
    assert!(e.matches(Some(&json!(42))));
    let e = f(json!({ "must": [], "should": [], "must_not": null }));
    assert!(e.is_empty());
    assert!(e.matches(None));
    assert!(!f(json!({ "must": [{ "key": "a", "match": 1 }] })).is_empty());
}

#[test]
fn match_scalars() {
    check(json!({ "must": [{ "key": "genre", "match": "jazz" }] }), true);
    check(json!({ "must": [{ "key": "genre", "match": "rock" }] }), false);
    check(json!({ "must": [{ "key": "year", "match": 1959 }] }), true);
    check(json!({ "must": [{ "key": "year", "match": 1959.0 }] }), true);
    check(json!({ "must": [{ "key": "rating", "match": 4.5 }] }), true);
    check(json!({ "must": [{ "key": "live", "match": false }] }), true);
    check(json!({ "must": [{ "key": "live", "match": true }] }), false);
    // No type coercion.
    check(json!({ "must": [{ "key": "year", "match": "1959" }] }), false);
    check(json!({ "must": [{ "key": "live", "match": 0 }] }), false);
    check(json!({ "must": [{ "key": "missing", "match": "x" }] }), false);
    check(json!({ "must": [{ "key": "nothing", "match": "x" }] }), false);
}

#[test]
fn match_value_and_any_forms() {
    check(json!({ "must": [{ "key": "genre", "match": { "value": "jazz" } }] }), true);
    check(json!({ "must": [{ "key": "genre", "match": { "any": ["rock", "jazz"] } }] }), true);
    check(json!({ "must": [{ "key": "genre", "match": { "any": ["rock", 1] } }] }), false);
    check(json!({ "must": [{ "key": "year", "match": { "any": [1, 1959] } }] }), true);
    check(json!({ "must": [{ "key": "genre", "match": { "any": [] } }] }), false);
}

#[test]
fn arrays_match_any_element() {
    check(json!({ "must": [{ "key": "tags", "match": "modal" }] }), true);
    check(json!({ "must": [{ "key": "tags", "match": 7 }] }), true);
    check(json!({ "must": [{ "key": "tags", "match": "pop" }] }), false);
    check(json!({ "must": [{ "key": "tags", "match": { "any": ["pop", "classic"] } }] }), true);
    check(json!({ "must": [{ "key": "tags", "range": { "gte": 7 } }] }), true);
    check(json!({ "must": [{ "key": "tags", "range": { "gt": 7 } }] }), false);
    check(json!({ "must": [{ "key": "artist.instruments", "match": "trumpet" }] }), true);
    // Through an array of objects, with or without Qdrant's [] marker.
    check(json!({ "must": [{ "key": "tracks.title", "match": "Blue in Green" }] }), true);
    check(json!({ "must": [{ "key": "tracks[].title", "match": "So What" }] }), true);
    check(json!({ "must": [{ "key": "tracks.len", "range": { "gt": 500 } }] }), true);
    check(json!({ "must": [{ "key": "tracks.len", "range": { "gt": 600 } }] }), false);
    check(json!({ "must": [{ "key": "tags[]", "match": "classic" }] }), true);
    // must_not with an array excludes if any element matches.
    check(json!({ "must_not": [{ "key": "tags", "match": "modal" }] }), false);
}

#[test]
fn nested_paths() {
    check(json!({ "must": [{ "key": "artist.name", "match": "Miles" }] }), true);
    check(json!({ "must": [{ "key": "artist.born", "range": { "lt": 1930 } }] }), true);
    check(json!({ "must": [{ "key": "artist.name.first", "match": "Miles" }] }), false);
    check(json!({ "must": [{ "key": "genre.x", "exists": true }] }), false);
    // A literal dotted key is not addressable: dots always split.
    let m = json!({ "a.b": 1 });
    assert!(!f(json!({ "must": [{ "key": "a.b", "match": 1 }] })).matches(Some(&m)));
}

#[test]
fn ranges() {
    check(json!({ "must": [{ "key": "year", "range": { "gte": 1959, "lte": 1959 } }] }), true);
    check(json!({ "must": [{ "key": "year", "range": { "gt": 1959 } }] }), false);
    check(json!({ "must": [{ "key": "year", "range": { "lt": 1959 } }] }), false);
    check(json!({ "must": [{ "key": "year", "range": { "gt": 1950, "lt": 1960 } }] }), true);
    check(json!({ "must": [{ "key": "rating", "range": { "gt": 4.4, "lt": 4.6 } }] }), true);
    check(json!({ "must": [{ "key": "year", "range": { "gt": -1e300 } }] }), true);
    // Non-numbers never satisfy a range.
    check(json!({ "must": [{ "key": "genre", "range": { "gt": 0 } }] }), false);
    check(json!({ "must": [{ "key": "live", "range": { "gte": 0 } }] }), false);
    check(json!({ "must": [{ "key": "missing", "range": { "gte": 0 } }] }), false);
    // A null bound counts as absent.
    check(json!({ "must": [{ "key": "year", "range": { "gt": null, "lt": 2000 } }] }), true);
}

#[test]
fn exists() {
    check(json!({ "must": [{ "key": "genre", "exists": true }] }), true);
    check(json!({ "must": [{ "key": "artist", "exists": true }] }), true);
    check(json!({ "must": [{ "key": "missing", "exists": true }] }), false);
    check(json!({ "must": [{ "key": "missing", "exists": false }] }), true);
    check(json!({ "must": [{ "key": "nothing", "exists": true }] }), false);
    check(json!({ "must": [{ "key": "empty", "exists": true }] }), false);
    check(json!({ "must": [{ "key": "tracks.title", "exists": true }] }), true);
    check(json!({ "must": [{ "key": "live", "exists": true }] }), true);
}

#[test]
fn clause_semantics() {
    let yes = json!({ "key": "genre", "match": "jazz" });
    let no = json!({ "key": "genre", "match": "rock" });
    check(json!({ "must": [yes, yes] }), true);
    check(json!({ "must": [yes, no] }), false);
    check(json!({ "should": [no, yes] }), true);
    check(json!({ "should": [no, no] }), false);
    check(json!({ "must_not": [no] }), true);
    check(json!({ "must_not": [no, yes] }), false);
    check(json!({ "must": [yes], "should": [no], "must_not": [no] }), false);
    check(json!({ "must": [yes], "should": [yes], "must_not": [no] }), true);
    check(json!({ "must": [yes], "should": [], "must_not": [] }), true);
}

#[test]
fn nested_filters() {
    let yes = json!({ "key": "genre", "match": "jazz" });
    let no = json!({ "key": "genre", "match": "rock" });
    check(json!({ "must": [{ "should": [no, yes] }] }), true);
    check(json!({ "must": [{ "should": [no, no] }] }), false);
    check(json!({ "must_not": [{ "must": [yes, no] }] }), true);
    check(json!({ "should": [no, { "must_not": [no] }] }), true);
    check(json!({ "must": [{ "must": [{ "must": [{ "must_not": [{ "should": [yes] }] }] }] }] }), false);
}

#[test]
fn missing_or_non_object_metadata() {
    let must = f(json!({ "must": [{ "key": "a", "match": 1 }] }));
    let must_not = f(json!({ "must_not": [{ "key": "a", "match": 1 }] }));
    let absent = f(json!({ "must": [{ "key": "a", "exists": false }] }));
    let nested = f(json!({ "must": [{ "must_not": [{ "key": "a", "exists": true }] }] }));
    for m in [None, Some(json!(null)), Some(json!([1, 2])), Some(json!("a")), Some(json!({}))] {
        let m = m.as_ref();
        assert!(!must.matches(m), "{m:?}");
        assert!(must_not.matches(m), "{m:?}");
        assert!(absent.matches(m), "{m:?}");
        assert!(nested.matches(m), "{m:?}");
    }
}

#[test]
fn errors_name_problem_and_location() {
    let cases = [
        (json!({ "mustt": [] }), "filter: unknown field 'mustt'"),
        (json!([]), "filter: must be an object with must, should or must_not"),
        (json!(null), "filter: must be an object with must, should or must_not"),
        (json!({ "must": {} }), "filter: 'must' must be an array of conditions"),
        (json!({ "must": [1] }), "filter.must[0]: a condition must be an object"),
        (
            json!({ "must": [{ "key": "a", "match": 1 }, { "key": "b", "range": {} }] }),
            "filter.must[1]: 'range' needs at least one of gt, gte, lt, lte",
        ),
        (json!({ "should": [{ "key": "", "match": 1 }] }), "filter.should[0]: 'key' must be a non-empty string"),
        (json!({ "should": [{ "key": 5, "match": 1 }] }), "filter.should[0]: 'key' must be a non-empty string"),
        (json!({ "should": [{ "match": 1 }] }), "filter.should[0]: 'key' must be a non-empty string"),
        (
            json!({ "must": [{ "key": "a..b", "match": 1 }] }),
            "filter.must[0]: 'key' \"a..b\" has an empty path segment",
        ),
        (json!({ "must": [{ "key": "a" }] }), "filter.must[0]: needs one of 'match', 'range' or 'exists'"),
        (
            json!({ "must": [{ "key": "a", "match": 1, "exists": true }] }),
            "filter.must[0]: only one of 'match', 'range' or 'exists' is allowed",
        ),
        (json!({ "must": [{ "key": "a", "mach": 1 }] }), "filter.must[0]: unknown field 'mach'"),
        (
            json!({ "must": [{ "key": "a", "match": null }] }),
            "filter.must[0]: 'match' must be a string, number or bool, or an object with 'value' or 'any'",
        ),
        (
            json!({ "must": [{ "key": "a", "match": [1, 2] }] }),
            "filter.must[0]: 'match' must be a string, number or bool, or an object with 'value' or 'any'",
        ),
        (
            json!({ "must": [{ "key": "a", "match": {} }] }),
            "filter.must[0]: 'match' must be a string, number or bool, or an object with 'value' or 'any'",
        ),
        (
            json!({ "must": [{ "key": "a", "match": { "value": 1, "any": [1] } }] }),
            "filter.must[0]: 'match' takes only one of 'value' or 'any'",
        ),
        (
            json!({ "must": [{ "key": "a", "match": { "value": [1] } }] }),
            "filter.must[0]: 'match.value' must be a string, number or bool",
        ),
        (
            json!({ "must": [{ "key": "a", "match": { "any": [1, {}] } }] }),
            "filter.must[0]: 'match.any[1]' must be a string, number or bool",
        ),
        (json!({ "must": [{ "key": "a", "match": { "any": 1 } }] }), "filter.must[0]: 'match.any' must be an array"),
        (
            json!({ "must": [{ "key": "a", "match": { "text": "x" } }] }),
            "filter.must[0]: unknown field 'text' in 'match'",
        ),
        (json!({ "must": [{ "key": "a", "range": { "gt": "1" } }] }), "filter.must[0]: 'range.gt' must be a number"),
        (
            json!({ "must": [{ "key": "a", "range": { "gt": 1, "between": 2 } }] }),
            "filter.must[0]: unknown field 'between' in 'range'",
        ),
        (
            json!({ "must": [{ "key": "a", "range": 5 }] }),
            "filter.must[0]: 'range' must be an object with gt, gte, lt or lte",
        ),
        (
            json!({ "must": [{ "key": "a", "range": { "gt": null } }] }),
            "filter.must[0]: 'range' needs at least one of gt, gte, lt, lte",
        ),
        (json!({ "must": [{ "key": "a", "exists": "yes" }] }), "filter.must[0]: 'exists' must be true or false"),
        (
            json!({ "must": [{}] }),
            "filter.must[0]: empty condition: expected 'key' with 'match', 'range' or 'exists', or a nested filter",
        ),
        (
            json!({ "must_not": [{ "should": [{ "key": "a", "range": {} }] }] }),
            "filter.must_not[0].should[0]: 'range' needs at least one of gt, gte, lt, lte",
        ),
        (json!({ "must": [{ "should": [], "foo": 1 }] }), "filter.must[0]: unknown field 'foo'"),
        (json!({ "must": [{ "is_empty": { "key": "a" } }] }), "filter.must[0]: unknown field 'is_empty'"),
    ];
    for (input, want) in cases {
        assert_eq!(parse_err(input.clone()), want, "{input}");
    }
}

#[test]
fn nesting_depth_is_bounded() {
    // Wrapping a condition n+1 times in {"must": [..]} nests filters n levels deep.
    let mut v = json!({ "key": "a", "exists": true });
    for _ in 0..=MAX_DEPTH {
        v = json!({ "must": [v] });
    }
    assert!(Filter::parse(&v).unwrap().matches(Some(&json!({ "a": 1 }))));
    let too_deep = json!({ "must": [v] });
    assert!(parse_err(too_deep).contains("nested deeper than 32 levels"));
}

#[test]
fn filters_are_bounded_in_size() {
    let cond = json!({ "key": "a", "match": 1 });
    let many = json!({ "must": vec![cond.clone(); MAX_FILTER_CONDITIONS + 1] });
    assert!(parse_err(many).contains("more than 1024 conditions"));
    assert!(Filter::parse(&json!({ "must": vec![cond; MAX_FILTER_CONDITIONS] })).is_ok());
    let any: Vec<u32> = (0..=MAX_FILTER_ANY as u32).collect();
    assert!(parse_err(json!({ "must": [{ "key": "a", "match": { "any": any } }] })).contains("the limit is 1024"));
    let long = "k".repeat(MAX_FILTER_STRING_BYTES + 1);
    assert!(parse_err(json!({ "must": [{ "key": long.clone(), "match": 1 }] })).contains("longer than"));
    assert!(parse_err(json!({ "must": [{ "key": "a", "match": long }] })).contains("'match' must be"));
}
