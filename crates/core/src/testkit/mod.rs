//! Test support that tests, benches and the fuzzers share, public so every crate of the workspace
//! uses the same pieces: one deterministic generator and (see [`instrumented`]) one store that
//! counts, logs and scripts calls. Nothing in the engine depends on this module.

mod generator;

pub use generator::{records, XorShift};
