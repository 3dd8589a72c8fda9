//! Native runtime glue. Sleeping is a timer future (not a blocked thread), so async tasks in one
//! thread interleave exactly as they do on wasm, and threads driving `block_on` park meanwhile.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Waits for `d`.
pub async fn sleep(d: Duration) {
    if !d.is_zero() {
        futures_timer::Delay::new(d).await;
    }
}

/// Milliseconds since an arbitrary fixed point; only differences are meaningful.
pub fn monotonic_ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
