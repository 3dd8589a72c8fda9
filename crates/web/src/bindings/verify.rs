//! `db.verify(name, { headersOnly, onProgress })`: the engine's check of a collection's stored
//! objects against its manifest (`akidb_core::storage::verify`) as the `VerifyReport` of
//! pkg/index.d.ts. Its own `impl AkiDB` block (wasm-bindgen merges them into one class).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::convert::{string, to_js};
use super::database::AkiDB;
use super::errors::{to_js as err, JsResult};
use super::options::Opts;
use akidb_core::storage::{VerifyOptions, VerifyReport};

/// Keys of the options of `verify`.
pub const VERIFY_KEYS: &[&str] = &["headersOnly", "onProgress"];

/// `{ id, key, format, partitions, ok }` of one listed segment.
#[derive(Serialize)]
struct SegmentView<'a> {
    id: String,
    key: &'a str,
    format: Option<u16>,
    partitions: Option<u32>,
    ok: bool,
}

/// `{ key, kind, message }` of one problem.
#[derive(Serialize)]
struct ProblemView<'a> {
    key: &'a str,
    kind: &'static str,
    message: &'a str,
}

/// The report as JS (camelCase, as index.d.ts declares it).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportView<'a> {
    ok: bool,
    collection: &'a str,
    version: u64,
    incarnation: u64,
    headers_only: bool,
    segments: Vec<SegmentView<'a>>,
    records: u64,
    bytes_read: u64,
    objects: usize,
    orphaned: &'a [String],
    retired: usize,
    retired_missing: usize,
    unknown: &'a [String],
    problems: Vec<ProblemView<'a>>,
}

impl<'a> From<&'a VerifyReport> for ReportView<'a> {
    fn from(r: &'a VerifyReport) -> Self {
        ReportView {
            ok: r.is_clean(),
            collection: &r.collection,
            version: r.version,
            incarnation: r.incarnation,
            headers_only: r.headers_only,
            segments: r
                .segments
                .iter()
                .map(|s| SegmentView {
                    id: s.id.to_string(),
                    key: &s.key,
                    format: s.format,
                    partitions: s.partitions,
                    ok: s.ok,
                })
                .collect(),
            records: r.records,
            bytes_read: r.bytes_read,
            objects: r.objects,
            orphaned: &r.orphaned,
            retired: r.retired,
            retired_missing: r.retired_missing,
            unknown: &r.unknown,
            problems: r
                .problems
                .iter()
                .map(|p| ProblemView { key: &p.key, kind: p.kind.code(), message: &p.message })
                .collect(),
        }
    }
}

#[wasm_bindgen]
impl AkiDB {
    /// Checks collection `name`'s stored objects against its current manifest (read-only) →
    /// `{ ok, problems: [{ key, kind, message }], segments, orphaned, retired, ... }`. Options:
    /// `headersOnly` (read each segment's fixed header by range instead of every byte) and
    /// `onProgress(done, total)` after each segment. NOT_FOUND when there is no such collection.
    pub async fn verify(&self, name: JsValue, options: JsValue) -> JsResult<JsValue> {
        let name = string(&name, "name")?;
        let o = Opts::new(&options, "options", &[VERIFY_KEYS])?;
        let opts = VerifyOptions { headers_only: o.flag("headersOnly")?.unwrap_or(false) };
        let on_progress = o.func("onProgress")?;
        let mut progress = |done: usize, total: usize| {
            if let Some(f) = &on_progress {
                if let Err(e) =
                    f.call2(&JsValue::NULL, &JsValue::from_f64(done as f64), &JsValue::from_f64(total as f64))
                {
                    log::warn!("verify onProgress callback threw: {e:?}");
                }
            }
        };
        let r = self.database().storage().verify_collection(&name, &opts, &mut progress).await.map_err(err)?;
        to_js(&ReportView::from(&r))
    }
}
