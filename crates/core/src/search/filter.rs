//! Qdrant-style metadata filters.
//!
//! ```json
//! { "must":     [ { "key": "genre", "match": "jazz" },
//!                 { "key": "year", "range": { "gte": 1950, "lt": 1970 } } ],
//!   "should":   [ { "key": "tags", "match": { "any": ["live", "remastered"] } },
//!                 { "must": [ { "key": "meta.rating", "range": { "gt": 4.5 } } ] } ],
//!   "must_not": [ { "key": "deleted", "exists": true } ] }
//! ```
//!
//! A filter matches when every `must` condition matches, at least one `should` condition
//! matches (if there are any) and no `must_not` condition matches; `{}` matches everything.
//! Conditions are `match` (equality with a string, number or bool, or any of a list),
//! `range` (numeric bounds), `exists`, or a nested filter.
//!
//! Keys are dotted paths into the metadata object (`"a.b"`; Qdrant's `"a[].b"` is accepted
//! too). Arrays are looked through like Qdrant does: a condition holds if it holds for any
//! element of an array at the end of the path, and a path continues into every object of
//! an array met on the way. Numbers compare as f64 (`1 == 1.0`).
//!
//! Filters are validated once by [`Filter::parse`]; [`Filter::matches`] then runs per
//! candidate without allocating.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::segment::{Leaf, MetaView};

use crate::limits::{MAX_FILTER_ANY, MAX_FILTER_CONDITIONS, MAX_FILTER_DEPTH as MAX_DEPTH, MAX_FILTER_STRING_BYTES};

/// A parsed, validated metadata filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    must: Vec<Condition>,
    should: Vec<Condition>,
    must_not: Vec<Condition>,
}

/// One condition of a filter clause.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// The value at `key` equals one of `any`.
    Match { key: Vec<String>, any: Vec<Scalar> },
    /// The value at `key` is a number within `range`.
    Range { key: Vec<String>, range: Range },
    /// Whether `key` holds a non-null value.
    Exists { key: Vec<String>, exists: bool },
    /// A whole filter used as one condition.
    Nested(Filter),
}

/// A value a `match` condition can compare against.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
}

/// Numeric bounds of a `range` condition; absent bounds do not constrain.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Range {
    gt: Option<f64>,
    gte: Option<f64>,
    lt: Option<f64>,
    lte: Option<f64>,
}

impl Filter {
    /// Parses and validates a filter object. Errors are `InvalidArgument` naming the
    /// problem and its location, e.g. `filter.must[1]: 'range' needs at least one of gt,
    /// gte, lt, lte`.
    pub fn parse(value: &Value) -> Result<Filter> {
        let mut conditions = 0;
        parse_filter(value, "filter", 0, &mut conditions)
    }

    /// Whether `metadata` (a JSON object, or `None` for a record without metadata)
    /// satisfies the filter. A missing value never matches `match`/`range` and does not
    /// `exist`.
    pub fn matches(&self, metadata: Option<&Value>) -> bool {
        self.matches_view(metadata)
    }

    /// [`Filter::matches`] over any metadata representation (a segment's column in place).
    pub fn matches_view<'a, M: MetaView<'a>>(&self, metadata: Option<M>) -> bool {
        // must_not before should: a cheap veto is as likely as a should hit and cuts work.
        self.must.iter().all(|c| c.matches(metadata))
            && !self.must_not.iter().any(|c| c.matches(metadata))
            && (self.should.is_empty() || self.should.iter().any(|c| c.matches(metadata)))
    }

    /// Whether the filter has no conditions at all (so it matches everything and a scan
    /// can skip evaluating it).
    pub fn is_empty(&self) -> bool {
        self.must.is_empty() && self.should.is_empty() && self.must_not.is_empty()
    }
}

impl Condition {
    fn matches<'a, M: MetaView<'a>>(&self, metadata: Option<M>) -> bool {
        let Some(meta) = metadata else {
            // Nothing exists; a nested filter may still match (e.g. through must_not).
            return match self {
                Condition::Exists { exists, .. } => !exists,
                Condition::Nested(f) => f.matches_view::<M>(None),
                _ => false,
            };
        };
        match self {
            Condition::Match { key, any } => any_value(meta, key, &|v| any.iter().any(|s| s.equals(v))),
            Condition::Range { key, range } => {
                any_value(meta, key, &|v| matches!(v, Leaf::Num(x) if range.contains(x)))
            }
            Condition::Exists { key, exists } => any_value(meta, key, &|v| v != Leaf::Null) == *exists,
            Condition::Nested(f) => f.matches_view(Some(meta)),
        }
    }
}

impl Scalar {
    fn equals(&self, v: Leaf) -> bool {
        match (self, v) {
            (Scalar::Str(s), Leaf::Str(t)) => s == t,
            (Scalar::Num(x), Leaf::Num(y)) => *x == y,
            (Scalar::Bool(b), Leaf::Bool(c)) => *b == c,
            _ => false,
        }
    }
}

impl Range {
    fn contains(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
    }
}

/// Whether `pred` holds for any value at `path` below `value`. An array at the end of the
/// path is looked through (its elements are tested, not the array); an array on the way
/// continues the path into each of its objects. One level of arrays, as in Qdrant.
fn any_value<'a, M: MetaView<'a>>(value: M, path: &[String], pred: &impl Fn(Leaf<'a>) -> bool) -> bool {
    let Some((head, rest)) = path.split_first() else {
        return match value.leaf() {
            Leaf::Array(n) => (0..n).any(|i| pred(value.element(i).leaf())),
            v => pred(v),
        };
    };
    match value.leaf() {
        Leaf::Object => value.member(head).is_some_and(|v| any_value(v, rest, pred)),
        Leaf::Array(n) => (0..n).any(|i| {
            let item = value.element(i);
            item.leaf() == Leaf::Object && item.member(head).is_some_and(|v| any_value(v, rest, pred))
        }),
        _ => false,
    }
}

/// An `InvalidArgument` error located at `at`.
fn err(at: &str, msg: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{at}: {msg}"))
}

fn parse_filter(value: &Value, at: &str, depth: usize, conditions: &mut usize) -> Result<Filter> {
    if depth > MAX_DEPTH {
        return Err(err(at, format!("filters nested deeper than {MAX_DEPTH} levels")));
    }
    let obj = value.as_object().ok_or_else(|| err(at, "must be an object with must, should or must_not"))?;
    let mut filter = Filter::default();
    for (field, v) in obj {
        let clause = match field.as_str() {
            "must" => &mut filter.must,
            "should" => &mut filter.should,
            "must_not" => &mut filter.must_not,
            other => return Err(err(at, format!("unknown field '{other}'"))),
        };
        *clause = match v {
            // Like an absent field (serde `Option` semantics, as Qdrant's API accepts).
            Value::Null => Vec::new(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, c)| parse_condition(c, &format!("{at}.{field}[{i}]"), depth, conditions))
                .collect::<Result<_>>()?,
            _ => return Err(err(at, format!("'{field}' must be an array of conditions"))),
        };
    }
    Ok(filter)
}

fn parse_condition(value: &Value, at: &str, depth: usize, conditions: &mut usize) -> Result<Condition> {
    *conditions += 1;
    if *conditions > MAX_FILTER_CONDITIONS {
        return Err(err(at, format!("more than {MAX_FILTER_CONDITIONS} conditions in one filter (the limit)")));
    }
    let obj = value.as_object().ok_or_else(|| err(at, "a condition must be an object"))?;
    let is_field = ["key", "match", "range", "exists"].iter().any(|f| obj.contains_key(*f));
    if !is_field {
        if obj.is_empty() {
            return Err(err(
                at,
                "empty condition: expected 'key' with 'match', 'range' or 'exists', or a nested filter",
            ));
        }
        return parse_filter(value, at, depth + 1, conditions).map(Condition::Nested);
    }

    if let Some(other) = obj.keys().find(|f| !["key", "match", "range", "exists"].contains(&f.as_str())) {
        return Err(err(at, format!("unknown field '{other}'")));
    }
    let key = parse_key(obj.get("key"), at)?;
    let mut kinds = obj.iter().filter(|(f, _)| f.as_str() != "key");
    let (kind, v) = match (kinds.next(), kinds.next()) {
        (Some(kv), None) => kv,
        (None, _) => return Err(err(at, "needs one of 'match', 'range' or 'exists'")),
        (Some(_), Some(_)) => return Err(err(at, "only one of 'match', 'range' or 'exists' is allowed")),
    };
    match kind.as_str() {
        "match" => Ok(Condition::Match { key, any: parse_match(v, at)? }),
        "range" => Ok(Condition::Range { key, range: parse_range(v, at)? }),
        _ => match v {
            Value::Bool(exists) => Ok(Condition::Exists { key, exists: *exists }),
            _ => Err(err(at, "'exists' must be true or false")),
        },
    }
}

/// Splits a dotted key into path segments; a trailing `[]` on a segment (Qdrant syntax
/// for "each element") is accepted and dropped, since arrays are looked through anyway.
fn parse_key(value: Option<&Value>, at: &str) -> Result<Vec<String>> {
    let key = match value {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(err(at, "'key' must be a non-empty string")),
    };
    if key.len() > MAX_FILTER_STRING_BYTES {
        return Err(err(at, format!("'key' is longer than {MAX_FILTER_STRING_BYTES} bytes (the limit)")));
    }
    key.split('.')
        .map(|seg| {
            let seg = seg.strip_suffix("[]").unwrap_or(seg);
            if seg.is_empty() {
                Err(err(at, format!("'key' \"{key}\" has an empty path segment")))
            } else {
                Ok(seg.to_owned())
            }
        })
        .collect()
}

fn parse_scalar(value: &Value) -> Option<Scalar> {
    match value {
        // Longer strings than any key may hold cannot be compared usefully: treat as invalid.
        Value::String(s) if s.len() > MAX_FILTER_STRING_BYTES => None,
        Value::String(s) => Some(Scalar::Str(s.clone())),
        Value::Number(n) => n.as_f64().map(Scalar::Num),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        _ => None,
    }
}

/// `match: x`, `match: {"value": x}` or `match: {"any": [x, ...]}`.
fn parse_match(value: &Value, at: &str) -> Result<Vec<Scalar>> {
    const SHAPE: &str = "'match' must be a string, number or bool, or an object with 'value' or 'any'";
    if let Some(s) = parse_scalar(value) {
        return Ok(vec![s]);
    }
    let obj = value.as_object().ok_or_else(|| err(at, SHAPE))?;
    if let Some(other) = obj.keys().find(|f| !["value", "any"].contains(&f.as_str())) {
        return Err(err(at, format!("unknown field '{other}' in 'match'")));
    }
    match (obj.get("value"), obj.get("any")) {
        (Some(v), None) => {
            parse_scalar(v).map(|s| vec![s]).ok_or_else(|| err(at, "'match.value' must be a string, number or bool"))
        }
        (None, Some(Value::Array(items))) if items.len() > MAX_FILTER_ANY => {
            Err(err(at, format!("'match.any' has {} values; the limit is {MAX_FILTER_ANY}", items.len())))
        }
        (None, Some(Value::Array(items))) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                parse_scalar(v).ok_or_else(|| err(at, format!("'match.any[{i}]' must be a string, number or bool")))
            })
            .collect(),
        (None, Some(_)) => Err(err(at, "'match.any' must be an array")),
        (Some(_), Some(_)) => Err(err(at, "'match' takes only one of 'value' or 'any'")),
        (None, None) => Err(err(at, SHAPE)),
    }
}

/// `range: {"gt"|"gte"|"lt"|"lte": number, ...}` with at least one bound.
fn parse_range(value: &Value, at: &str) -> Result<Range> {
    let obj = value.as_object().ok_or_else(|| err(at, "'range' must be an object with gt, gte, lt or lte"))?;
    let mut range = Range::default();
    for (field, v) in obj {
        let slot = match field.as_str() {
            "gt" => &mut range.gt,
            "gte" => &mut range.gte,
            "lt" => &mut range.lt,
            "lte" => &mut range.lte,
            other => return Err(err(at, format!("unknown field '{other}' in 'range'"))),
        };
        *slot = match v {
            Value::Null => None,
            Value::Number(n) => n.as_f64(),
            _ => return Err(err(at, format!("'range.{field}' must be a number"))),
        };
    }
    if range == Range::default() {
        return Err(err(at, "'range' needs at least one of gt, gte, lt, lte"));
    }
    Ok(range)
}

#[cfg(test)]
mod tests;
