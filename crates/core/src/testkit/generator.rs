//! The one deterministic generator every test, bench and fuzz seed uses (xorshift64): the same
//! data on every target, no dependency.

use serde_json::json;

use crate::record::Record;

/// Tiny deterministic generator (xorshift64), so every target tests the same data.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 random bits (the seed must not be 0).
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [-1, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// `n` values uniform in [-1, 1).
    pub fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.f32()).collect()
    }

    /// Any i8.
    pub fn i8(&mut self) -> i8 {
        (self.next_u64() >> 56) as u8 as i8
    }
}

/// `n` records with ids `{prefix}{i}`, vectors from `XorShift(seed)` and metadata
/// `{ "i": i, "group": i % 10 }`.
pub fn records(prefix: &str, n: usize, dim: usize, seed: u64) -> Vec<Record> {
    let mut rng = XorShift(seed.max(1));
    (0..n)
        .map(|i| Record::new(format!("{prefix}{i}"), rng.vec(dim), Some(json!({ "i": i, "group": i % 10 }))))
        .collect()
}
