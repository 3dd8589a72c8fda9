//! `Storage::verify_collection`: clean collections (plain, compacted with retired segments,
//! indexed) verify clean; each kind of damage to a listed object (one byte flipped, the object
//! deleted, truncated, replaced by a segment of another count, an index spilling its own row, a
//! manifest that does not parse or contradicts itself) is one problem naming the object's key;
//! orphans and retired objects are counted, not problems.

// Storage holds `Arc<dyn Kv>` whose stores need not be Send (browser stores hold JS values).
#![allow(clippy::arc_with_non_send_sync)]

mod common;

use std::sync::Arc;

use akidb_core::kv::{Kv, MemoryKv, PutCondition};
use akidb_core::segment::{self, partition::PartitionIndex};
use akidb_core::storage::{CompactOptions, ProblemKind, VerifyOptions, VerifyReport};
use akidb_core::testkit::records;
use akidb_core::{CollectionManifest, Distance, Storage};
use common::{memory_storage, run};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const FULL: VerifyOptions = VerifyOptions { headers_only: false };
const HEADERS: VerifyOptions = VerifyOptions { headers_only: true };

async fn verify(s: &Storage, opts: &VerifyOptions) -> VerifyReport {
    s.verify_collection("c", opts, &mut |_, _| {}).await.unwrap()
}

/// A collection "c" of three plain segments of 20 records each.
async fn three_segments() -> (Arc<MemoryKv>, Storage) {
    let (kv, s) = memory_storage();
    s.create_collection("c", 4, Distance::L2).await.unwrap();
    for i in 0..3 {
        s.write_segment_with_data("c", &records(&format!("s{i}-"), 20, 4, i + 1)).await.unwrap();
    }
    (kv, s)
}

/// The key of the `i`-th listed segment and the current manifest.
async fn segment_key(s: &Storage, i: usize) -> (String, CollectionManifest) {
    let m = s.load_manifest("c").await.unwrap();
    (s.segment_key("c", m.incarnation, &m.segments[i]), m)
}

async fn put(kv: &MemoryKv, key: &str, bytes: Vec<u8>) {
    kv.put(key, bytes, PutCondition::Any).await.unwrap();
}

async fn bytes_of(kv: &MemoryKv, key: &str) -> Vec<u8> {
    kv.get(key).await.unwrap().unwrap().value
}

/// The one problem of `r`, asserting there is exactly one.
fn only_problem(r: &VerifyReport) -> (ProblemKind, String) {
    assert_eq!(r.problems.len(), 1, "{:#?}", r.problems);
    (r.problems[0].kind, r.problems[0].key.clone())
}

#[test]
fn a_clean_collection_verifies_clean_and_progress_counts_every_segment() {
    run(async {
        let (_, s) = three_segments().await;
        let mut calls = Vec::new();
        let r = s.verify_collection("c", &FULL, &mut |d, t| calls.push((d, t))).await.unwrap();
        assert!(r.is_clean(), "{:#?}", r.problems);
        assert_eq!((r.version, r.records, r.segments.len()), (4, 60, 3));
        assert!(r.segments.iter().all(|c| c.ok && c.format == Some(1) && c.partitions.is_none()));
        assert_eq!(calls, vec![(1, 3), (2, 3), (3, 3)]);
        assert_eq!(r.objects, 4, "manifest + 3 segments");
        let m = s.load_manifest("c").await.unwrap();
        assert_eq!(r.bytes_read, m.segments.iter().map(|d| d.size_bytes).sum::<u64>());
        assert!(r.orphaned.is_empty() && r.unknown.is_empty() && r.retired == 0);
        let h = verify(&s, &HEADERS).await;
        assert!(h.is_clean() && h.headers_only);
        assert!(h.bytes_read < r.bytes_read / 10, "headers only reads a few bytes: {}", h.bytes_read);
    });
}

#[test]
fn one_flipped_byte_is_a_checksum_mismatch_naming_the_object() {
    run(async {
        let (kv, s) = three_segments().await;
        let (key, _) = segment_key(&s, 1).await;
        let mut b = bytes_of(&kv, &key).await;
        let mid = b.len() / 2;
        b[mid] ^= 0x01;
        put(&kv, &key, b).await;
        let r = verify(&s, &FULL).await;
        assert_eq!(only_problem(&r), (ProblemKind::ChecksumMismatch, key.clone()));
        assert!(!r.segments[1].ok && r.segments[0].ok && r.segments[2].ok);
        assert_eq!(r.problems[0].kind.code(), "checksum_mismatch");
        // A header read does not see a flipped byte in the records (what headers_only means).
        assert!(verify(&s, &HEADERS).await.is_clean());
    });
}

#[test]
fn a_deleted_object_is_missing_in_both_modes() {
    run(async {
        let (kv, s) = three_segments().await;
        let (key, _) = segment_key(&s, 0).await;
        kv.delete(&key).await.unwrap();
        assert_eq!(only_problem(&verify(&s, &FULL).await), (ProblemKind::Missing, key.clone()));
        assert_eq!(only_problem(&verify(&s, &HEADERS).await), (ProblemKind::Missing, key));
    });
}

#[test]
fn a_truncated_object_is_a_size_mismatch() {
    run(async {
        let (kv, s) = three_segments().await;
        let (key, _) = segment_key(&s, 2).await;
        let b = bytes_of(&kv, &key).await;
        put(&kv, &key, b[..b.len() - 1].to_vec()).await;
        assert_eq!(only_problem(&verify(&s, &FULL).await), (ProblemKind::SizeMismatch, key));
    });
}

#[test]
fn an_object_that_matches_its_descriptor_but_not_its_own_crc_is_undecodable() {
    run(async {
        let (kv, s) = three_segments().await;
        let (key, mut m) = segment_key(&s, 0).await;
        let mut b = bytes_of(&kv, &key).await;
        b[30] ^= 0x40;
        // The descriptor agrees with the damaged bytes, so only decoding can tell.
        m.segments[0].checksum = segment::checksum_hex(&b);
        put(&kv, &key, b).await;
        put(&kv, &s.manifest_key("c"), m.to_json()).await;
        let r = verify(&s, &FULL).await;
        assert_eq!(only_problem(&r), (ProblemKind::Undecodable, key));
        assert!(r.problems[0].message.contains("checksum"), "{}", r.problems[0].message);
    });
}

#[test]
fn a_segment_of_another_record_count_is_a_descriptor_mismatch_in_both_modes() {
    run(async {
        let (kv, s) = three_segments().await;
        let (key, mut m) = segment_key(&s, 0).await;
        let other = segment::encode(&segment::Segment::from_records(&records("x", 7, 4, 9), 4, 0));
        m.segments[0].size_bytes = other.len() as u64;
        m.segments[0].checksum = segment::checksum_hex(&other);
        put(&kv, &key, other).await;
        put(&kv, &s.manifest_key("c"), m.to_json()).await;
        assert_eq!(only_problem(&verify(&s, &FULL).await), (ProblemKind::DescriptorMismatch, key.clone()));
        assert_eq!(only_problem(&verify(&s, &HEADERS).await), (ProblemKind::DescriptorMismatch, key));
    });
}

#[test]
fn orphans_are_counted_not_problems_and_retired_segments_are_counted_after_compaction() {
    run(async {
        let (kv, s) = three_segments().await;
        let (key, m) = segment_key(&s, 0).await;
        let orphan = key.replace(&m.segments[0].id.to_string(), "00000000-0000-4000-8000-000000000001");
        put(&kv, &orphan, bytes_of(&kv, &key).await).await;
        let stray = format!("{}notes.txt", s.collection_dir("c"));
        put(&kv, &stray, b"hello".to_vec()).await;
        let r = verify(&s, &FULL).await;
        assert!(r.is_clean(), "{:#?}", r.problems);
        assert_eq!(r.orphaned, vec![orphan]);
        assert_eq!(r.unknown, vec![stray]);

        s.compact("c", &CompactOptions { full: true, ..Default::default() }).await.unwrap();
        let r = verify(&s, &FULL).await;
        assert!(r.is_clean(), "{:#?}", r.problems);
        assert_eq!((r.segments.len(), r.records, r.retired, r.retired_missing), (1, 60, 3, 0));
        assert_eq!(r.orphaned.len(), 1);
    });
}

#[test]
fn a_manifest_that_does_not_parse_or_contradicts_itself_is_a_problem_a_missing_collection_an_error() {
    run(async {
        let (kv, s) = three_segments().await;
        let mkey = s.manifest_key("c");
        let good = bytes_of(&kv, &mkey).await;
        let mut m = CollectionManifest::from_json(&good).unwrap();
        m.total_vectors += 1;
        put(&kv, &mkey, m.to_json()).await;
        assert_eq!(only_problem(&verify(&s, &FULL).await), (ProblemKind::ManifestInconsistent, mkey.clone()));
        let dup = m.segments[0].clone();
        m.segments.push(dup);
        m.total_vectors = 80;
        put(&kv, &mkey, m.to_json()).await;
        let r = verify(&s, &FULL).await;
        assert_eq!(only_problem(&r), (ProblemKind::ManifestInconsistent, mkey.clone()));
        assert!(r.problems[0].message.contains("more than once"));

        put(&kv, &mkey, b"{ not json".to_vec()).await;
        let r = verify(&s, &FULL).await;
        assert_eq!(only_problem(&r), (ProblemKind::ManifestCorrupt, mkey.clone()));
        assert!(r.segments.is_empty());

        let e = s.verify_collection("nope", &FULL, &mut |_, _| {}).await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND");
        let e = s.verify_collection("../x", &FULL, &mut |_, _| {}).await.unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
        put(&kv, &mkey, good).await;
        s.drop_collection("c").await.unwrap();
        let e = s.verify_collection("c", &FULL, &mut |_, _| {}).await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND");
    });
}

/// One compacted segment of 9,000 rows: it gets a partition index.
async fn indexed() -> (Arc<MemoryKv>, Storage) {
    let (kv, s) = memory_storage();
    s.create_collection("c", 8, Distance::L2).await.unwrap();
    for i in 0..3 {
        s.write_segment_with_data("c", &records(&format!("s{i}-"), 3000, 8, i + 1)).await.unwrap();
    }
    s.compact("c", &CompactOptions { full: true, ..Default::default() }).await.unwrap();
    (kv, s)
}

#[test]
fn an_indexed_segment_verifies_clean_and_an_index_spilling_its_own_row_is_inconsistent() {
    run(async {
        let (kv, s) = indexed().await;
        let r = verify(&s, &FULL).await;
        assert!(r.is_clean(), "{:#?}", r.problems);
        let parts = r.segments[0].partitions.expect("compaction of 9,000 rows builds an index");
        assert!(parts > 1 && r.segments[0].format == Some(3), "{:?}", r.segments[0]);
        assert_eq!(verify(&s, &HEADERS).await.segments[0].partitions, Some(parts));

        // Re-encode the segment with partition 0 also listing its own first row as a spill:
        // every CRC and the descriptor agree, only the index is wrong.
        let (key, mut m) = segment_key(&s, 0).await;
        let mut seg = segment::decode(&bytes_of(&kv, &key).await).unwrap();
        let ix = seg.index.take().unwrap();
        let mut lists: Vec<Vec<u32>> = (0..ix.partitions()).map(|p| ix.spilled(p).to_vec()).collect();
        lists[0].insert(0, ix.rows(0).start as u32);
        lists[0].sort_unstable();
        let mut spill_starts = vec![0u32];
        let mut spills = Vec::new();
        for l in &lists {
            spills.extend_from_slice(l);
            spill_starts.push(spills.len() as u32);
        }
        seg.index = Some(PartitionIndex { spills, spill_starts, ..ix });
        let bytes = segment::encode(&seg);
        assert!(segment::decode(&bytes).is_ok(), "the damaged index still decodes");
        m.segments[0].size_bytes = bytes.len() as u64;
        m.segments[0].checksum = segment::checksum_hex(&bytes);
        put(&kv, &key, bytes).await;
        put(&kv, &s.manifest_key("c"), m.to_json()).await;
        let r = verify(&s, &FULL).await;
        assert_eq!(only_problem(&r), (ProblemKind::IndexInconsistent, key));
        assert!(r.problems[0].message.contains("spills its own row"), "{}", r.problems[0].message);
    });
}

#[test]
fn a_flipped_byte_inside_an_indexed_segment_is_found() {
    run(async {
        let (kv, s) = indexed().await;
        let (key, _) = segment_key(&s, 0).await;
        let mut b = bytes_of(&kv, &key).await;
        let at = b.len() * 3 / 4;
        b[at] ^= 0x80;
        put(&kv, &key, b).await;
        assert_eq!(only_problem(&verify(&s, &FULL).await), (ProblemKind::ChecksumMismatch, key));
    });
}
