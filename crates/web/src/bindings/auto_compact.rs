//! Automatic compaction of a collection handle, off the caller's critical path: after a write,
//! when the policy wants a merge (at least `AUTO_MIN_SEGMENTS` segments or `AUTO_MIN_TOMBSTONES`
//! tombstones, see `compaction_plan`), one compaction (+ one GC pass when it merged something,
//! at most every `GC_INTERVAL_MS`) is scheduled for when the runtime is idle — `requestIdleCallback` where it exists
//! (browsers), else `setTimeout(…, 0)` (Node, workerd) — and never more than one per handle at
//! a time. Its errors are logged, never thrown: the write that triggered it has already been
//! acknowledged.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Object};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::{global_fn, set};
use akidb_core::collection::Collection;
use akidb_core::database::Database;
use akidb_core::storage::CompactOptions;

/// A scheduled or running compaction that has not finished after this long (its runtime
/// dropped the task, e.g. a workerd request context ended) no longer blocks the next one; two
/// compactions at once are safe anyway (one is superseded).
const LEASE_MS: f64 = 10.0 * 60.0 * 1000.0;

/// At most one GC pass per handle this often after automatic compactions. Every pass raises the
/// GC fence, and a write in flight across two passes must re-upload its segments (a few rounds,
/// then CONFLICT): a pass after every compaction of several busy writers fails writes that way.
const GC_INTERVAL_MS: f64 = 30.0 * 1000.0;

/// Longest wait for an idle period before `requestIdleCallback` runs the task anyway (a busy
/// or background tab).
const IDLE_TIMEOUT_MS: f64 = 2000.0;

/// The options of automatic compaction (and of `collection.needsCompaction()`).
pub(super) fn auto_options(c: &Collection) -> CompactOptions {
    CompactOptions { auto: true, ..c.compact_options() }
}

/// Whether the handle's snapshot needs compaction by the automatic policy (no I/O).
pub(super) fn needed(c: &Collection) -> bool {
    c.needs_compaction(&auto_options(c))
}

/// The automatic-compaction state of one collection handle.
#[derive(Default)]
pub(super) struct AutoCompact {
    /// Start (monotonic ms) and ticket of the scheduled or running compaction, if any.
    running: Cell<Option<(f64, u64)>>,
    tickets: Cell<u64>,
    /// A write landed while a compaction was scheduled or running: check again when it ends
    /// (its plan may predate that write, and no later write may come to trigger one).
    again: Cell<bool>,
    /// When (monotonic ms) this handle last ran a GC pass after a compaction.
    last_gc: Cell<Option<f64>>,
}

/// Clears the handle's "running" mark when the task ends (or is dropped), unless a later task
/// took it over after the lease.
struct Done(Rc<AutoCompact>, u64);

impl Drop for Done {
    fn drop(&mut self) {
        if self.0.running.get().is_some_and(|(_, t)| t == self.1) {
            self.0.running.set(None);
        }
    }
}

impl AutoCompact {
    /// True while a compaction scheduled by this handle has neither finished nor outlived its lease.
    pub(super) fn busy(&self) -> bool {
        self.running.get().is_some_and(|(since, _)| akidb_core::runtime::monotonic_ms() - since < LEASE_MS)
    }

    /// After a successful write on `coll`: schedules one compaction (+ GC) in the background if
    /// the policy wants one and none is scheduled or running for this handle. The task holds
    /// its own references, so freeing the JS handles meanwhile breaks nothing.
    pub(super) fn after_write(self: &Rc<Self>, coll: &Rc<Collection>, db: &Rc<Database>) {
        if self.busy() {
            self.again.set(true);
            return;
        }
        if !needed(coll) {
            return;
        }
        let ticket = self.tickets.get().wrapping_add(1);
        self.tickets.set(ticket);
        self.running.set(Some((akidb_core::runtime::monotonic_ms(), ticket)));
        self.again.set(false);
        let done = Done(self.clone(), ticket);
        let (me, coll, db) = (self.clone(), coll.clone(), db.clone());
        on_idle(move || {
            wasm_bindgen_futures::spawn_local(async move {
                let now = akidb_core::runtime::monotonic_ms();
                let gc = me.last_gc.get().is_none_or(|t| now - t >= GC_INTERVAL_MS);
                if run(&coll, &db, gc).await {
                    me.last_gc.set(Some(now));
                }
                drop(done);
                // Writes that landed meanwhile only marked `again`: look once more (the
                // handle's snapshot includes them), scheduling anew if still needed.
                if me.again.replace(false) {
                    me.after_write(&coll, &db);
                }
            })
        });
    }
}

/// One automatic compaction and, when it merged something and `gc`, one GC pass (true when it
/// ran one). Errors are logged.
async fn run(coll: &Collection, db: &Database, gc: bool) -> bool {
    match coll.compact(&auto_options(coll)).await {
        Ok(r) if r.commits > 0 => {
            log::debug!(
                "automatic compaction of '{}': {} -> {} segments at version {}",
                coll.name(),
                r.segments_before,
                r.segments_after,
                r.version
            );
            if !gc {
                return false;
            }
            if let Err(e) = db.collect_garbage(coll.name()).await {
                log::warn!("GC after the automatic compaction of '{}' failed: {e}", coll.name());
            }
            true
        }
        Ok(_) => false,
        Err(e) => {
            log::warn!("automatic compaction of '{}' failed: {e}", coll.name());
            false
        }
    }
}

/// Runs `f` once the runtime is idle: `requestIdleCallback` (with a timeout) when the global
/// exists, else `setTimeout(f, 0)`, else at once.
fn on_idle(f: impl FnOnce() + 'static) {
    let cb = Closure::once_into_js(f);
    let global = js_sys::global();
    if let Some(ric) = global_fn("requestIdleCallback") {
        let opts = Object::new();
        set(&opts, "timeout", &JsValue::from_f64(IDLE_TIMEOUT_MS));
        if ric.call2(&global, &cb, &opts).is_ok() {
            return;
        }
    }
    if let Some(set_timeout) = global_fn("setTimeout") {
        if set_timeout.call2(&global, &cb, &JsValue::from_f64(0.0)).is_ok() {
            return;
        }
    }
    if let Some(f) = cb.dyn_ref::<Function>() {
        let _ = f.call0(&JsValue::UNDEFINED);
    }
}
