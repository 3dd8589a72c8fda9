//! Runtime glue: sleeping and clocks, natively and on wasm (no tokio). The rest of the crate
//! calls only these functions.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{monotonic_ms, sleep, unix_ms};

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::{monotonic_ms, sleep, unix_ms};
