//! docs/LIMITS.md against crates/core/src/limits.rs: every constant of limits.rs is listed in
//! the table (by name, in its `constant` column) with the value the code uses, and the list
//! below names every constant the source defines, so a new limit cannot be added silently.
#![cfg(not(target_arch = "wasm32"))]

use akidb_core::limits::*;

/// Every limit and its value, as the doc must state it.
fn limits() -> Vec<(&'static str, u64)> {
    vec![
        ("MAX_NAME_BYTES", MAX_NAME_BYTES as u64),
        ("MAX_DIMENSION", MAX_DIMENSION as u64),
        ("MAX_ID_BYTES", MAX_ID_BYTES as u64),
        ("MAX_METADATA_DEPTH", MAX_METADATA_DEPTH as u64),
        ("MAX_METADATA_BYTES", MAX_METADATA_BYTES as u64),
        ("MAX_JSON_NODES", MAX_JSON_NODES as u64),
        ("MAX_UPSERT_RECORDS", MAX_UPSERT_RECORDS as u64),
        ("MAX_DELETE_IDS", MAX_DELETE_IDS as u64),
        ("MAX_GET_IDS", MAX_GET_IDS as u64),
        ("MAX_SCAN_BATCH", MAX_SCAN_BATCH as u64),
        ("MAX_FILTER_DEPTH", MAX_FILTER_DEPTH as u64),
        ("MAX_FILTER_CONDITIONS", MAX_FILTER_CONDITIONS as u64),
        ("MAX_FILTER_ANY", MAX_FILTER_ANY as u64),
        ("MAX_FILTER_STRING_BYTES", MAX_FILTER_STRING_BYTES as u64),
        ("MAX_MANIFEST_BYTES", MAX_MANIFEST_BYTES as u64),
        ("IVF_MIN_ROWS", IVF_MIN_ROWS as u64),
        ("SHARED_INDEX_MIN_ROWS", SHARED_INDEX_MIN_ROWS as u64),
        ("TRAIN_MIN_ROWS", TRAIN_MIN_ROWS as u64),
        ("RETRAIN_GROWTH", RETRAIN_GROWTH),
        ("PARTITION_CACHE_BYTES", PARTITION_CACHE_BYTES as u64),
        ("SNAPSHOT_BUDGET_BYTES", SNAPSHOT_BUDGET_BYTES),
        ("DEFAULT_MAX_INPUT_BYTES", DEFAULT_MAX_INPUT_BYTES),
        ("LOCAL_MAX_INPUT_BYTES", LOCAL_MAX_INPUT_BYTES),
        ("MAX_K", MAX_K as u64),
        ("MAX_PARALLEL_READS", MAX_PARALLEL_READS as u64),
        ("MAX_DURATION_MS", MAX_DURATION_MS),
        ("MAX_JSON_DEPTH", MAX_JSON_DEPTH as u64),
        ("MAX_COMPACT_INPUT_BYTES", MAX_COMPACT_INPUT_BYTES),
        ("MAX_COMPACT_ROUNDS", MAX_COMPACT_ROUNDS as u64),
        ("MAX_CONFORMANCE_COUNT", MAX_CONFORMANCE_COUNT as u64),
    ]
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `1234567` -> `1,234,567`.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The ways the doc may write `n`: `4,096`, `4096`, and for whole binary units `4 KiB`.
fn spellings(n: u64) -> Vec<String> {
    let mut v = vec![grouped(n), n.to_string()];
    for (unit, name) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if n >= unit && n % unit == 0 {
            v.push(format!("{} {name}", n / unit));
        }
    }
    v
}

/// Whether `row` contains `word` with no digit or digit separator right before or after it.
fn has_number(row: &str, word: &str) -> bool {
    row.match_indices(word).any(|(i, _)| {
        let before = row[..i].chars().next_back();
        let after = row[i + word.len()..].chars().next();
        let joins = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == ',' || c == '.');
        // A following ", " is a list separator, not a thousands separator.
        let list_sep = row[i + word.len()..].starts_with(", ");
        !joins(before) && (list_sep || !joins(after))
    })
}

#[test]
fn every_constant_of_limits_rs_is_in_the_list() {
    let src = std::fs::read_to_string(root().join("crates/core/src/limits.rs")).unwrap();
    let declared: Vec<&str> =
        src.lines().filter_map(|l| l.strip_prefix("pub const ")).map(|l| l.split(':').next().unwrap().trim()).collect();
    let listed: Vec<&str> = limits().iter().map(|(n, _)| *n).collect();
    for name in &declared {
        assert!(listed.contains(name), "{name} is declared in limits.rs but not checked against docs/LIMITS.md");
    }
    assert_eq!(declared.len(), listed.len(), "declared {declared:?}, listed {listed:?}");
}

#[test]
fn docs_limits_md_states_every_limit_with_its_value() {
    let doc = std::fs::read_to_string(root().join("docs/LIMITS.md")).unwrap();
    let mut problems = Vec::new();
    for (name, value) in limits() {
        let tag = format!("`{name}`");
        let Some(row) = doc.lines().find(|l| l.starts_with('|') && l.contains(&tag)) else {
            problems.push(format!("{name}: no row of docs/LIMITS.md names it"));
            continue;
        };
        if !spellings(value).iter().any(|s| has_number(row, s)) {
            problems.push(format!("{name} = {value}: its row says none of {:?}: {row}", spellings(value)));
        }
    }
    assert!(problems.is_empty(), "docs/LIMITS.md is out of date:\n{}", problems.join("\n"));
}

/// Negative control for the matcher: a value that is only part of a larger number is not found.
#[test]
fn the_number_matcher_does_not_match_inside_larger_numbers() {
    assert!(has_number("| 1–10,000 |", "10,000"));
    assert!(!has_number("| 1,000,000 |", "1,000"));
    assert!(!has_number("| 1–4,0960 |", "4,096"));
    assert!(has_number("≤ 32 levels deep, ≤ 64 KiB", "64 KiB"));
    assert!(!has_number("≤ 1,024 values", "24"));
}
