//! Engine receipts and reports as the JS objects the API returns: one serde view type per
//! shape (the names pkg/index.d.ts declares), all converted by [`to_js`] (shared by the
//! `AkiDB` and `Collection` classes, so neither imports the other for them).

use serde::Serialize;
use wasm_bindgen::JsValue;

use super::convert::to_js;
use super::errors::JsResult;
use akidb_core::error::Error;
use akidb_core::storage::{BatchReceipt, CommitReceipt, CompactionReceipt, GcReport, OperationStatus};

/// `{ generation, deleted, keptRecent, keptUnknown }` of a GC pass.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GcView<'a> {
    generation: u64,
    deleted: &'a [String],
    kept_recent: usize,
    kept_unknown: usize,
}

impl<'a> From<&'a GcReport> for GcView<'a> {
    fn from(r: &'a GcReport) -> Self {
        GcView {
            generation: r.generation,
            deleted: &r.deleted,
            kept_recent: r.kept_recent,
            kept_unknown: r.kept_unknown,
        }
    }
}

/// A GC pass as JS.
pub fn gc_report(r: &GcReport) -> JsResult<JsValue> {
    to_js(&GcView::from(r))
}

/// `{ status: 'committed', version }`, `{ status: 'not_committed' }` or `{ status: 'unknown' }`.
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum StatusView {
    Committed { version: u64 },
    NotCommitted,
    Unknown,
}

/// An operation's status as JS.
pub fn operation_status(status: OperationStatus) -> JsResult<JsValue> {
    to_js(&match status {
        OperationStatus::Committed { version } => StatusView::Committed { version },
        OperationStatus::NotCommitted => StatusView::NotCommitted,
        OperationStatus::Unknown => StatusView::Unknown,
    })
}

/// `{ segmentId?, version, retries }` of a delete or seal.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CommitView {
    #[serde(skip_serializing_if = "Option::is_none")]
    segment_id: Option<String>,
    version: u64,
    retries: u32,
}

/// A commit receipt as JS.
pub fn commit_receipt(r: &CommitReceipt) -> JsResult<JsValue> {
    to_js(&CommitView { segment_id: r.segment_id.map(|id| id.to_string()), version: r.version, retries: r.retries })
}

/// `{ segmentId?, segmentIds, version, retries }` of an upsert.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchView {
    #[serde(skip_serializing_if = "Option::is_none")]
    segment_id: Option<String>,
    segment_ids: Vec<String>,
    version: u64,
    retries: u32,
}

/// An upsert receipt as JS.
pub fn batch_receipt(r: &BatchReceipt) -> JsResult<JsValue> {
    let segment_ids: Vec<String> = r.segment_ids.iter().map(|id| id.to_string()).collect();
    to_js(&BatchView { segment_id: segment_ids.first().cloned(), segment_ids, version: r.version, retries: r.retries })
}

/// `{ code, message, operationId? }`: an error reported inside a receipt (not thrown).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorView {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_id: Option<String>,
}

/// The receipt of `collection.compact`, with the GC pass that followed it (or its error).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompactionView<'a> {
    version: u64,
    segments_before: usize,
    segments_after: usize,
    records_dropped: u64,
    tombstones_retired: usize,
    bytes_read: u64,
    bytes_written: u64,
    merges: u32,
    commits: u32,
    superseded: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    gc: Option<GcView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gc_error: Option<ErrorView>,
}

/// A compaction receipt as JS; `gc` is the outcome of the GC pass run after it, if one ran.
pub fn compaction_receipt(r: &CompactionReceipt, gc: Option<&Result<GcReport, Error>>) -> JsResult<JsValue> {
    let (gc, gc_error) = match gc {
        None => (None, None),
        Some(Ok(g)) => (Some(GcView::from(g)), None),
        Some(Err(e)) => (
            None,
            Some(ErrorView { code: e.code(), message: e.to_string(), operation_id: e.operation().map(str::to_string) }),
        ),
    };
    to_js(&CompactionView {
        version: r.version,
        segments_before: r.segments_before,
        segments_after: r.segments_after,
        records_dropped: r.records_dropped,
        tombstones_retired: r.tombstones_retired,
        bytes_read: r.bytes_read,
        bytes_written: r.bytes_written,
        merges: r.merges,
        commits: r.commits,
        superseded: r.superseded,
        gc,
        gc_error,
    })
}

/// `{ ok, failure?, checks, ms }` of `runConformance`.
#[derive(Serialize)]
pub struct ConformanceView<'a> {
    /// Every check passed.
    pub ok: bool,
    /// The first failure, starting with the check's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<&'a str>,
    /// The checks of the suite.
    pub checks: &'a [&'a str],
    /// Wall time of the run.
    pub ms: f64,
}
