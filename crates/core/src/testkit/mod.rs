//! Test support that tests, benches and the fuzzers share, public so every crate of the workspace
//! uses the same pieces: one deterministic generator and (see [`instrumented`]) one store that
//! counts, logs and scripts calls. Nothing in the engine depends on this module.

mod generator;
pub mod instrumented;

pub use generator::{clustered, records, vector, XorShift};
pub use instrumented::{lost_answer, unavailable, Action, Call, Counts, Entry, InstrumentedKv, Op, PutKind};
