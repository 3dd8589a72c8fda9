//! The option objects of the JS API, each parsed once into a typed struct by one reader that
//! rejects unknown keys (see [`reader`]). Every key list is a `*_KEYS` constant here, which
//! the drift test (tests/js/types_drift.test.mjs) checks against pkg/index.d.ts.

mod open;
mod ops;
mod reader;
mod records;

pub use open::{OpenOptions, StoreOptions};
pub use ops::{compact, create, create_flags, search, subscribe, upsert, SubscribeOptions};
pub use reader::Opts;
pub use records::{get, scan, Fields};
