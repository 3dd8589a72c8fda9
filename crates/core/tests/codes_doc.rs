//! The error codes the engine can return are exactly the ones its JS types name and the REST
//! worker maps to an HTTP status: a code added to `Error` without them fails here.

use akidb_core::error::CODES;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The quoted names of the `ErrorCode` union in pkg/index.d.ts.
fn dts_codes() -> Vec<String> {
    let src = std::fs::read_to_string(root().join("pkg/index.d.ts")).unwrap();
    let start = src.find("export type ErrorCode").expect("pkg/index.d.ts declares ErrorCode");
    // The union ends at its last member, the first line ending in `';`.
    let body = &src[start..start + src[start..].find("';").unwrap() + 2];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("| '"))
        .map(|l| l.split('\'').next().unwrap().to_string())
        .collect()
}

/// The keys of `STATUS_OF_CODE` in www/worker/src/http.js.
fn worker_codes() -> Vec<String> {
    let src = std::fs::read_to_string(root().join("www/worker/src/http.js")).unwrap();
    let start = src.find("const STATUS_OF_CODE = {").expect("http.js declares STATUS_OF_CODE");
    let body = &src[start..start + src[start..].find("};").unwrap()];
    body.lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && l.contains(':'))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

#[test]
fn every_engine_code_is_in_the_js_types() {
    let dts = dts_codes();
    assert!(dts.len() >= CODES.len(), "parsed {dts:?}");
    for c in CODES {
        assert!(
            dts.iter().any(|d| d == c),
            "{c} is returned by the engine but missing from ErrorCode in pkg/index.d.ts"
        );
    }
}

#[test]
fn every_engine_code_has_an_http_status_in_the_worker() {
    let worker = worker_codes();
    for c in CODES {
        assert!(worker.iter().any(|w| w == c), "{c} has no HTTP status in www/worker/src/http.js STATUS_OF_CODE");
    }
    for w in &worker {
        assert!(CODES.contains(&w.as_str()), "http.js maps {w}, which the engine never returns");
    }
}
