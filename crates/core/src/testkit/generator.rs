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

/// `n` vectors of `dim` around `clusters` centres: the centres come first from `XorShift(seed)`
/// (uniform in [-1, 1)), then each point picks a centre at random and moves every coordinate by
/// `spread ×` uniform [-1, 1). Not normalised (cosine tests normalise, L2 tests need not).
pub fn clustered(n: usize, dim: usize, clusters: usize, spread: f32, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = XorShift(seed.max(1));
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| rng.vec(dim)).collect();
    (0..n)
        .map(|_| {
            let c = &centres[(rng.next_u64() % clusters as u64) as usize];
            c.iter().map(|&x| x + spread * rng.f32()).collect()
        })
        .collect()
}

/// A vector determined by `seed` alone, uniform in [-1, 1): for data keyed by a counter or an id,
/// where neighbouring seeds must still give unrelated vectors (xorshift's first outputs from
/// small seeds are tiny, so the seed is mixed first).
pub fn vector(seed: u64, dim: usize) -> Vec<f32> {
    XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1).vec(dim)
}
