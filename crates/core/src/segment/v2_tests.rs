//! Format v2: round trips, range-read pieces, and corrupt bytes.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use serde_json::json;

use super::*;
use crate::distance::Distance;
use crate::index::ivf::{build, BuildOptions};
use crate::record::Record;
use crate::segment::{decode as decode_any, encode as encode_any};

fn indexed(rows: usize) -> Segment {
    let recs: Vec<Record> = (0..rows)
        .map(|i| {
            let x = i as f32;
            let meta = if i % 3 == 0 { None } else { Some(json!({ "i": i, "tag": format!("t{}", i % 5) })) };
            Record::new(format!("id-{i}"), vec![(x * 0.37).sin(), (x * 0.11).cos(), (x * 0.05).sin() * 2.0, 1.0], meta)
        })
        .collect();
    let flat = Segment::from_records(&recs, 4, 99);
    build(Distance::L2, &flat, &BuildOptions { rows_per_partition: 8, ..Default::default() })
}

#[test]
fn indexed_segments_round_trip_with_their_index() {
    let seg = indexed(200);
    let idx = seg.index.as_ref().unwrap();
    assert!(idx.partitions() >= 10, "{} partitions", idx.partitions());
    assert!(!idx.spills.is_empty());
    let bytes = encode_any(&seg);
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), VERSION);
    let back = decode_any(&bytes).unwrap();
    assert_eq!(back, seg);
    // Every record of the flat input is there once.
    let mut ids: Vec<&str> = back.ids.iter().collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200);
}

#[test]
fn each_partition_reads_alone_from_its_byte_range() {
    let seg = indexed(150);
    let idx = seg.index.as_ref().unwrap();
    let bytes = encode_any(&seg);
    let h = decode_header(&bytes[..header_len(&bytes[..FIXED_HEADER]).unwrap()]).unwrap();
    assert_eq!(h.partitioning.centroids, idx.centroids());
    for (p, b) in h.blocks.iter().enumerate() {
        let part = decode_partition(&h, p, &bytes[b.offset as usize..(b.offset + b.len as u64) as usize]).unwrap();
        assert_eq!(part.rows, idx.rows(p).len());
        assert_eq!(part.spill_rows, idx.spilled(p));
        let want: Vec<usize> = idx.rows(p).chain(idx.spilled(p).iter().map(|&r| r as usize)).collect();
        for (i, &r) in want.iter().enumerate() {
            assert_eq!(&part.segment.ids[i], &seg.ids[r]);
            assert_eq!(part.segment.vector(i), seg.vector(r));
            assert_eq!(part.segment.metadata.value(i), seg.metadata.value(r));
        }
    }
}

#[test]
fn corrupt_v2_bytes_are_corrupt_never_a_panic() {
    let bytes = encode_any(&indexed(40));
    for n in (0..bytes.len()).step_by(7) {
        assert_eq!(decode_any(&bytes[..n]).unwrap_err().code(), "CORRUPT", "prefix of {n} bytes");
    }
    for i in (0..bytes.len()).step_by(3) {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        assert_eq!(decode_any(&b).unwrap_err().code(), "CORRUPT", "byte {i}");
        // The header and block checks catch it on the range-read path too.
        if let Ok(h) = decode_header(&b) {
            for (p, blk) in h.blocks.iter().enumerate() {
                let (s, e) = (blk.offset as usize, (blk.offset + blk.len as u64) as usize);
                if (s..e).contains(&i) {
                    assert_eq!(decode_partition(&h, p, &b[s..e]).unwrap_err().code(), "CORRUPT", "byte {i}");
                }
            }
        }
    }
}

#[test]
fn an_inconsistent_index_is_corrupt_even_with_valid_checksums() {
    let mut bytes = encode_any(&indexed(60));
    let h = decode_header(&bytes).unwrap();
    let (p, b) = h.blocks.iter().enumerate().find(|(_, b)| b.spills > 0).unwrap();
    // A spill naming a row past the end, with every checksum fixed up.
    let at = b.offset as usize;
    bytes[at..at + 4].copy_from_slice(&10_000u32.to_le_bytes());
    let end = at + b.len as usize - 4;
    let crc = crc32fast::hash(&bytes[at..end]);
    bytes[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    let body = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    let e = decode_any(&bytes).unwrap_err();
    assert_eq!(e.code(), "CORRUPT", "{e}");
    let e = decode_partition(&h, p, &bytes[at..at + b.len as usize]).unwrap_err();
    assert_eq!(e.code(), "CORRUPT", "{e}");
}

#[test]
fn v1_segments_still_read() {
    let recs = vec![Record::new("a", vec![1.0, 2.0], Some(json!({"k": 1}))), Record::new("b", vec![3.0, 4.0], None)];
    let flat = Segment::from_records(&recs, 2, 5);
    let bytes = encode_any(&flat);
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), super::super::FORMAT_VERSION);
    let back = decode_any(&bytes).unwrap();
    assert_eq!(back, flat);
    assert!(back.index.is_none());
}

#[test]
fn v2_objects_still_decode_with_centroids_of_their_own() {
    let seg = indexed(120);
    let idx = seg.index.as_ref().unwrap();
    let bytes = encode_as(&seg, idx, VERSION_V2);
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), VERSION_V2);
    let back = decode_any(&bytes).unwrap();
    let b = back.index.as_ref().unwrap();
    assert_eq!(b.shared.id, None, "a v2 segment has no shared partitioning");
    assert!(b.shared.calibration.is_empty());
    assert_eq!(b.centroids(), idx.centroids());
    assert_eq!((b.starts.clone(), b.spills.clone()), (idx.starts.clone(), idx.spills.clone()));
    assert_eq!(back.ids, seg.ids);
    // Its header reads by range as a v3 one does.
    let h = decode_header(&bytes[..header_len(&bytes[..FIXED_HEADER]).unwrap()]).unwrap();
    assert_eq!(h.partitioning.centroids, idx.centroids());
}

#[test]
fn segments_of_one_partitioning_share_its_centroids_and_calibration_in_memory() {
    use crate::index::ivf::build_with;
    use crate::segment::partition::Calibration;
    let mut a = indexed(150);
    let mut shared = (*a.index.as_ref().unwrap().shared).clone();
    shared.calibration = vec![Calibration { recall: 0.9, probes: 2 }, Calibration { recall: 0.99, probes: 5 }];
    let shared = std::rc::Rc::new(shared);
    a.index.as_mut().unwrap().shared = shared.clone();
    let flat = Segment::from_records(
        &(0..90)
            .map(|i| Record::new(format!("b{i}"), vec![(i as f32).sin(), 0.5, (i as f32).cos(), 1.0], None))
            .collect::<Vec<_>>(),
        4,
        7,
    );
    let b = build_with(Distance::L2, &flat, &shared, &BuildOptions { rows_per_partition: 8, ..Default::default() });
    let (da, db) = (decode_any(&encode_any(&a)).unwrap(), decode_any(&encode_any(&b)).unwrap());
    let (ia, ib) = (da.index.as_ref().unwrap(), db.index.as_ref().unwrap());
    assert!(std::rc::Rc::ptr_eq(&ia.shared, &ib.shared), "two copies of one partitioning in memory");
    assert_eq!(*ia.shared, *shared, "id, centroids, trained rows and calibration round trip");
    assert_eq!(ia.shared.probes_for(0.95), Some(5));
    assert_eq!(ia.shared.probes_for(0.999), None);
    // A calibration that names more probes than partitions is corrupt.
    let mut bad = (*shared).clone();
    bad.calibration[1].probes = 10_000;
    a.index.as_mut().unwrap().shared = std::rc::Rc::new(bad);
    assert_eq!(decode_any(&encode_any(&a)).unwrap_err().code(), "CORRUPT");
}
