//! wasm32: the clock, timer and entropy the host installed (see [`super::Platform`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use super::Platform;

thread_local! {
    static PLATFORM: RefCell<Option<Rc<dyn Platform>>> = const { RefCell::new(None) };
    /// Virtual milliseconds for a module no host has set up (the core's own wasm tests): every
    /// sleep returns at once and moves this clock on by its duration, so deadlines and leases
    /// still expire in the order they would in real time.
    static VIRTUAL_MS: Cell<f64> = const { Cell::new(0.0) };
}

/// Installs the host's platform and seeds the RNG from it. Called once by the web crate at
/// module start; a later call replaces the platform (and reseeds).
pub fn install(platform: Rc<dyn Platform>) {
    fastrand::seed(platform.random_seed());
    PLATFORM.with(|p| *p.borrow_mut() = Some(platform));
}

fn current() -> Option<Rc<dyn Platform>> {
    PLATFORM.with(|p| p.borrow().clone())
}

/// Waits for `d` on the host's timer (without a host: at once, advancing the virtual clock).
pub async fn sleep(d: Duration) {
    if d.is_zero() {
        return;
    }
    match current() {
        Some(p) => p.sleep(d).await,
        None => VIRTUAL_MS.with(|v| v.set(v.get() + d.as_secs_f64() * 1000.0)),
    }
}

/// Milliseconds on the host's monotonic clock (without a host: the virtual clock).
pub fn monotonic_ms() -> f64 {
    current().map_or_else(|| VIRTUAL_MS.with(Cell::get), |p| p.monotonic_ms())
}

/// Wall-clock milliseconds since the Unix epoch (without a host: the virtual clock).
pub fn unix_ms() -> u64 {
    current().map_or_else(|| VIRTUAL_MS.with(Cell::get) as u64, |p| p.unix_ms())
}
