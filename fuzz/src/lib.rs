//! AkiDB's fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/`), the structured
//! fuzzer (`src/bin/structured.rs`) and the root crate's regression tests, which include these
//! files by path. See README.md.

pub mod checks;
pub mod engine;
pub mod mutate;
pub mod seeds;
