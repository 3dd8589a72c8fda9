//! `ChaosKv`: a wrapper that injects random delays and failures around any backend, so tests
//! get real interleavings between a manifest read and its conditional write (SlateDB's
//! failing object store, same idea).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::{GetIfChanged, Kv, KvError, PutCondition, VersionToken, Versioned};
use crate::retry::{Clock, SystemClock};

/// What to inject. All probabilities are in `0.0..=1.0`.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// Upper bound of the uniform random delay before every operation.
    pub max_delay: Duration,
    /// Probability that a put fails before reaching the store (not applied).
    pub fail_before_put: f64,
    /// Probability that a put is applied but its answer is lost (ambiguous outcome).
    pub fail_after_put: f64,
    /// Probability that a read, listing or delete fails transiently (nothing done).
    pub fail_other: f64,
    /// The first this many operations (of any kind) fail transiently before reaching the
    /// store: a deterministic blip.
    pub fail_first: u32,
    /// Every `IfVersion` put answers "precondition failed" (a store that always conflicts).
    pub always_conflict: bool,
    /// Times every operation yields to the executor before running (deterministic
    /// interleaving of async tasks in one thread, without timers).
    pub yields: u32,
    /// Seed of the injection schedule.
    pub seed: u64,
}

impl Default for ChaosConfig {
    fn default() -> Self {
        ChaosConfig {
            max_delay: Duration::from_micros(500),
            fail_before_put: 0.0,
            fail_after_put: 0.0,
            fail_other: 0.0,
            fail_first: 0,
            always_conflict: false,
            yields: 0,
            seed: 7,
        }
    }
}

/// A [`Kv`] wrapper that injects delays and failures according to a [`ChaosConfig`].
pub struct ChaosKv<K> {
    inner: K,
    config: ChaosConfig,
    rng: Mutex<fastrand::Rng>,
    clock: Arc<dyn Clock + Send + Sync>,
    failed_first: AtomicU32,
}

impl<K: Kv> ChaosKv<K> {
    /// Wraps `inner`.
    pub fn new(inner: K, config: ChaosConfig) -> Self {
        let rng = Mutex::new(fastrand::Rng::with_seed(config.seed));
        ChaosKv { inner, config, rng, clock: Arc::new(SystemClock), failed_first: AtomicU32::new(0) }
    }

    /// Takes the injected delays on `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &K {
        &self.inner
    }

    fn roll(&self) -> f64 {
        self.rng.lock().unwrap_or_else(|p| p.into_inner()).f64()
    }

    async fn jitter(&self) {
        for _ in 0..self.config.yields {
            YieldNow(false).await;
        }
        let max = self.config.max_delay.as_micros() as u64;
        if max > 0 {
            let us = self.rng.lock().unwrap_or_else(|p| p.into_inner()).u64(0..=max);
            self.clock.sleep(Duration::from_micros(us)).await;
        }
    }

    /// An injected transient failure before `op` reaches the store, if one is due: one of the
    /// first `fail_first` operations, or else with probability `p`.
    fn blip(&self, op: &str, p: f64) -> Result<(), KvError> {
        let first = self
            .failed_first
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < self.config.fail_first).then_some(n + 1))
            .is_ok();
        if first || (p > 0.0 && self.roll() < p) {
            return Err(KvError::Transient { message: format!("injected failure before {op}"), ambiguous: false });
        }
        Ok(())
    }
}

/// Returns `Pending` once (waking itself at once), letting other tasks run.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[async_trait(?Send)]
impl<K: Kv> Kv for ChaosKv<K> {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, KvError> {
        self.jitter().await;
        self.blip("get", self.config.fail_other)?;
        let r = self.inner.get(key).await;
        self.jitter().await;
        r
    }

    async fn get_if_changed(&self, key: &str, known: &VersionToken) -> Result<GetIfChanged, KvError> {
        self.jitter().await;
        self.blip("get", self.config.fail_other)?;
        self.inner.get_if_changed(key, known).await
    }

    async fn put(&self, key: &str, value: Vec<u8>, condition: PutCondition) -> Result<VersionToken, KvError> {
        self.jitter().await;
        if self.config.always_conflict && matches!(condition, PutCondition::IfVersion(_)) {
            return Err(KvError::PreconditionFailed);
        }
        self.blip("put", self.config.fail_before_put)?;
        let r = self.inner.put(key, value, condition).await;
        if r.is_ok() && self.roll() < self.config.fail_after_put {
            return Err(KvError::Transient { message: "injected lost response after put".into(), ambiguous: true });
        }
        r
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.jitter().await;
        self.blip("delete", self.config.fail_other)?;
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        self.jitter().await;
        self.blip("list", self.config.fail_other)?;
        self.inner.list(prefix).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{conformance, MemoryKv};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn chaos_without_failures_is_still_conformant() {
        let kv = ChaosKv::new(MemoryKv::new(), ChaosConfig { max_delay: Duration::ZERO, ..Default::default() });
        futures::executor::block_on(conformance::run_all(&kv, "c/")).unwrap();
    }

    #[test]
    fn always_conflict_rejects_cas_only() {
        let kv = ChaosKv::new(
            MemoryKv::new(),
            ChaosConfig { max_delay: Duration::ZERO, always_conflict: true, ..Default::default() },
        );
        futures::executor::block_on(async {
            let t = kv.put("k", b"a".to_vec(), PutCondition::IfAbsent).await.unwrap();
            assert_eq!(kv.put("k", b"b".to_vec(), PutCondition::IfVersion(t)).await, Err(KvError::PreconditionFailed));
        });
    }

    #[test]
    fn lost_response_still_applies_the_write() {
        let kv = ChaosKv::new(
            MemoryKv::new(),
            ChaosConfig { max_delay: Duration::ZERO, fail_after_put: 1.0, ..Default::default() },
        );
        futures::executor::block_on(async {
            let r = kv.put("k", b"a".to_vec(), PutCondition::Any).await;
            assert!(matches!(r, Err(KvError::Transient { ambiguous: true, .. })));
            assert_eq!(kv.get("k").await.unwrap().unwrap().value, b"a");
        });
    }
}
