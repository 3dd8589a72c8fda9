use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

use futures::executor::block_on;

use super::*;
use crate::kv::{conformance, MemoryKv};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn passing_every_call_it_is_the_store_it_wraps() {
    let kv = InstrumentedKv::new(MemoryKv::new()).with_log();
    block_on(conformance::run_all(&kv, "i/")).unwrap();
    assert!(kv.supports_ranges(), "ranged reads of the inner store stay ranged");
    assert!(kv.counts().reads() > 0 && kv.counts().puts() > 0);
    assert_eq!(kv.log().len() as u64, {
        let c = kv.counts();
        c.reads() + c.puts() + c.deletes + c.lists
    });
}

#[test]
fn every_call_is_counted_by_kind_and_logged_in_order() {
    let kv = InstrumentedKv::new(MemoryKv::new()).with_log();
    block_on(async {
        let t = kv.put("a", b"12345".to_vec(), PutCondition::IfAbsent).await.unwrap();
        kv.put_staged("b", b"xy".to_vec(), PutCondition::Any).await.unwrap();
        kv.put("a", b"6".to_vec(), PutCondition::IfVersion(t.clone())).await.unwrap();
        assert_eq!(kv.put("a", b"7".to_vec(), PutCondition::IfVersion(t)).await, Err(KvError::PreconditionFailed));
        kv.get("a").await.unwrap();
        kv.get_range("b", 1, 10).await.unwrap();
        kv.get_if_changed("b", &VersionToken("stale".into())).await.unwrap();
        kv.delete("b").await.unwrap();
        kv.list("").await.unwrap();
    });
    let want = Counts {
        gets: 1,
        gets_if_changed: 1,
        range_gets: 1,
        puts_any: 1,
        puts_if_absent: 1,
        puts_if_version: 2,
        staged_puts: 1,
        deletes: 1,
        lists: 1,
        bytes_read: 1 + 1 + 2,
        bytes_written: 5 + 2 + 1,
    };
    assert_eq!(kv.counts(), want, "the failed CAS is a call, but wrote nothing");
    let got: Vec<(Op, String, u64)> = kv.log().into_iter().map(|e| (e.op, e.key, e.bytes)).collect();
    let put = |kind, staged| Op::Put { kind, staged };
    let want = [
        (put(PutKind::IfAbsent, false), "a", 5),
        (put(PutKind::Any, true), "b", 2),
        (put(PutKind::IfVersion, false), "a", 1),
        (put(PutKind::IfVersion, false), "a", 1),
        (Op::Get, "a", 1),
        (Op::GetRange { start: 1, len: 10 }, "b", 1),
        (Op::GetIfChanged, "b", 2),
        (Op::Delete, "b", 0),
        (Op::List, "", 0),
    ];
    assert_eq!(got, want.map(|(op, k, n)| (op, k.to_string(), n)));
    kv.reset();
    assert_eq!((kv.counts(), kv.log()), (Counts::default(), vec![]));
    let quiet = InstrumentedKv::new(MemoryKv::new());
    block_on(quiet.get("a")).unwrap();
    assert!(quiet.log().is_empty(), "logging is opt-in");
    assert_eq!(quiet.counts().gets, 1);
}

#[test]
fn a_script_fails_loses_or_delays_the_calls_it_picks() {
    let kv = InstrumentedKv::new(MemoryKv::new()).with_log();
    let mut puts = 0;
    kv.script(move |call| {
        if !call.op.is_put() || !call.key.starts_with("x/") {
            return Action::Pass;
        }
        puts += 1;
        match puts {
            2 => Action::Fail(unavailable()),
            3 => Action::LoseAnswer(lost_answer()),
            _ => Action::Pass,
        }
    });
    block_on(async {
        kv.put("y", b"v".to_vec(), PutCondition::Any).await.unwrap();
        kv.put("x/1", b"v".to_vec(), PutCondition::Any).await.unwrap();
        assert_eq!(kv.put("x/2", b"v".to_vec(), PutCondition::Any).await, Err(unavailable()));
        assert_eq!(kv.put("x/3", b"v".to_vec(), PutCondition::Any).await, Err(lost_answer()));
        let stored: Vec<String> = kv.inner().dump().into_keys().collect();
        assert_eq!(stored, ["x/1", "x/3", "y"], "the failed put was not applied, the lost one was");
        assert_eq!(kv.counts().bytes_written, 3);
        assert_eq!(kv.log().len(), 4, "failed calls are logged too");
    });
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    kv.script(move |call| match call.op {
        Op::Delete => {
            let r = r.clone();
            Action::RunFirst(Box::pin(async move { r.set(true) }))
        }
        _ => Action::Hang,
    });
    block_on(kv.delete("y")).unwrap();
    assert!(ran.get(), "the hook ran before the delete");
    let mut hung = Box::pin(kv.get("y"));
    let polled = block_on(futures::future::poll_fn(|cx| Poll::Ready(hung.as_mut().poll(cx).is_pending())));
    assert!(polled, "a hung call never answers");
    kv.heal();
    assert_eq!(block_on(kv.get("x/1")).unwrap().unwrap().value, b"v");
}

#[test]
fn predicates_know_the_storage_key_layout() {
    let put = Op::Put { kind: PutKind::IfVersion, staged: false };
    let call = |op, key| Call { op, key, value: None };
    assert!(call(put, "collections/c/manifest.json").is_manifest_put());
    assert!(call(Op::GetIfChanged, "collections/c/manifest.json").is_manifest_get());
    assert!(!call(Op::GetRange { start: 0, len: 1 }, "collections/c/manifest.json").is_manifest_get());
    assert!(call(Op::Put { kind: PutKind::IfAbsent, staged: true }, "collections/c/segments/1-x.seg").is_segment_put());
    assert!(!call(Op::Get, "collections/c/segments/1-x.seg").is_segment_put());
}
