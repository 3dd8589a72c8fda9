//! Runtime glue: sleeping, clocks and randomness (no tokio). The rest of the crate calls only
//! these functions, usually through a [`crate::retry::Clock`].
//!
//! Natively they use std and `futures-timer`. On wasm32 this crate cannot see JS, so the host
//! (the `akidb-web` crate) installs a [`Platform`] once at module start; until then time is
//! virtual (a sleep returns at once and moves the clock on by its duration) and randomness is
//! unseeded; only the core's own wasm tests run like that.

use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{monotonic_ms, sleep, unix_ms};

#[cfg(target_arch = "wasm32")]
mod hosted;
#[cfg(target_arch = "wasm32")]
pub use hosted::{install, monotonic_ms, sleep, unix_ms};

/// What a host provides on targets where std has no clock, timer or entropy (wasm32).
pub trait Platform {
    /// Milliseconds on a monotonic clock (`performance.now()`).
    fn monotonic_ms(&self) -> f64;
    /// Wall-clock milliseconds since the Unix epoch.
    fn unix_ms(&self) -> u64;
    /// A future that resolves after `d` and cancels its timer when dropped.
    fn sleep(&self, d: Duration) -> futures::future::LocalBoxFuture<'static, ()>;
    /// 64 bits from a cryptographic source, to seed the random numbers ids and jitter use.
    fn random_seed(&self) -> u64;
}

/// A fresh random (version 4) UUID for segment keys and operation ids, from the seeded RNG.
pub fn new_uuid() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fastrand::u64(..).to_le_bytes());
    bytes[8..].copy_from_slice(&fastrand::u64(..).to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A uniform random number in `0.0..1.0` (backoff jitter).
pub fn random_unit() -> f64 {
    fastrand::f64()
}

/// 64 uniform random bits from the seeded RNG (unique prefixes, chaos seeds).
pub fn random_u64() -> u64 {
    fastrand::u64(..)
}
