//! Compaction racing 8 writers on real threads (each its own `Storage`, like separate workers)
//! over a store that sleeps a random time around every operation: upserts, overwrites and
//! deletes keep landing while a compactor merges and GC collects. Afterwards: nothing lost, no
//! deleted record reappears, the newest version of every record wins, versions are dense.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use akidb_core::kv::{ChaosConfig, ChaosKv, Kv, MemoryKv};
use akidb_core::retry::{Jitter, RetryPolicy};
use akidb_core::search::exec::SearchOptions;
use akidb_core::storage::CompactOptions;
use akidb_core::{Database, Distance, Record, Storage};
use common::{run, Rng};

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_retries: 500,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(40),
        multiplier: 2.0,
        jitter: Jitter::Full,
        max_elapsed: Some(Duration::from_secs(120)),
    }
}

type Model = BTreeMap<String, Option<Vec<f32>>>;

#[test]
fn compaction_racing_8_writers_loses_nothing_and_resurrects_nothing() {
    let mem = Arc::new(MemoryKv::new());
    let chaos = Arc::new(ChaosKv::new(
        mem.clone(),
        ChaosConfig { max_delay: Duration::from_micros(300), seed: 11, ..Default::default() },
    ));
    let store = || Storage::new(chaos.clone() as Arc<dyn Kv>).with_retry_policy(patient());
    run(store().create_collection("c", 4, Distance::L2)).unwrap();
    let writing = AtomicBool::new(true);
    let (writers, steps, ids_per_writer) = (8, 40, 10);
    let (models, commits, (merges, gc_passes)) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let st = store;
                s.spawn(move || {
                    let st = st();
                    let mut rng = Rng(w as u64 + 1);
                    let mut model = Model::new();
                    let mut commits = 0u64;
                    for step in 0..steps {
                        let k = (rng.next_u64() % ids_per_writer) as usize;
                        let id = format!("w{w}-k{k}");
                        if rng.next_u64() % 4 == 0 {
                            let r =
                                run(st.delete_records("c", std::slice::from_ref(&id))).expect("delete acknowledged");
                            assert!(r.committed);
                            model.insert(id, None);
                        } else {
                            let v = vec![w as f32, k as f32, step as f32, 1.0];
                            let r = run(st.write_segment_with_data("c", &[Record::new(id.clone(), v.clone(), None)]))
                                .expect("upsert acknowledged");
                            assert!(r.committed);
                            model.insert(id, Some(v));
                        }
                        commits += 1;
                    }
                    (model, commits)
                })
            })
            .collect();
        let compactor = s.spawn(|| {
            let st = store();
            let (mut merges, mut gc) = (0u64, 0u64);
            let mut round = 0;
            while writing.load(Ordering::SeqCst) {
                let opts = CompactOptions { full: round % 2 == 1, ..Default::default() };
                let r = run(st.compact("c", &opts)).expect("compaction never fails");
                merges += r.merges as u64;
                round += 1;
                if round % 5 == 0 {
                    run(st.collect_garbage("c")).expect("gc");
                    gc += 1;
                }
            }
            (merges, gc)
        });
        let results: Vec<(Model, u64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        writing.store(false, Ordering::SeqCst);
        let c = compactor.join().unwrap();
        let commits = results.iter().map(|r| r.1).sum::<u64>();
        (results.into_iter().map(|r| r.0).collect::<Vec<_>>(), commits, c)
    });
    eprintln!("{commits} writer commits, {merges} compaction merges, {gc_passes} GC passes");
    assert!(merges > 0, "the compactor did race the writers");
    let plain = Storage::new(mem.clone() as Arc<dyn Kv>);
    let m = run(plain.load_manifest("c")).unwrap();
    assert_eq!(m.version, 1 + commits + merges + gc_passes, "versions dense: every operation once");
    let model: Model = models.into_iter().flatten().collect();
    let db = Database::new(plain);
    run(async {
        let c = db.collection("c").await.unwrap();
        let live: Vec<(&String, &Vec<f32>)> = model.iter().filter_map(|(id, v)| v.as_ref().map(|v| (id, v))).collect();
        assert_eq!(c.count().await.unwrap(), live.len(), "nothing lost, nothing resurrected");
        let all = c.search(&[0.0; 4], &SearchOptions { k: live.len().max(1), ..Default::default() }).await.unwrap();
        for (id, v) in &model {
            assert_eq!(
                all.iter().any(|h| &h.id == id),
                v.is_some(),
                "{id}: deleted records stay deleted, upserts stay"
            );
        }
        for (id, v) in live {
            let top = c.search(v, &SearchOptions { k: 1, ..Default::default() }).await.unwrap();
            assert_eq!((&top[0].id, top[0].score), (id, 0.0), "{id}: the newest version wins");
        }
    });
}
