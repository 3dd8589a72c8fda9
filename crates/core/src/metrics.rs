//! Commit-protocol metrics: conflict retries, conflict failures and manifest persist latency,
//! readable as a struct and as Prometheus exposition text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Upper bounds (seconds) of the persist-duration histogram buckets (Prometheus defaults).
pub const DURATION_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Live counters shared by every collection of one database instance. Thread-safe.
#[derive(Debug, Default)]
pub struct Metrics {
    conflict_retries: AtomicU64,
    conflict_failures: AtomicU64,
    commits: AtomicU64,
    persist: Mutex<Histogram>,
}

/// One histogram bucket: observations `<= le` (cumulative).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// Upper bound in seconds.
    pub le: f64,
    /// Cumulative count.
    pub count: u64,
}

/// A histogram as plain data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramSnapshot {
    /// Number of observations.
    pub count: u64,
    /// Sum of observed seconds.
    pub sum: f64,
    /// Cumulative buckets (the implicit `+Inf` bucket equals `count`).
    pub buckets: Vec<Bucket>,
}

/// A point-in-time copy of the metrics (`db.metrics()` in JS).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSnapshot {
    /// Conditional manifest writes that lost and were retried.
    pub manifest_conflict_retries_total: u64,
    /// Operations that failed with CONFLICT (retries exhausted or a version check failed).
    pub manifest_conflict_failures_total: u64,
    /// Manifest commits that succeeded.
    pub manifest_commits_total: u64,
    /// Duration of successful manifest persists (from first attempt to durable), seconds.
    pub manifest_persist_duration_seconds: HistogramSnapshot,
}

impl Metrics {
    /// Fresh zeroed metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one retry after a lost compare-and-swap.
    pub fn record_conflict_retry(&self) {
        self.conflict_retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one operation that gave up with CONFLICT.
    pub fn record_conflict_failure(&self) {
        self.conflict_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a successful commit and how long it took.
    pub fn record_persist(&self, seconds: f64) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        let seconds = if seconds.is_finite() && seconds > 0.0 { seconds } else { 0.0 };
        let mut h = self.persist.lock().unwrap_or_else(|p| p.into_inner());
        h.count += 1;
        h.sum += seconds;
        for (i, le) in DURATION_BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.counts[i] += 1;
            }
        }
    }

    /// A consistent copy.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let h = self.persist.lock().unwrap_or_else(|p| p.into_inner());
        MetricsSnapshot {
            manifest_conflict_retries_total: self.conflict_retries.load(Ordering::Relaxed),
            manifest_conflict_failures_total: self.conflict_failures.load(Ordering::Relaxed),
            manifest_commits_total: self.commits.load(Ordering::Relaxed),
            manifest_persist_duration_seconds: HistogramSnapshot {
                count: h.count,
                sum: h.sum,
                buckets: DURATION_BUCKETS
                    .iter()
                    .zip(h.counts.iter())
                    .map(|(le, c)| Bucket { le: *le, count: *c })
                    .collect(),
            },
        }
    }

    /// Prometheus text exposition format (version 0.0.4).
    pub fn prometheus_text(&self) -> String {
        use std::fmt::Write;
        let s = self.snapshot();
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            &mut out,
            "akidb_manifest_conflict_retries_total",
            "Manifest compare-and-swap conflicts that were retried.",
            s.manifest_conflict_retries_total,
        );
        counter(
            &mut out,
            "akidb_manifest_conflict_failures_total",
            "Operations that failed with CONFLICT after retries.",
            s.manifest_conflict_failures_total,
        );
        counter(&mut out, "akidb_manifest_commits_total", "Manifest commits that succeeded.", s.manifest_commits_total);
        let h = &s.manifest_persist_duration_seconds;
        let name = "akidb_manifest_persist_duration_seconds";
        let _ =
            writeln!(out, "# HELP {name} Time from first commit attempt to durable manifest.\n# TYPE {name} histogram");
        for b in &h.buckets {
            let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {}", b.le, b.count);
        }
        let _ =
            writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}", h.count, h.sum, h.count);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new();
        m.record_persist(0.003);
        m.record_persist(0.2);
        m.record_persist(30.0);
        let s = m.snapshot();
        let h = &s.manifest_persist_duration_seconds;
        assert_eq!(h.count, 3);
        assert_eq!(h.buckets[0].count, 1); // <= 5 ms
        assert_eq!(h.buckets[5].count, 2); // <= 250 ms
        assert_eq!(h.buckets[10].count, 2); // <= 10 s; 30 s only in +Inf
        assert!((h.sum - 30.203).abs() < 1e-9);
        assert_eq!(s.manifest_commits_total, 3);
    }

    #[test]
    fn prometheus_text_has_every_series() {
        let m = Metrics::new();
        m.record_conflict_retry();
        m.record_conflict_retry();
        m.record_conflict_failure();
        m.record_persist(0.01);
        let t = m.prometheus_text();
        assert!(t.contains("akidb_manifest_conflict_retries_total 2\n"));
        assert!(t.contains("akidb_manifest_conflict_failures_total 1\n"));
        assert!(t.contains("# TYPE akidb_manifest_persist_duration_seconds histogram"));
        assert!(t.contains("akidb_manifest_persist_duration_seconds_bucket{le=\"0.01\"} 1\n"));
        assert!(t.contains("akidb_manifest_persist_duration_seconds_bucket{le=\"0.005\"} 0\n"));
        assert!(t.contains("akidb_manifest_persist_duration_seconds_bucket{le=\"+Inf\"} 1\n"));
        assert!(t.contains("akidb_manifest_persist_duration_seconds_count 1\n"));
    }

    #[test]
    fn snapshot_serialises_in_camel_case() {
        let v = serde_json::to_value(Metrics::new().snapshot()).unwrap();
        assert_eq!(v["manifestConflictRetriesTotal"], 0);
        assert!(v["manifestPersistDurationSeconds"]["buckets"].is_array());
    }
}
