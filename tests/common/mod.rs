//! Shared helpers for the integration tests (native and wasm32).
#![allow(dead_code)]

pub mod scripted;

use std::sync::Arc;

use akidb::kv::{Kv, MemoryKv};
use akidb::{Record, Storage};
use serde_json::json;

/// Drives a future to completion. Works on wasm too, as long as nothing really sleeps.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// A fresh memory store and a storage over it.
pub fn memory_storage() -> (Arc<MemoryKv>, Storage) {
    let kv = Arc::new(MemoryKv::new());
    let storage = Storage::new(kv.clone() as Arc<dyn Kv>);
    (kv, storage)
}

/// Deterministic pseudo-random numbers (xorshift), no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    pub fn vector(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.unit()).collect()
    }
}

/// `n` records with ids `{prefix}{i}` and metadata `{ "i": i, "group": i % 10 }`.
pub fn records(prefix: &str, n: usize, dim: usize, seed: u64) -> Vec<Record> {
    let mut rng = Rng(seed.max(1));
    (0..n)
        .map(|i| Record::new(format!("{prefix}{i}"), rng.vector(dim), Some(json!({ "i": i, "group": i % 10 }))))
        .collect()
}
