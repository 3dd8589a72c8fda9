//! The whole life of a collection: GC that cannot delete an in-flight segment (generation
//! fence, no clocks), drop + re-create that cannot touch the new incarnation's objects,
//! identity-checked manifest writes, and manifests of a newer format. Each race is an explicit
//! interleaving on a scripted store (`akidb_core::testkit::InstrumentedKv`).

// Storage holds `Arc<dyn Kv>` whose stores need not be Send (browser stores hold JS values).
#![allow(clippy::arc_with_non_send_sync)]

mod common;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use akidb_core::kv::{Kv, MemoryKv, PutCondition};
use akidb_core::manifest::MANIFEST_FORMAT;
use akidb_core::retry::{Clock, ManualClock};
use akidb_core::search::exec::SearchOptions;
use akidb_core::testkit::{Action, InstrumentedKv, Op};
use akidb_core::{Database, Distance, Storage};
use common::{records, run};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn scripted() -> (Arc<MemoryKv>, Arc<InstrumentedKv<Arc<MemoryKv>>>, Rc<Storage>) {
    let mem = Arc::new(MemoryKv::new());
    let kv = Arc::new(InstrumentedKv::new(mem.clone()));
    let plain = Rc::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    (mem, kv, plain)
}

async fn count(mem: &Arc<MemoryKv>, name: &str) -> akidb_core::Result<usize> {
    let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    db.collection(name).await?.count().await
}

/// A bulk upsert of three 40-minute chunk uploads; GC runs twice (an hour apart, on a clock of
/// its own) while the third chunk uploads. Clock comparisons (the code before the fence, grace
/// 1 h) deleted the first chunks and the acknowledged upsert was then unreadable. The fence
/// makes the commit notice and re-upload them.
#[test]
fn gc_during_a_slow_bulk_upload_never_loses_the_acknowledged_upsert() {
    let (mem, kv, gc) = scripted();
    let clock = Arc::new(ManualClock::new());
    let writer = Storage::new(kv.clone() as Arc<dyn Kv>).with_clock(clock.clone() as Arc<dyn Clock>);
    run(async {
        gc.create_collection("c", 4, Distance::L2).await.unwrap();
        let mut uploads = 0;
        let (gc2, clock2) = (gc.clone(), clock.clone());
        kv.script(move |call| {
            if !call.is_segment_put() {
                return Action::Pass;
            }
            uploads += 1;
            let (gc, clock) = (gc2.clone(), clock2.clone());
            let third = uploads == 3;
            Action::RunFirst(Box::pin(async move {
                clock.sleep(Duration::from_secs(40 * 60)).await;
                if third {
                    gc.collect_garbage("c").await.unwrap();
                    gc.collect_garbage("c").await.unwrap();
                }
            }))
        });
        let recs = records("r", 30, 4, 7);
        let r = writer.write_segments_with_data("c", &recs, 10, &mut |_, _| {}).await.expect("acknowledged");
        assert_eq!(r.segment_ids.len(), 3);
        let m = gc.load_manifest("c").await.unwrap();
        assert_eq!(m.gc_gen, 3);
        assert!(m.segments.iter().all(|d| d.gen == 3), "fenced chunks were re-uploaded at the current generation");
        kv.heal();
        assert_eq!(count(&mem, "c").await.unwrap(), 30, "every acknowledged record is readable");
        // GC after the fact removes the fenced-off first uploads, never a listed object.
        gc.collect_garbage("c").await.unwrap();
        let report = gc.collect_garbage("c").await.unwrap();
        assert!(report.deleted.iter().all(|k| !m.segments.iter().any(|d| k.contains(&d.id.to_string()))));
        assert_eq!(count(&mem, "c").await.unwrap(), 30);
        assert_eq!(mem.list("collections/c/1/segments/").await.unwrap().len(), 3, "orphans gone, listed kept");
    });
}

/// Negative control: listing the fenced-off descriptors anyway (what a commit without the
/// fence check does) publishes segments GC already deleted: every read is then CORRUPT.
#[test]
fn negative_control_without_the_fence_the_same_schedule_loses_the_upsert() {
    let (mem, _kv, gc) = scripted();
    run(async {
        let schema = gc.create_collection("c", 4, Distance::L2).await.unwrap();
        // A writer uploads at generation 1 and is suspended; GC runs twice meanwhile.
        let writer = Storage::new(mem.clone() as Arc<dyn Kv>);
        let stale = writer.write_segment_with_data("c", &records("s", 2, 4, 1)).await.unwrap();
        let m = gc.load_manifest("c").await.unwrap();
        let mut desc = m.segment(&stale.segment_id.unwrap()).unwrap().clone();
        let orphan = records("o", 2, 4, 2);
        let orphan_key = {
            // An unlisted upload at generation 1, as the suspended writer left it.
            desc.id = akidb_core::runtime::new_uuid();
            let seg = akidb_core::segment::Segment::from_records(&orphan, 4, 0);
            let bytes = akidb_core::segment::encode(&seg);
            desc.size_bytes = bytes.len() as u64;
            desc.checksum = akidb_core::segment::checksum_hex(&bytes);
            desc.record_count = 2;
            let key = writer.segment_key("c", schema.incarnation, &desc);
            mem.put(&key, bytes, PutCondition::IfAbsent).await.unwrap();
            key
        };
        gc.collect_garbage("c").await.unwrap();
        let second = gc.collect_garbage("c").await.unwrap();
        assert!(second.deleted.contains(&orphan_key), "GC deleted the unlisted generation-1 upload");
        // The unsafe commit: no fence check.
        writer.update_manifest("c", None, |m| m.add_segment(desc.clone())).await.unwrap();
        assert_eq!(count(&mem, "c").await.unwrap_err().code(), "CORRUPT", "the unsafe path lost the data");
        // The safe path refuses the stale descriptor: the generation-checked mutator finds it fenced.
        assert!(!gc.load_manifest("c").await.unwrap().accepts_generation(1));
    });
}

#[test]
fn gc_keeps_what_it_does_not_understand_and_sweeps_dead_incarnations() {
    let (mem, _kv, s) = scripted();
    run(async {
        s.create_collection("c", 4, Distance::L2).await.unwrap();
        s.write_segment_with_data("c", &records("a", 2, 4, 1)).await.unwrap();
        // An object from a newer build (unknown layout), and an undecodable one at a recent generation.
        let newer = "collections/c/1/segments/v9-index.seg".to_string();
        mem.put(&newer, b"\x00future".to_vec(), PutCondition::IfAbsent).await.unwrap();
        let garbled = format!("collections/c/1/segments/5-{}.seg", akidb_core::runtime::new_uuid());
        mem.put(&garbled, b"not a segment".to_vec(), PutCondition::IfAbsent).await.unwrap();
        for _ in 0..3 {
            s.collect_garbage("c").await.unwrap();
        }
        assert!(mem.get(&newer).await.unwrap().is_some(), "unknown layouts are kept");
        assert!(mem.get(&garbled).await.unwrap().is_some(), "generation 5 > 4 - 2: still committable, kept");
        // A dead incarnation's leftovers (a writer that uploaded after the drop's sweep) go.
        s.drop_collection("c").await.unwrap();
        s.create_collection("c", 4, Distance::L2).await.unwrap();
        let late = format!("collections/c/1/segments/1-{}.seg", akidb_core::runtime::new_uuid());
        mem.put(&late, b"late".to_vec(), PutCondition::IfAbsent).await.unwrap();
        let r = s.collect_garbage("c").await.unwrap();
        assert!(r.deleted.contains(&late), "{r:?}");
    });
}

/// `drop` used to delete the manifest and then everything under the name: a create + upsert
/// that landed in between lost its segment. Now the sweep only touches the dropped
/// incarnation's prefix.
#[test]
fn drop_racing_create_and_upsert_never_touches_the_new_collection() {
    let (mem, kv, other) = scripted();
    let dropper = Storage::new(kv.clone() as Arc<dyn Kv>);
    run(async {
        other.create_collection("c", 4, Distance::L2).await.unwrap();
        other.write_segment_with_data("c", &records("old", 3, 4, 1)).await.unwrap();
        let mut raced = false;
        kv.script(move |call| {
            if call.op == Op::List && !raced {
                raced = true;
                let other = other.clone();
                return Action::RunFirst(Box::pin(async move {
                    other.create_collection("c", 4, Distance::L2).await.unwrap();
                    other.write_segment_with_data("c", &records("new", 5, 4, 2)).await.unwrap();
                }));
            }
            Action::Pass
        });
        dropper.drop_collection("c").await.unwrap();
        let m = Storage::new(mem.clone() as Arc<dyn Kv>).load_manifest("c").await.unwrap();
        assert_eq!((m.incarnation, m.version, m.segments.len()), (2, 2, 1));
        assert_eq!(count(&mem, "c").await.unwrap(), 5, "the re-created collection's upsert survives");
        assert!(mem.list("collections/c/1/").await.unwrap().is_empty(), "the dropped incarnation is swept");
    });
}

#[test]
fn a_writer_of_a_dropped_incarnation_cannot_commit_into_the_new_one() {
    let mem = Arc::new(MemoryKv::new());
    let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
    run(async {
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        db.storage().write_segment_with_data("c", &records("y", 2, 4, 5)).await.unwrap();
        let stale = db.collection("c").await.unwrap();
        db.drop_collection("c").await.unwrap();
        db.create_collection("c", 4, Distance::L2).await.unwrap();
        let e = stale.upsert(&records("z", 1, 4, 3)).await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND", "{e}");
        let e = stale.count().await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND", "a search on a dropped collection's handle: {e}");
        let e = stale.delete(&["z0".into()]).await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND", "{e}");
        let e = stale.upsert_batched(&records("z", 3, 4, 3), 2, &mut |_, _| {}).await.unwrap_err();
        assert_eq!(e.code(), "NOT_FOUND", "{e}");
        let m = db.storage().load_manifest("c").await.unwrap();
        assert_eq!((m.incarnation, m.version, m.segments.len(), m.tombstones.len()), (2, 1, 0, 0));
    });
}

/// A manifest derived from a dropped incarnation must not overwrite the re-created one, even
/// at the same version (the check used to compare version numbers only).
#[test]
fn checked_persist_compares_identity_not_just_versions() {
    let (mem, _kv, s) = scripted();
    run(async {
        s.create_collection("c", 4, Distance::L2).await.unwrap();
        let mut derived = s.load_manifest("c").await.unwrap();
        s.drop_collection("c").await.unwrap();
        s.create_collection("c", 4, Distance::L2).await.unwrap();
        let before = mem.get("collections/c/manifest.json").await.unwrap().unwrap();
        derived.version = 2;
        let e = s.persist_manifest_with_check(&derived, 1).await.unwrap_err();
        assert_eq!(e.code(), "CONFLICT");
        assert!(e.to_string().contains("dropped and re-created"), "{e}");
        assert_eq!(mem.get("collections/c/manifest.json").await.unwrap().unwrap(), before, "nothing written");
    });
}

#[test]
fn a_newer_format_manifest_is_read_but_never_rewritten() {
    let (mem, _kv, s) = scripted();
    run(async {
        s.create_collection("c", 4, Distance::L2).await.unwrap();
        s.write_segment_with_data("c", &records("a", 3, 4, 1)).await.unwrap();
        let key = "collections/c/manifest.json";
        let mut v: serde_json::Value = serde_json::from_slice(&mem.get(key).await.unwrap().unwrap().value).unwrap();
        v["format"] = (MANIFEST_FORMAT + 1).into();
        v["index"] = serde_json::json!({ "kind": "from the future" });
        let newer = serde_json::to_vec(&v).unwrap();
        mem.put(key, newer.clone(), PutCondition::Any).await.unwrap();
        assert_eq!(count(&mem, "c").await.unwrap(), 3, "reading stays compatible");
        let db = Database::new(Storage::new(mem.clone() as Arc<dyn Kv>));
        let c = db.collection("c").await.unwrap();
        let hits = c.search(&[1.0, 0.0, 0.0, 0.0], &SearchOptions { k: 1, ..Default::default() }).await.unwrap();
        assert_eq!(hits.len(), 1);
        let attempts = [
            c.upsert(&records("b", 1, 4, 2)).await.unwrap_err(),
            c.delete(&["a0".into()]).await.unwrap_err(),
            s.collect_garbage("c").await.unwrap_err(),
            s.drop_collection("c").await.unwrap_err(),
            s.persist_manifest(&s.load_manifest("c").await.unwrap()).await.unwrap_err(),
        ];
        for e in attempts {
            assert_eq!(e.code(), "UNSUPPORTED_FORMAT", "{e}");
        }
        assert_eq!(mem.get(key).await.unwrap().unwrap().value, newer, "the newer manifest is untouched");
    });
}

#[test]
fn version_arithmetic_is_checked() {
    let (mem, _kv, s) = scripted();
    run(async {
        s.create_collection("c", 4, Distance::L2).await.unwrap();
        let key = "collections/c/manifest.json";
        let mut v: serde_json::Value = serde_json::from_slice(&mem.get(key).await.unwrap().unwrap().value).unwrap();
        v["version"] = u64::MAX.into();
        v["history"]["from"] = u64::MAX.into();
        mem.put(key, serde_json::to_vec(&v).unwrap(), PutCondition::Any).await.unwrap();
        let before = mem.dump();
        let e = s.delete_records("c", &["a".into()]).await.unwrap_err();
        assert_eq!(e.code(), "CORRUPT", "{e}");
        assert!(e.to_string().contains("overflow"), "{e}");
        assert_eq!(mem.dump(), before, "nothing written");
    });
}
