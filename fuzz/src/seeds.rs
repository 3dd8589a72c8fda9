//! Valid inputs the fuzzers start from, and per-target dictionaries of tokens, made with the
//! engine's own encoders so they follow the formats as the code stands.

use akidb_core::manifest::{CollectionManifest, OpId, RetiredSegment, SegmentDescriptor, SegmentState, Tombstone};
use akidb_core::segment::{self, Segment};
use akidb_core::{Distance, Record};
use serde_json::json;
use uuid::Uuid;

/// The legacy manifest fixture of the root crate's tests.
pub const LEGACY_MANIFEST: &[u8] = include_bytes!("../../crates/core/tests/fixtures/legacy_manifest.json");

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0123_4567_89ab_4cde_8f01_0000_0000_0000 | n)
}

/// Encoded segments: with and without metadata, empty, unicode ids, odd floats.
pub fn segments() -> Vec<Vec<u8>> {
    let a = vec![
        Record::new("a", vec![1.0, -2.5, 3.25], Some(json!({"section": "net", "n": 3, "tags": ["x", 1.5, null]}))),
        Record::new("ß-ünï", vec![0.0, f32::MIN_POSITIVE, 1e30], None),
        Record::new("c", vec![-0.0, 7.0, 8.0], Some(json!({}))),
        Record::new("", vec![f32::MAX, f32::EPSILON, -1e-30], Some(json!({"deep": {"a": [{"b": {"c": [1, 2]}}]}}))),
    ];
    let b = vec![Record::new("only", vec![0.25], Some(json!({"year": 1959, "rating": 4.5, "live": false})))];
    vec![
        segment::encode(&Segment::from_records(&a, 3, 1_700_000_000_000)),
        segment::encode(&Segment::from_records(&b, 1, 0)),
        segment::encode(&Segment::from_records(&[], 4, u64::MAX)),
    ]
}

/// Manifests: the legacy fixture, a fresh one, and a busy one with segments of both states,
/// tombstones, a long history, retired segments and a drop.
pub fn manifests() -> Vec<Vec<u8>> {
    let fresh = CollectionManifest::new("docs", 3, Distance::Cosine, 1_700_000_000_000, 0, OpId(id(1)));
    let mut busy = CollectionManifest::new("busy-ü", 384, Distance::L2, 1_700_000_000_000, 2, OpId(id(2)));
    for n in 0..3u128 {
        let desc = SegmentDescriptor {
            id: id(100 + n),
            state: SegmentState::Active,
            record_count: 10 + n as u64,
            dimension: 384,
            size_bytes: 4_000,
            checksum: "1a2b3c4d".into(),
            seq: 0,
            gen: 1,
        };
        busy.add_segment(desc).expect("seq");
        busy.stamp_commit(OpId(id(10 + n)), 1_700_000_000_100 + n as u64).expect("version");
    }
    busy.seal(&id(100)).expect("listed");
    busy.add_tombstones(&["a".into(), "b\u{1F600}".into()]).expect("seq");
    busy.stamp_commit(OpId(id(20)), 1_700_000_000_200).expect("version");
    busy.retired.push(RetiredSegment { id: id(200), gen: 1, retired_at_gen: 2 });
    busy.tombstones.push(Tombstone { id: "c".into(), seq: 1 });
    busy.gc_gen = 3;
    let mut dropped = CollectionManifest::new("gone", 8, Distance::Dot, 5, 7, OpId(id(3)));
    dropped.mark_dropped(9);
    dropped.stamp_commit(OpId(id(4)), 10).expect("version");
    vec![LEGACY_MANIFEST.to_vec(), fresh.to_json(), busy.to_json(), dropped.to_json()]
}

/// Filters of every condition kind, nested, plus metadata-like objects.
pub fn filters() -> Vec<Vec<u8>> {
    [
        json!({}),
        json!({"must": [{"key": "genre", "match": "jazz"}, {"key": "year", "range": {"gte": 1950, "lt": 1970}}]}),
        json!({"should": [{"key": "tags", "match": {"any": ["live", "remastered", 7, true]}},
                          {"must": [{"key": "meta.rating", "range": {"gt": 4.5}}]}],
               "must_not": [{"key": "deleted", "exists": true}]}),
        json!({"must": [{"key": "a[].b.c", "match": {"value": 1}}], "must_not": null,
               "should": [{"must_not": [{"key": "n", "exists": false}]}]}),
        json!({"must": [{"should": [{"must": [{"key": "x", "range": {"lte": -0.0, "gt": null}}]}]}]}),
        json!({"genre": "jazz", "year": 1959, "tags": ["a", {"b": [1, 2.5e-8]}], "n": null}),
    ]
    .iter()
    .map(|v| serde_json::to_vec(v).expect("json"))
    .collect()
}

/// ListObjectsV2 pages: plain, URL-encoded, truncated, with entities.
pub fn list_pages() -> Vec<Vec<u8>> {
    [
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<Contents><Key>p/a+b%2Bc</Key><ETag>&quot;x&quot;</ETag><Size>1</Size></Contents>
<Contents><Key>p/%C3%A9&amp;</Key><Size>1</Size></Contents>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>"#,
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&#x26;b&#38;</Key></Contents></ListBucketResult>",
        "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>collections/docs/manifest.json</Key>\
         <LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>\"0\"</ETag><Size>5</Size>\
         <StorageClass>STANDARD</StorageClass></Contents><Contents><Key>&lt;&gt;&apos;&quot;</Key></Contents>\
         <NextContinuationToken> t&amp;k </NextContinuationToken></ListBucketResult>",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// Seeds of target `name`.
pub fn for_target(name: &str) -> Vec<Vec<u8>> {
    match name {
        "segment_decode" => segments(),
        "manifest_parse" => manifests(),
        "filter_parse" => filters(),
        "s3_list_xml" => list_pages(),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "-0",
    "0.0",
    "1e308",
    "1e-400",
    "-1e999",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "9007199254740993",
    "4096",
    "65535",
    "65536",
    "\\u0000",
    "\\ud800",
    "\\udfff",
    "\\ud83d\\ude00",
    "\\\"",
    "\\\\",
];

/// Tokens the structured fuzzer inserts (libFuzzer gets the same as a `-dict` file).
pub fn dictionary(name: &str) -> Vec<&'static [u8]> {
    let specific: &[&str] = match name {
        "segment_decode" => {
            return vec![
                b"AKSG",
                b"\x01\x00",
                b"\x00\x10\x00\x00",
                b"\xff\xff\xff\xff",
                b"\x00\x00\x80\x7f",
                b"{}",
                b"\xc3\x28",
            ];
        }
        "manifest_parse" => &[
            "\"format\"",
            "\"collection\"",
            "\"incarnation\"",
            "\"dropped_at_ms\"",
            "\"dimension\"",
            "\"distance\"",
            "\"cosine\"",
            "\"l2\"",
            "\"dot\"",
            "\"gc_gen\"",
            "\"segments\"",
            "\"retired\"",
            "\"total_vectors\"",
            "\"version\"",
            "\"commit_id\"",
            "\"next_seq\"",
            "\"tombstones\"",
            "\"history\"",
            "\"from\"",
            "\"ops\"",
            "\"created_at_ms\"",
            "\"updated_at_ms\"",
            "\"id\"",
            "\"state\"",
            "\"Active\"",
            "\"Sealed\"",
            "\"record_count\"",
            "\"size_bytes\"",
            "\"checksum\"",
            "\"seq\"",
            "\"gen\"",
            "\"0:0:0123456789ab4cde8f01000000000000\"",
            "\"0123456789ab4cde8f01000000000001\"",
            "\"5b0c3f0e-8a0c-4c59-9d0a-1f2b3c4d5e6f\"",
        ],
        "filter_parse" => &[
            "\"must\"",
            "\"should\"",
            "\"must_not\"",
            "\"key\"",
            "\"match\"",
            "\"range\"",
            "\"exists\"",
            "\"value\"",
            "\"any\"",
            "\"gt\"",
            "\"gte\"",
            "\"lt\"",
            "\"lte\"",
            "\"a.b\"",
            "\"a[].b\"",
            "\".\"",
            "\"[]\"",
            "{\"key\":\"genre\",\"match\":\"jazz\"}",
            "{\"must\":[",
            "]}",
        ],
        "s3_list_xml" => &[
            "<ListBucketResult>",
            "</ListBucketResult>",
            "<Contents>",
            "</Contents>",
            "<Key>",
            "</Key>",
            "<IsTruncated>",
            "</IsTruncated>",
            "true",
            "false",
            "<NextContinuationToken>",
            "</NextContinuationToken>",
            "<EncodingType>",
            "</EncodingType>",
            "url",
            "&amp;",
            "&lt;",
            "&gt;",
            "&quot;",
            "&apos;",
            "&#x26;",
            "&#38;",
            "&#x110000;",
            "&#xD800;",
            "&#0;",
            "&#",
            "%",
            "%C3%A9",
            "%FF",
            "%zz",
            "+",
        ],
        other => panic!("unknown fuzz target {other:?}"),
    };
    specific.iter().chain(JSON_TOKENS).map(|s| s.as_bytes()).collect()
}
