//! Reading one JS option object: typed getters that name the offending option in their errors,
//! and the strict-keys check (an unknown key is INVALID_ARGUMENT naming it, with a suggestion
//! when a known key is close: `topK` -> `k`), so a typo never silently means "the default".

use std::time::Duration;

use js_sys::{Function, Object};
use wasm_bindgen::{JsCast, JsValue};

use super::super::convert::{is_absent, prop};
use super::super::errors::{invalid, JsResult};
use akidb_core::limits;

/// Names people reach for from other libraries, mapped to ours (checked before spelling).
const ALIASES: &[(&str, &str)] = &[
    ("topK", "k"),
    ("top_k", "k"),
    ("topk", "k"),
    ("limit", "k"),
    ("n", "k"),
    ("K", "k"),
    ("nprobe", "probes"),
    ("nprobes", "probes"),
    ("where", "filter"),
    ("include_metadata", "includeMetadata"),
    ("withMetadata", "includeMetadata"),
    ("metadata", "includeMetadata"),
    ("dim", "dimension"),
    ("dimensions", "dimension"),
    ("metric", "distance"),
    ("space", "distance"),
];

/// The largest duration in milliseconds (see [`limits::MAX_DURATION_MS`]), as a JS number.
const MAX_DURATION_MS: f64 = limits::MAX_DURATION_MS as f64;

/// One option object and the path its errors use (`options`, `options.retry`...).
pub struct Opts {
    obj: JsValue,
    path: String,
}

impl Opts {
    /// Accepts `undefined`/`null` (every option absent) or a plain object whose own keys are all
    /// in one of `known`; anything else is INVALID_ARGUMENT.
    pub fn new(obj: &JsValue, path: &str, known: &[&[&str]]) -> JsResult<Opts> {
        let o = Opts { obj: obj.clone(), path: path.to_string() };
        if is_absent(obj) {
            return Ok(o);
        }
        if !obj.is_object() || obj.is_function() || js_sys::Array::is_array(obj) {
            return Err(invalid(format!("{path} must be an object")));
        }
        check_known(obj, path, known)?;
        Ok(o)
    }

    /// The path of option `key` in errors (`options.retry.maxRetries`).
    pub fn name(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// Option `key` as given (undefined when absent).
    pub fn raw(&self, key: &str) -> JsValue {
        prop(&self.obj, key)
    }

    /// A boolean option.
    pub fn flag(&self, key: &str) -> JsResult<Option<bool>> {
        let v = self.raw(key);
        if is_absent(&v) {
            return Ok(None);
        }
        v.as_bool().map(Some).ok_or_else(|| invalid(format!("{} must be a boolean", self.name(key))))
    }

    /// A string option.
    pub fn string(&self, key: &str) -> JsResult<Option<String>> {
        let v = self.raw(key);
        if is_absent(&v) {
            return Ok(None);
        }
        // The error names the option, never its value (it may be a secret).
        v.as_string().map(Some).ok_or_else(|| invalid(format!("{} must be a string", self.name(key))))
    }

    /// A string option that must be one of `choices`.
    pub fn choice(&self, key: &str, choices: &[&str]) -> JsResult<Option<String>> {
        let Some(s) = self.string(key)? else { return Ok(None) };
        if choices.contains(&s.as_str()) {
            return Ok(Some(s));
        }
        let list = choices.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ");
        Err(invalid(format!("{} must be one of {list}, got '{s}'", self.name(key))))
    }

    /// A finite non-negative number.
    pub fn number(&self, key: &str) -> JsResult<Option<f64>> {
        number(&self.raw(key), &self.name(key))
    }

    /// A whole number in `min..=max` (never NaN, infinite or fractional, so no cast below can
    /// wrap or saturate).
    pub fn whole(&self, key: &str, min: f64, max: f64) -> JsResult<Option<f64>> {
        let v = self.raw(key);
        if is_absent(&v) {
            return Ok(None);
        }
        match v.as_f64() {
            Some(n) if n.is_finite() && n.fract() == 0.0 && n >= min && n <= max => Ok(Some(n)),
            _ => Err(invalid(format!("{} must be a whole number from {min} to {max}", self.name(key)))),
        }
    }

    /// A duration in milliseconds (see [`millis`]).
    pub fn millis(&self, key: &str, positive: bool) -> JsResult<Option<Duration>> {
        millis(&self.raw(key), &self.name(key), positive)
    }

    /// A function option.
    pub fn func(&self, key: &str) -> JsResult<Option<Function>> {
        let v = self.raw(key);
        if is_absent(&v) {
            return Ok(None);
        }
        v.dyn_into::<Function>().map(Some).map_err(|_| invalid(format!("{} must be a function", self.name(key))))
    }

    /// A nested option object, checked against its own `known` keys.
    pub fn nested(&self, key: &str, known: &[&str]) -> JsResult<Opts> {
        Opts::new(&self.raw(key), &self.name(key), &[known])
    }
}

/// A finite non-negative number, or `None` when absent.
pub fn number(v: &JsValue, what: &str) -> JsResult<Option<f64>> {
    if is_absent(v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(invalid(format!("{what} must be a non-negative number"))),
    }
}

/// A duration option in milliseconds, or `None` when absent: a finite number in
/// `0..=MAX_DURATION_MS` (and above 0 when `positive`).
pub fn millis(v: &JsValue, what: &str, positive: bool) -> JsResult<Option<Duration>> {
    if is_absent(v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && (if positive { n > 0.0 } else { n >= 0.0 }) && n <= MAX_DURATION_MS => {
            Ok(Some(Duration::from_secs_f64(n / 1000.0)))
        }
        _ => {
            let low = if positive { "greater than 0" } else { "at least 0" };
            Err(invalid(format!("{what} must be a number of milliseconds, {low} and at most {MAX_DURATION_MS}")))
        }
    }
}

/// Fails on the first own key of `obj` that is in none of `known`.
pub fn check_known(obj: &JsValue, path: &str, known: &[&[&str]]) -> JsResult<()> {
    let keys = Object::keys(obj.unchecked_ref::<Object>());
    for k in keys.iter() {
        let key = k.as_string().unwrap_or_default();
        if !known.iter().any(|set| set.contains(&key.as_str())) {
            return Err(unknown(path, &key, known));
        }
    }
    Ok(())
}

/// The error for an unknown key: its path, the closest known key, and the known keys.
pub fn unknown(path: &str, key: &str, known: &[&[&str]]) -> JsValue {
    let all: Vec<&str> = known.iter().flat_map(|s| s.iter().copied()).collect();
    let hint = match suggest(key, &all) {
        Some(s) => format!("; did you mean '{s}'?"),
        None => String::new(),
    };
    invalid(format!("unknown option {path}.{key}{hint} (known: {})", all.join(", ")))
}

/// The known key `key` most likely meant: an alias, the same word in another case, or one
/// within two edits.
pub fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == key) {
        if let Some(k) = known.iter().find(|k| *k == to) {
            return Some(k);
        }
    }
    let lower = key.to_ascii_lowercase();
    if let Some(k) = known.iter().find(|k| k.to_ascii_lowercase() == lower) {
        return Some(k);
    }
    if let Some(k) =
        known.iter().find(|k| lower.len() >= 4 && k.to_ascii_lowercase().starts_with(&lower[..lower.len() - 1]))
    {
        // A truncated or singular form: `maxRetry` -> `maxRetries`.
        return Some(k);
    }
    known.iter().map(|k| (edits(&lower, &k.to_ascii_lowercase()), *k)).filter(|(d, _)| *d <= 2).min().map(|(_, k)| k)
}

/// Levenshtein distance (option names are short: the quadratic table is a few hundred cells).
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{edits, suggest};
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn suggestions() {
        let search = ["k", "filter", "includeMetadata", "mode", "probes", "prune", "oversample"];
        assert_eq!(suggest("topK", &search), Some("k"));
        assert_eq!(suggest("limit", &search), Some("k"));
        assert_eq!(suggest("includemetadata", &search), Some("includeMetadata"));
        assert_eq!(suggest("probe", &search), Some("probes"));
        assert_eq!(suggest("filtr", &search), Some("filter"));
        assert_eq!(suggest("somethingElse", &search), None);
        assert_eq!(suggest("maxRetry", &["maxRetries", "multiplier"]), Some("maxRetries"));
        assert_eq!(edits("kitten", "sitting"), 3);
    }
}
