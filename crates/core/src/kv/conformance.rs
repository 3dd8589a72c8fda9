//! The KV conformance suite: written once, run against every backend (memory natively and on
//! wasm, IndexedDB in Chromium, S3 against a real server, R2 bindings and users' own stores from
//! JS through `runConformance`). Each check returns a message naming what broke instead of
//! panicking, so it can run inside any harness.

use futures::future::join_all;

use super::{GetIfChanged, Kv, KvError, PutCondition, VersionToken};

/// Options for [`run_all_with`].
#[derive(Debug, Clone)]
pub struct ConformanceOptions {
    /// How many keys the listing check writes (S3 backends pass > 1000 to cross a page).
    pub many_keys: usize,
    /// How many writers race in the atomicity checks (0 or 1 skips them). Sequential checks
    /// cannot tell a store that reads, compares and then writes (with an await in between)
    /// from an atomic one; racing writers can.
    pub concurrency: usize,
}

impl Default for ConformanceOptions {
    fn default() -> Self {
        ConformanceOptions { many_keys: 50, concurrency: 8 }
    }
}

/// The names of the checks, in the order they run (failures start with the name).
pub const CHECKS: &[&str] = &[
    "get_put_round_trip",
    "if_absent",
    "if_version",
    "conditional_get",
    "delete_and_no_aba",
    "listing",
    "concurrent_conditional_puts",
    "range_reads",
];

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn kv_err(step: &str) -> impl Fn(KvError) -> String + '_ {
    move |e| format!("{step}: unexpected error {e:?}")
}

/// How a backend's version tokens relate to the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenModel {
    /// Tokens never repeat for a key, even across delete and re-create (counters).
    Unique,
    /// Tokens are content hashes (S3 ETags): a key re-created with identical bytes gets its old
    /// token back. Overwrites with different bytes must still change the token, and a token
    /// from before a delete must not match a re-created key holding different bytes.
    ContentHash,
}

/// Runs every check with default options under `prefix` (which must be empty) and cleans up.
pub async fn run_all(kv: &dyn Kv, prefix: &str) -> Result<(), String> {
    run_all_with(kv, prefix, &ConformanceOptions::default()).await
}

/// Runs every check under `prefix` (which must be empty) and cleans up.
pub async fn run_all_with(kv: &dyn Kv, prefix: &str, opts: &ConformanceOptions) -> Result<(), String> {
    run_all_with_tokens(kv, prefix, opts, TokenModel::Unique).await
}

/// [`run_all_with`] for a backend whose tokens follow `tokens`.
pub async fn run_all_with_tokens(
    kv: &dyn Kv,
    prefix: &str,
    opts: &ConformanceOptions,
    tokens: TokenModel,
) -> Result<(), String> {
    check!(kv.list(prefix).await.map_err(kv_err("initial list"))?.is_empty(), "prefix '{prefix}' must start empty");
    let named = |name: &'static str| move |e: String| format!("{name}: {e}");
    get_put_round_trip(kv, prefix).await.map_err(named(CHECKS[0]))?;
    if_absent(kv, prefix).await.map_err(named(CHECKS[1]))?;
    if_version(kv, prefix).await.map_err(named(CHECKS[2]))?;
    conditional_get(kv, prefix).await.map_err(named(CHECKS[3]))?;
    delete_and_no_aba(kv, prefix, tokens).await.map_err(named(CHECKS[4]))?;
    listing(kv, prefix, opts.many_keys).await.map_err(named(CHECKS[5]))?;
    concurrent_conditional_puts(kv, prefix, opts.concurrency).await.map_err(named(CHECKS[6]))?;
    range_reads(kv, prefix).await.map_err(named(CHECKS[7]))?;
    for k in kv.list(prefix).await.map_err(kv_err("cleanup list"))? {
        kv.delete(&k).await.map_err(kv_err("cleanup delete"))?;
    }
    check!(kv.list(prefix).await.map_err(kv_err("final list"))?.is_empty(), "cleanup left keys behind");
    Ok(())
}

async fn get_put_round_trip(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}rt/a");
    check!(kv.get(&key).await.map_err(kv_err("get missing"))?.is_none(), "get of a missing key returned a value");
    let bytes: Vec<u8> = (0..=255u8).collect();
    let t1 = kv.put(&key, bytes.clone(), PutCondition::Any).await.map_err(kv_err("put any"))?;
    let got = kv.get(&key).await.map_err(kv_err("get"))?.ok_or("value vanished after put")?;
    check!(got.value == bytes, "binary value did not round-trip");
    check!(got.version == t1, "get returned token {:?}, put returned {:?}", got.version, t1);
    let t2 = kv.put(&key, Vec::new(), PutCondition::Any).await.map_err(kv_err("overwrite"))?;
    check!(t2 != t1, "overwrite kept the same version token");
    let got = kv.get(&key).await.map_err(kv_err("get empty"))?.ok_or("empty value vanished")?;
    check!(got.value.is_empty(), "empty value did not round-trip");
    Ok(())
}

/// Byte ranges (partition reads of indexed segments): exact slices, clamped at the end, `None`
/// for a missing key.
async fn range_reads(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}range/a");
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    kv.put(&key, bytes.clone(), PutCondition::IfAbsent).await.map_err(kv_err("put"))?;
    for (start, len) in [(0u64, 1u64), (0, 1000), (10, 20), (999, 1), (500, 499)] {
        let got = kv.get_range(&key, start, len).await.map_err(kv_err("get_range"))?.ok_or("range of a present key")?;
        let want = &bytes[start as usize..(start + len) as usize];
        check!(got == want, "range {start}+{len} returned {} bytes, not the slice", got.len());
    }
    let tail = kv.get_range(&key, 990, 100).await.map_err(kv_err("get_range tail"))?.ok_or("tail")?;
    check!(tail == bytes[990..], "a range past the end was not clamped ({} bytes)", tail.len());
    let missing = kv.get_range(&format!("{p}range/none"), 0, 10).await.map_err(kv_err("get_range missing"))?;
    check!(missing.is_none(), "range of a missing key returned bytes");
    Ok(())
}

async fn if_absent(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}absent/x");
    kv.put(&key, b"first".to_vec(), PutCondition::IfAbsent).await.map_err(kv_err("create-only on new key"))?;
    let second = kv.put(&key, b"second".to_vec(), PutCondition::IfAbsent).await;
    check!(second == Err(KvError::PreconditionFailed), "create-only on existing key gave {second:?}");
    let got = kv.get(&key).await.map_err(kv_err("get"))?.ok_or("missing")?;
    check!(got.value == b"first", "failed create-only changed the value");
    Ok(())
}

async fn if_version(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}cas/m");
    let t1 = kv.put(&key, b"v1".to_vec(), PutCondition::Any).await.map_err(kv_err("seed"))?;
    let t2 = kv
        .put(&key, b"v2".to_vec(), PutCondition::IfVersion(t1.clone()))
        .await
        .map_err(kv_err("cas with current token"))?;
    check!(t2 != t1, "cas returned the old token");
    let stale = kv.put(&key, b"v3".to_vec(), PutCondition::IfVersion(t1)).await;
    check!(stale == Err(KvError::PreconditionFailed), "cas with stale token gave {stale:?}");
    let got = kv.get(&key).await.map_err(kv_err("get"))?.ok_or("missing")?;
    check!(got.value == b"v2" && got.version == t2, "stale cas changed the value");
    let missing = kv.put(&format!("{p}cas/none"), b"x".to_vec(), PutCondition::IfVersion(t2)).await;
    check!(missing == Err(KvError::PreconditionFailed), "cas on a missing key gave {missing:?}");
    check!(kv.get(&format!("{p}cas/none")).await.map_err(kv_err("get"))?.is_none(), "cas on a missing key created it");
    Ok(())
}

async fn conditional_get(kv: &dyn Kv, p: &str) -> Result<(), String> {
    let key = format!("{p}cond/m");
    let t1 = kv.put(&key, b"one".to_vec(), PutCondition::Any).await.map_err(kv_err("seed"))?;
    let r = kv.get_if_changed(&key, &t1).await.map_err(kv_err("get_if_changed"))?;
    check!(r == GetIfChanged::Unchanged, "unchanged key reported {r:?}");
    let t2 = kv.put(&key, b"two".to_vec(), PutCondition::IfVersion(t1.clone())).await.map_err(kv_err("cas"))?;
    match kv.get_if_changed(&key, &t1).await.map_err(kv_err("get_if_changed"))? {
        GetIfChanged::Changed(v) => check!(v.value == b"two" && v.version == t2, "changed read returned stale data"),
        other => return Err(format!("changed key reported {other:?}")),
    }
    kv.delete(&key).await.map_err(kv_err("delete"))?;
    let r = kv.get_if_changed(&key, &t2).await.map_err(kv_err("get_if_changed"))?;
    check!(r == GetIfChanged::Missing, "deleted key reported {r:?}");
    Ok(())
}

async fn delete_and_no_aba(kv: &dyn Kv, p: &str, tokens: TokenModel) -> Result<(), String> {
    let key = format!("{p}del/k");
    let old = kv.put(&key, b"same".to_vec(), PutCondition::Any).await.map_err(kv_err("seed"))?;
    kv.delete(&key).await.map_err(kv_err("delete"))?;
    check!(kv.get(&key).await.map_err(kv_err("get"))?.is_none(), "deleted key still readable");
    kv.delete(&key).await.map_err(kv_err("delete missing key"))?;
    let again: &[u8] = match tokens {
        TokenModel::Unique => b"same",
        TokenModel::ContentHash => b"different",
    };
    kv.put(&key, again.to_vec(), PutCondition::IfAbsent).await.map_err(kv_err("re-create"))?;
    let aba = kv.put(&key, b"x".to_vec(), PutCondition::IfVersion(old)).await;
    check!(aba == Err(KvError::PreconditionFailed), "token from before a delete still matched (ABA): {aba:?}");
    Ok(())
}

async fn listing(kv: &dyn Kv, p: &str, many: usize) -> Result<(), String> {
    let base = format!("{p}list/");
    let mut expected: Vec<String> = (0..many).map(|i| format!("{base}k{i:05}")).collect();
    for k in &expected {
        kv.put(k, b"v".to_vec(), PutCondition::Any).await.map_err(kv_err("put for list"))?;
    }
    kv.put(&format!("{p}lisx"), b"v".to_vec(), PutCondition::Any).await.map_err(kv_err("put sibling"))?;
    expected.sort();
    let got = kv.list(&base).await.map_err(kv_err("list"))?;
    check!(got.len() == expected.len(), "list returned {} keys, expected {}", got.len(), expected.len());
    check!(got == expected, "list returned the wrong keys or order");
    Ok(())
}

/// How many increments each racing writer makes in the counter race.
const COUNTER_ROUNDS: usize = 3;

/// Races `n` conditional puts that all hold the same precondition: exactly one may win, the
/// others must fail with `PreconditionFailed`, and the stored value must be the winner's.
async fn race(kv: &dyn Kv, key: &str, n: usize, condition: PutCondition) -> Result<(), String> {
    let bodies: Vec<Vec<u8>> = (0..n).map(|i| format!("writer {i}").into_bytes()).collect();
    let results = join_all(bodies.iter().map(|b| kv.put(key, b.clone(), condition.clone()))).await;
    let mut winner = None;
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(token) => match winner {
                None => winner = Some((i, token)),
                Some((w, _)) => {
                    return Err(format!(
                        "{condition:?}: writers {w} and {i} both succeeded (of {n} racing; exactly one may)"
                    ))
                }
            },
            Err(KvError::PreconditionFailed) => {}
            Err(e) => {
                return Err(format!(
                    "{condition:?}: racing writer {i} got {e:?}, expected success or PreconditionFailed"
                ))
            }
        }
    }
    let (w, token) = winner.ok_or_else(|| format!("{condition:?}: none of {n} racing writers succeeded"))?;
    let got = kv.get(key).await.map_err(kv_err("get after race"))?.ok_or("raced key vanished")?;
    check!(got.value == bodies[w], "{condition:?}: the stored value is not the winner's (a loser overwrote it)");
    check!(got.version == token, "{condition:?}: the stored token is not the winner's");
    Ok(())
}

/// One writer's read-increment-CAS loop; a lost race re-reads. Bounded: with an atomic store a
/// failed CAS means another writer succeeded, so `n` writers fail at most `n` times per round.
async fn increment(kv: &dyn Kv, key: &str, rounds: usize, n: usize) -> Result<(), String> {
    let mut budget = rounds * (n + 1) * 4;
    for _ in 0..rounds {
        loop {
            check!(budget > 0, "a counter writer made no progress (livelock or lost wins)");
            budget -= 1;
            let cur = kv.get(key).await.map_err(kv_err("counter get"))?.ok_or("counter vanished")?;
            let value: usize =
                std::str::from_utf8(&cur.value).ok().and_then(|s| s.parse().ok()).ok_or("counter garbled")?;
            let next = (value + 1).to_string().into_bytes();
            match kv.put(key, next, PutCondition::IfVersion(cur.version)).await {
                Ok(_) => break,
                Err(KvError::PreconditionFailed) => continue,
                Err(e) => return Err(format!("counter put: unexpected error {e:?}")),
            }
        }
    }
    Ok(())
}

/// Atomicity under concurrency: create-only and CAS races on one key (exactly one winner), and
/// `n` writers incrementing one counter through CAS loops (no increment lost). Skipped for
/// `n < 2`.
async fn concurrent_conditional_puts(kv: &dyn Kv, p: &str, n: usize) -> Result<(), String> {
    if n < 2 {
        return Ok(());
    }
    race(kv, &format!("{p}race/create"), n, PutCondition::IfAbsent).await?;
    let key = format!("{p}race/cas");
    let base: VersionToken = kv.put(&key, b"base".to_vec(), PutCondition::Any).await.map_err(kv_err("seed"))?;
    race(kv, &key, n, PutCondition::IfVersion(base)).await?;
    let counter = format!("{p}race/counter");
    kv.put(&counter, b"0".to_vec(), PutCondition::Any).await.map_err(kv_err("seed counter"))?;
    for r in join_all((0..n).map(|_| increment(kv, &counter, COUNTER_ROUNDS, n))).await {
        r?;
    }
    let got = kv.get(&counter).await.map_err(kv_err("get counter"))?.ok_or("counter vanished")?;
    let want = (n * COUNTER_ROUNDS).to_string();
    check!(
        got.value == want.as_bytes(),
        "{n} writers x {COUNTER_ROUNDS} CAS increments left the counter at {}, expected {want} (lost updates)",
        String::from_utf8_lossy(&got.value)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use async_trait::async_trait;

    use super::*;
    use crate::kv::{MemoryKv, Versioned};

    /// Returns `Pending` once, so racing futures interleave on a single-threaded executor.
    struct YieldNow(bool);

    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// A store that checks a put's condition, yields, then writes: correct one call at a
    /// time, broken under concurrency (the negative control of the atomicity check).
    struct CheckThenWrite(MemoryKv);

    #[async_trait(?Send)]
    impl Kv for CheckThenWrite {
        async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
            self.0.get(key).await
        }
        async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
            let current = self.0.get(key).await?.map(|v| v.version);
            let holds = match (&condition, &current) {
                (PutCondition::Any, _) | (PutCondition::IfAbsent, None) => true,
                (PutCondition::IfVersion(want), Some(have)) => want == have,
                _ => false,
            };
            if !holds {
                return Err(KvError::PreconditionFailed);
            }
            YieldNow(false).await;
            self.0.put(key, value, PutCondition::Any).await
        }
        async fn delete(&self, key: &str) -> Result<(), KvError> {
            self.0.delete(key).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
            self.0.list(prefix).await
        }
    }

    #[test]
    fn a_check_then_write_store_fails_the_atomicity_check() {
        let kv = CheckThenWrite(MemoryKv::new());
        let err = futures::executor::block_on(run_all(&kv, "c/")).unwrap_err();
        assert!(err.starts_with("concurrent_conditional_puts:"), "{err}");
        assert!(err.contains("both succeeded"), "{err}");
        // The same store passes every sequential check.
        let seq = ConformanceOptions { concurrency: 1, ..Default::default() };
        futures::executor::block_on(run_all_with(&CheckThenWrite(MemoryKv::new()), "s/", &seq)).unwrap();
    }
}
