//! Transaction durability. IndexedDB lets a readwrite transaction ask for `durability:
//! 'strict'` (the `complete` event fires only once the data is flushed to disk) or `'relaxed'`
//! (`complete` once the operating system has it; Chromium's default). AkiDB asks for strict
//! durability on commit points (manifest puts: what a caller is told is committed) and relaxed
//! durability on staged writes (segment objects, which nothing reads before a later manifest
//! commit lists them) and deletes (a lost delete only leaves garbage for the next GC pass).
//! Why that is enough: docs/BROWSER.md, "Durability and eviction".

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbTransaction};

/// The durability an [`super::IndexedDbKv`] requests (`AkiDB.open({ durability })`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Commit points strict, staged writes and deletes relaxed (the default).
    #[default]
    Strict,
    /// Every transaction relaxed: faster commits that a power loss may undo after they were
    /// acknowledged (never torn: a commit is still atomic).
    Relaxed,
    /// No durability hint at all: whatever the browser does by default.
    BrowserDefault,
}

impl Durability {
    /// Parses `'strict' | 'relaxed' | 'default'`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "strict" => Some(Durability::Strict),
            "relaxed" => Some(Durability::Relaxed),
            "default" => Some(Durability::BrowserDefault),
            _ => None,
        }
    }

    /// The hint for a commit point (`true`) or a staged write / delete (`false`); `None`: none.
    pub fn hint(self, commit_point: bool) -> Option<&'static str> {
        match (self, commit_point) {
            (Durability::BrowserDefault, _) => None,
            (Durability::Strict, true) => Some("strict"),
            _ => Some("relaxed"),
        }
    }
}

/// Opens a readwrite transaction over `names` with durability `hint` (none: the browser's):
/// `db.transaction(names, 'readwrite', { durability })`, called through the object because
/// web-sys has that overload only behind `web_sys_unstable_apis`. Browsers without the option
/// ignore the dictionary.
pub(super) fn readwrite(db: &IdbDatabase, names: &Array, hint: Option<&str>) -> Result<IdbTransaction, JsValue> {
    let options = Object::new();
    if let Some(h) = hint {
        Reflect::set(&options, &JsValue::from_str("durability"), &JsValue::from_str(h))?;
    }
    let f: Function = Reflect::get(db, &JsValue::from_str("transaction"))?.dyn_into()?;
    f.call3(db, names, &JsValue::from_str("readwrite"), &options)?.dyn_into()
}
