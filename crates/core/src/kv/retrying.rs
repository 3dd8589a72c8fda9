//! `RetryingKv`: the one retry loop of the storage layer. It wraps any backend and retries its
//! transient failures of idempotent operations with a [`RetryPolicy`], sleeping on a [`Clock`]
//! (so virtual-clock tests drive it). Conditional puts are never retried here: their outcome
//! after a lost answer is ambiguous, and only the commit loop, which knows the manifest, can
//! resolve that.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use log::debug;

use super::{GetIfChanged, Kv, KvError, PutCondition, VersionToken, Versioned};
use crate::retry::{Clock, RetryPolicy, SystemClock};

/// What a [`RetryingKv`] has done since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryStats {
    /// Transient failures seen (retried or returned).
    pub transient_errors: u64,
    /// Retries made after them.
    pub retries: u64,
}

/// A [`Kv`] wrapper that retries transient failures of idempotent operations (reads, listings,
/// deletes, unconditional puts) with bounded backoff. Everything else passes through once.
pub struct RetryingKv<K> {
    inner: K,
    policy: RetryPolicy,
    clock: Arc<dyn Clock + Send + Sync>,
    transient_errors: AtomicU64,
    retries: AtomicU64,
}

impl<K: Kv> RetryingKv<K> {
    /// Wraps `inner`, sleeping on the system clock.
    pub fn new(inner: K, policy: RetryPolicy) -> Self {
        Self::with_clock(inner, policy, Arc::new(SystemClock))
    }

    /// Wraps `inner`, sleeping on `clock` (a `ManualClock` in tests).
    pub fn with_clock(inner: K, policy: RetryPolicy, clock: Arc<dyn Clock + Send + Sync>) -> Self {
        RetryingKv { inner, policy, clock, transient_errors: AtomicU64::new(0), retries: AtomicU64::new(0) }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &K {
        &self.inner
    }

    /// Counters since creation.
    pub fn stats(&self) -> RetryStats {
        RetryStats {
            transient_errors: self.transient_errors.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }

    /// Runs `op` until it succeeds, fails for good, or the policy's retries are used up.
    async fn retry<T, F, Fut>(&self, what: &str, key: &str, op: F) -> Result<T, KvError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, KvError>>,
    {
        let mut attempt = 0u32;
        loop {
            match op().await {
                Err(KvError::Transient { message, ambiguous }) => {
                    self.transient_errors.fetch_add(1, Ordering::Relaxed);
                    if attempt >= self.policy.max_retries {
                        return Err(KvError::Transient { message, ambiguous });
                    }
                    attempt += 1;
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    debug!("{what} {key:?}: {message}; retrying (attempt {attempt}/{})", self.policy.max_retries);
                    self.clock.sleep(self.policy.delay(attempt, self.clock.random_unit())).await;
                }
                other => return other,
            }
        }
    }
}

#[async_trait(?Send)]
impl<K: Kv> Kv for RetryingKv<K> {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        self.retry("get", key, || self.inner.get(key)).await
    }
    async fn get_if_changed(&self, key: &str, known: &VersionToken) -> Result<GetIfChanged, KvError> {
        self.retry("get", key, || self.inner.get_if_changed(key, known)).await
    }
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>, KvError> {
        self.retry("get range", key, || self.inner.get_range(key, start, len)).await
    }
    fn supports_ranges(&self) -> bool {
        self.inner.supports_ranges()
    }
    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        match condition {
            PutCondition::Any => self.retry("put", key, || self.inner.put(key, value.clone(), PutCondition::Any)).await,
            c => self.inner.put(key, value, c).await,
        }
    }
    async fn put_staged(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        match condition {
            PutCondition::Any => {
                self.retry("put", key, || self.inner.put_staged(key, value.clone(), PutCondition::Any)).await
            }
            c => self.inner.put_staged(key, value, c).await,
        }
    }
    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.retry("delete", key, || self.inner.delete(key)).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        self.retry("list", prefix, || self.inner.list(prefix)).await
    }
    fn close(&self) {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::chaos::{ChaosConfig, ChaosKv};
    use crate::kv::MemoryKv;
    use crate::retry::{Jitter, ManualClock};
    use futures::executor::block_on;
    use std::time::Duration;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy { max_retries, jitter: Jitter::None, ..RetryPolicy::seed() }
    }

    /// A store whose every operation fails transiently: its reads go through the retry loop
    /// until the policy gives up, and every pause is taken on the virtual clock.
    fn failing(clock: &Arc<ManualClock>, max_retries: u32) -> RetryingKv<ChaosKv<MemoryKv>> {
        let always =
            ChaosConfig { max_delay: Duration::ZERO, fail_before_put: 1.0, fail_other: 1.0, ..Default::default() };
        let chaos = ChaosKv::new(MemoryKv::new(), always);
        RetryingKv::with_clock(chaos, policy(max_retries), clock.clone())
    }

    #[test]
    fn reads_are_retried_on_the_clock_with_the_policy_schedule() {
        let clock = Arc::new(ManualClock::new());
        let kv = failing(&clock, 3);
        let e = block_on(kv.get("k")).unwrap_err();
        assert!(matches!(e, KvError::Transient { ambiguous: false, .. }), "{e:?}");
        let ms = |n| Duration::from_millis(n);
        assert_eq!(clock.sleeps(), [ms(10), ms(20), ms(40)], "the seed schedule, on virtual time");
        assert_eq!(kv.stats(), RetryStats { transient_errors: 4, retries: 3 });
        block_on(kv.list("")).unwrap_err();
        block_on(kv.delete("k")).unwrap_err();
        assert_eq!(clock.sleeps().len(), 9, "list and delete are idempotent: retried too");
    }

    #[test]
    fn conditional_puts_pass_through_once() {
        let clock = Arc::new(ManualClock::new());
        let kv = failing(&clock, 3);
        block_on(kv.put("k", b"v".to_vec(), PutCondition::IfAbsent)).unwrap_err();
        block_on(kv.put("k", b"v".to_vec(), PutCondition::IfVersion(VersionToken("1".into())))).unwrap_err();
        block_on(kv.put_staged("k", b"v".to_vec(), PutCondition::IfAbsent)).unwrap_err();
        assert!(clock.sleeps().is_empty(), "an ambiguous conditional put is the commit loop's to resolve");
        assert_eq!(kv.stats().retries, 0);
        block_on(kv.put("k", b"v".to_vec(), PutCondition::Any)).unwrap_err();
        assert_eq!(clock.sleeps().len(), 3, "an unconditional put is idempotent: retried");
    }

    #[test]
    fn a_blip_is_absorbed_and_other_errors_are_not_retried() {
        let clock = Arc::new(ManualClock::new());
        let mem = MemoryKv::new();
        block_on(mem.put("k", b"v".to_vec(), PutCondition::Any)).unwrap();
        let blips = ChaosConfig { max_delay: Duration::ZERO, fail_first: 2, ..Default::default() };
        let kv = RetryingKv::with_clock(ChaosKv::new(mem, blips), policy(3), clock.clone());
        assert_eq!(block_on(kv.get("k")).unwrap().unwrap().value, b"v");
        assert_eq!(kv.stats(), RetryStats { transient_errors: 2, retries: 2 });
        let e = block_on(kv.put("k", b"w".to_vec(), PutCondition::IfAbsent)).unwrap_err();
        assert_eq!(e, KvError::PreconditionFailed);
        assert_eq!(clock.sleeps().len(), 2, "a failed precondition is an answer, not a blip");
    }
}
