//! libFuzzer target `s3_list_xml`: see `akidb_fuzz::checks::s3_list_xml` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    akidb_fuzz::checks::s3_list_xml(data);
});
