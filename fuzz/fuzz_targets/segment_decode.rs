//! libFuzzer target `segment_decode`: see `akidb_fuzz::checks::segment_decode` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    akidb_fuzz::checks::segment_decode(data);
});
