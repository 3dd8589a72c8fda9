//! Retry policy (exponential backoff with optional jitter, bounded by count and time) and the
//! injectable clock the commit loop sleeps on, so tests check delays without wall time.

use std::sync::Mutex;
use std::time::Duration;

use futures::future::LocalBoxFuture;

use crate::runtime;

/// How backoff delays are randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the exponential schedule (the seed's behaviour: contenders retry in lockstep).
    None,
    /// Uniform in `0..=delay` (AWS "full jitter").
    Full,
    /// `delay/2 + uniform(0..=delay/2)`.
    Equal,
}

/// When and how often a conflicting commit is retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// Delay before the first retry.
    pub initial_backoff: Duration,
    /// Cap of a single delay.
    pub max_backoff: Duration,
    /// Growth factor per retry.
    pub multiplier: f64,
    /// Randomisation of each delay.
    pub jitter: Jitter,
    /// Give up once this much time has passed since the first attempt (None: count only).
    pub max_elapsed: Option<Duration>,
}

impl RetryPolicy {
    /// The seed's schedule: 10 ms doubling to 5120 ms, 10 retries, no jitter.
    pub fn seed() -> Self {
        RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(5120),
            multiplier: 2.0,
            jitter: Jitter::None,
            max_elapsed: None,
        }
    }

    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..Self::seed() }
    }

    /// The un-jittered delay before retry number `retry` (1-based).
    pub fn base_delay(&self, retry: u32) -> Duration {
        let exp = self.multiplier.powi(retry.saturating_sub(1) as i32);
        let ms = self.initial_backoff.as_secs_f64() * 1000.0 * exp;
        let capped = ms.min(self.max_backoff.as_secs_f64() * 1000.0).max(0.0);
        Duration::from_secs_f64(capped / 1000.0)
    }

    /// The delay before retry number `retry` (1-based), jittered with `unit` in `0.0..1.0`.
    pub fn delay(&self, retry: u32, unit: f64) -> Duration {
        let base = self.base_delay(retry);
        match self.jitter {
            Jitter::None => base,
            Jitter::Full => base.mul_f64(unit.clamp(0.0, 1.0)),
            Jitter::Equal => base / 2 + (base / 2).mul_f64(unit.clamp(0.0, 1.0)),
        }
    }

    /// Checks the policy is usable.
    pub fn validate(&self) -> crate::error::Result<()> {
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err(crate::error::Error::invalid("retry multiplier must be a finite number >= 1"));
        }
        if self.initial_backoff > self.max_backoff {
            return Err(crate::error::Error::invalid("retry initial backoff exceeds max backoff"));
        }
        Ok(())
    }
}

impl Default for RetryPolicy {
    /// The seed's schedule with full jitter, so contending writers spread out, and a 30 s
    /// time bound (the seed's schedule alone sleeps at most 10.23 s).
    fn default() -> Self {
        RetryPolicy { jitter: Jitter::Full, max_elapsed: Some(Duration::from_secs(30)), ..Self::seed() }
    }
}

/// Time source and sleeper used by the commit loop.
pub trait Clock {
    /// Milliseconds on a monotonic clock.
    fn now_ms(&self) -> f64;
    /// Wall-clock milliseconds since the Unix epoch.
    fn unix_ms(&self) -> u64;
    /// Waits for `d`.
    fn sleep(&self, d: Duration) -> LocalBoxFuture<'static, ()>;
    /// A uniform random number in `0.0..1.0` for jitter.
    fn random_unit(&self) -> f64 {
        crate::runtime::random_unit()
    }
}

/// The real clock of the platform (thread sleep natively, `setTimeout` on wasm).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> f64 {
        runtime::monotonic_ms()
    }
    fn unix_ms(&self) -> u64 {
        runtime::unix_ms()
    }
    fn sleep(&self, d: Duration) -> LocalBoxFuture<'static, ()> {
        Box::pin(runtime::sleep(d))
    }
}

/// A virtual clock for tests: sleeping returns at once, advances virtual time, and is recorded.
#[derive(Debug, Default)]
pub struct ManualClock {
    state: Mutex<(f64, Vec<Duration>)>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).1.clone()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> f64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0
    }
    fn unix_ms(&self) -> u64 {
        1_700_000_000_000 + self.now_ms() as u64
    }
    fn sleep(&self, d: Duration) -> LocalBoxFuture<'static, ()> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.0 += d.as_secs_f64() * 1000.0;
        st.1.push(d);
        Box::pin(futures::future::ready(()))
    }
    fn random_unit(&self) -> f64 {
        0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn seed_schedule_doubles_from_10_to_5120() {
        let p = RetryPolicy::seed();
        let got: Vec<u128> = (1..=10).map(|r| p.delay(r, 0.9).as_millis()).collect();
        assert_eq!(got, vec![10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120]);
        assert_eq!(p.delay(20, 0.1).as_millis(), 5120, "capped");
    }

    #[test]
    fn full_jitter_stays_within_the_base_delay() {
        let p = RetryPolicy::default();
        assert_eq!(p.jitter, Jitter::Full);
        assert_eq!(p.max_elapsed, Some(Duration::from_secs(30)), "default is bounded by time too");
        assert_eq!(p.max_retries, 10);
        assert_eq!(p.delay(3, 0.0), Duration::ZERO);
        assert_eq!(p.delay(3, 0.5).as_millis(), 20);
        assert!(p.delay(3, 0.999) <= p.base_delay(3));
    }

    #[test]
    fn equal_jitter_keeps_half() {
        let p = RetryPolicy { jitter: Jitter::Equal, ..RetryPolicy::seed() };
        assert_eq!(p.delay(2, 0.0).as_millis(), 10);
        assert_eq!(p.delay(2, 1.0).as_millis(), 20);
    }

    #[test]
    fn invalid_policies_are_rejected() {
        assert!(RetryPolicy { multiplier: 0.5, ..RetryPolicy::seed() }.validate().is_err());
        assert!(RetryPolicy { multiplier: f64::NAN, ..RetryPolicy::seed() }.validate().is_err());
        assert!(RetryPolicy::seed().validate().is_ok());
    }

    #[test]
    fn manual_clock_records_and_advances() {
        let c = ManualClock::new();
        futures::executor::block_on(c.sleep(Duration::from_millis(30)));
        assert_eq!(c.now_ms(), 30.0);
        assert_eq!(c.sleeps(), vec![Duration::from_millis(30)]);
    }
}
