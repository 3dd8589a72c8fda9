//! Key ranges for prefix listing. IndexedDB orders string keys by UTF-16 code units, so the range
//! `[prefix, successor(prefix))` is computed in code units; callers still filter and sort by bytes.

use js_sys::JsString;
use wasm_bindgen::JsValue;
use web_sys::IdbKeyRange;

/// The smallest UTF-16 string greater than every string starting with `prefix`, as code units
/// (`None`: no upper bound, the prefix is empty or all U+FFFF).
pub(crate) fn successor(prefix: &str) -> Option<Vec<u16>> {
    let mut units: Vec<u16> = prefix.encode_utf16().collect();
    while units.last() == Some(&0xFFFF) {
        units.pop();
    }
    let last = units.last_mut()?;
    *last += 1;
    Some(units)
}

/// `IDBKeyRange` covering every key that starts with `prefix` (`None`: all keys).
pub(crate) fn prefix_range(prefix: &str) -> Result<Option<IdbKeyRange>, JsValue> {
    if prefix.is_empty() {
        return Ok(None);
    }
    let lower = JsValue::from_str(prefix);
    let range = match successor(prefix) {
        None => IdbKeyRange::lower_bound(&lower)?,
        Some(units) => {
            let upper: JsValue = JsString::from_char_code(&units).into();
            IdbKeyRange::bound_with_lower_open_and_upper_open(&lower, &upper, false, true)?
        }
    };
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::successor;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn s(units: Option<Vec<u16>>) -> Option<String> {
        units.map(|u| String::from_utf16_lossy(&u))
    }

    #[test]
    fn successor_of_prefixes() {
        assert_eq!(s(successor("ab")), Some("ac".into()));
        assert_eq!(s(successor("collections/")), Some("collections0".into()));
        assert_eq!(s(successor("a\u{FFFF}\u{FFFF}")), Some("b".into()));
        assert_eq!(successor(""), None);
        assert_eq!(successor("\u{FFFF}"), None);
        // A supplementary character is two code units; the low surrogate is incremented.
        assert_eq!(successor("\u{1F600}"), Some(vec![0xD83D, 0xDE01]));
    }
}
