//! Two-level k-means for partition indexes: `sqrt(k)` coarse clusters trained on a sample,
//! then each coarse cluster split into fine clusters in proportion to its size, trained on its
//! own members. Training and assignment score against a few dozen centroids instead of all
//! `k`: a 59k × 384 build scores ~100 centroids per row rather than 1,024.
//!
//! Scores follow the engine's convention (higher is better, [`kernels::score_many`]); under
//! cosine, centroids are re-normalised after every update (spherical k-means). Everything is
//! deterministic for a given seed.

use crate::distance::Distance;
use crate::kernels;

/// Lloyd iterations per level.
const ITERS: usize = 8;
/// Sample rows per coarse centroid for the coarse level.
const COARSE_SAMPLE_PER_CENTROID: usize = 256;
/// Training rows per fine centroid inside a coarse cluster.
const FINE_SAMPLE_PER_CENTROID: usize = 64;

/// A small deterministic generator (xorshift64*): builds must not depend on the host.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Trained centroids, fine ones grouped by coarse parent.
pub struct Centroids {
    /// Dimension.
    pub dim: usize,
    /// Coarse centroids, `coarse_len × dim`.
    pub coarse: Vec<f32>,
    /// Fine centroids, `len × dim`; those of coarse cluster `c` are `children[c]..children[c + 1]`.
    pub fine: Vec<f32>,
    /// Child ranges per coarse centroid (`coarse_len + 1` entries).
    pub children: Vec<usize>,
}

impl Centroids {
    /// Number of fine centroids (partitions).
    pub fn len(&self) -> usize {
        self.fine.len() / self.dim.max(1)
    }

    /// True when there is no centroid.
    pub fn is_empty(&self) -> bool {
        self.fine.is_empty()
    }
}

/// Trains about `k` partitions over the rows of `data` (`n × dim`, row-major).
pub fn train(distance: Distance, data: &[f32], dim: usize, k: usize, seed: u64) -> Centroids {
    train_excluding(distance, data, dim, k, seed, &[])
}

/// [`train`] on every row but those `held_out` marks (kept out so that a calibration can
/// query with them as with rows the centroids never saw).
pub fn train_excluding(
    distance: Distance,
    data: &[f32],
    dim: usize,
    k: usize,
    seed: u64,
    held_out: &[bool],
) -> Centroids {
    let n = data.len() / dim;
    let out = |r: u32| held_out.get(r as usize).copied().unwrap_or(false);
    let k = k.clamp(1, n.max(1));
    let mut rng = Rng::new(seed);
    let k1 = ((k as f64).sqrt().round() as usize).clamp(1, k);
    let mut sample = sample_rows(&mut rng, n, k1 * COARSE_SAMPLE_PER_CENTROID);
    sample.retain(|&r| !out(r));
    let coarse = lloyd(distance, data, dim, &sample, k1, &mut rng);
    let k1 = coarse.len() / dim;
    // Members of every coarse cluster (all rows), to split it.
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); k1];
    let mut scores = vec![0.0f32; k1];
    for row in (0..n).filter(|&r| !out(r as u32)) {
        let v = &data[row * dim..(row + 1) * dim];
        kernels::score_many(distance, v, &coarse, dim, &mut scores);
        members[argmax(&scores)].push(row as u32);
    }
    // Fine centroids per coarse cluster, proportional to its size (at least one if non-empty).
    let mut fine = Vec::with_capacity(k * dim);
    let mut children = vec![0usize];
    let mut kept_coarse = Vec::with_capacity(coarse.len());
    for (c, rows) in members.iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let kc = ((k as f64 * rows.len() as f64 / n as f64).round() as usize).clamp(1, rows.len());
        let train_rows: Vec<u32> = if rows.len() > kc * FINE_SAMPLE_PER_CENTROID {
            sample_rows(&mut rng, rows.len(), kc * FINE_SAMPLE_PER_CENTROID).iter().map(|&i| rows[i as usize]).collect()
        } else {
            rows.clone()
        };
        let cs = lloyd(distance, data, dim, &train_rows, kc, &mut rng);
        fine.extend_from_slice(&cs);
        children.push(fine.len() / dim);
        kept_coarse.extend_from_slice(&coarse[c * dim..(c + 1) * dim]);
    }
    Centroids { dim, coarse: kept_coarse, fine, children }
}

/// A coarse level over given fine centroids (`fine`, `len × dim`), so rows can be assigned
/// to them as fast as to freshly trained ones: √len coarse centroids clustered from the fine
/// ones, the fine ones grouped under them. Returns the [`Centroids`] (fine reordered by group)
/// and, per reordered fine centroid, its index in `fine`.
pub fn hierarchy(distance: Distance, fine: &[f32], dim: usize, seed: u64) -> (Centroids, Vec<u32>) {
    let n = fine.len() / dim.max(1);
    let mut rng = Rng::new(seed);
    let k1 = ((n as f64).sqrt().round() as usize).clamp(1, n.max(1));
    let all: Vec<u32> = (0..n as u32).collect();
    let coarse = lloyd(distance, fine, dim, &all, k1, &mut rng);
    let k1 = (coarse.len() / dim.max(1)).max(1);
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); k1];
    let mut scores = vec![0.0f32; k1];
    for r in 0..n {
        kernels::score_many(distance, &fine[r * dim..(r + 1) * dim], &coarse, dim, &mut scores);
        groups[argmax(&scores)].push(r as u32);
    }
    let (mut out, mut perm, mut children, mut kept) = (Vec::with_capacity(fine.len()), Vec::new(), vec![0], Vec::new());
    for (c, g) in groups.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
        for &r in g {
            out.extend_from_slice(&fine[r as usize * dim..(r as usize + 1) * dim]);
            perm.push(r);
        }
        children.push(perm.len());
        kept.extend_from_slice(&coarse[c * dim..(c + 1) * dim]);
    }
    (Centroids { dim, coarse: kept, fine: out, children }, perm)
}

/// `m` distinct row numbers below `n` (all of them when `m >= n`), in ascending order.
fn sample_rows(rng: &mut Rng, n: usize, m: usize) -> Vec<u32> {
    if m >= n {
        return (0..n as u32).collect();
    }
    // Selection sampling (Knuth's algorithm S): one pass, no allocation beyond the result.
    let mut out = Vec::with_capacity(m);
    for i in 0..n {
        if (rng.unit() * (n - i) as f64) < (m - out.len()) as f64 {
            out.push(i as u32);
        }
    }
    out
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &s) in v.iter().enumerate() {
        if s > v[best] {
            best = i;
        }
    }
    best
}

/// k-means++ seeding and [`ITERS`] Lloyd iterations over `rows` of `data`; returns at most `k`
/// centroids (fewer when there are fewer distinct rows). Empty clusters are re-seeded from a
/// row of the largest cluster, which keeps partitions from collapsing.
fn lloyd(distance: Distance, data: &[f32], dim: usize, rows: &[u32], k: usize, rng: &mut Rng) -> Vec<f32> {
    let row = |r: u32| &data[r as usize * dim..(r as usize + 1) * dim];
    let k = k.min(rows.len()).max(1);
    if rows.is_empty() {
        return Vec::new();
    }
    // k-means++: each next seed drawn with probability ∝ its squared distance to the nearest seed.
    let mut cents: Vec<f32> = row(rows[rng.below(rows.len())]).to_vec();
    let mut nearest: Vec<f32> = rows.iter().map(|&r| kernels::l2_sq(row(r), &cents[..dim])).collect();
    while cents.len() / dim < k {
        let total: f64 = nearest.iter().map(|&d| d as f64).sum();
        if total <= 0.0 {
            break; // every row equals a seed
        }
        let mut target = rng.unit() * total;
        let mut pick = rows.len() - 1;
        for (i, &d) in nearest.iter().enumerate() {
            target -= d as f64;
            if target < 0.0 {
                pick = i;
                break;
            }
        }
        let start = cents.len();
        cents.extend_from_slice(row(rows[pick]));
        for (i, &r) in rows.iter().enumerate() {
            nearest[i] = nearest[i].min(kernels::l2_sq(row(r), &cents[start..]));
        }
    }
    let k = cents.len() / dim;
    let mut assign = vec![0u32; rows.len()];
    let mut scores = vec![0.0f32; k];
    let mut sums = vec![0.0f64; k * dim];
    let mut counts = vec![0usize; k];
    for _ in 0..ITERS {
        for (i, &r) in rows.iter().enumerate() {
            kernels::score_many(distance, row(r), &cents, dim, &mut scores);
            assign[i] = argmax(&scores) as u32;
        }
        sums.fill(0.0);
        counts.fill(0);
        for (i, &r) in rows.iter().enumerate() {
            let c = assign[i] as usize;
            counts[c] += 1;
            for (s, &x) in sums[c * dim..(c + 1) * dim].iter_mut().zip(row(r)) {
                *s += x as f64;
            }
        }
        let largest = (0..k).max_by_key(|&c| counts[c]).unwrap_or(0);
        for c in 0..k {
            let cent = &mut cents[c * dim..(c + 1) * dim];
            if counts[c] == 0 {
                // Re-seed from a random member of the largest cluster.
                let members: Vec<u32> =
                    (0..rows.len()).filter(|&i| assign[i] as usize == largest).map(|i| rows[i]).collect();
                if let Some(&r) = members.get(rng.below(members.len().max(1))) {
                    cent.copy_from_slice(row(r));
                }
                continue;
            }
            for (x, &s) in cent.iter_mut().zip(&sums[c * dim..(c + 1) * dim]) {
                *x = (s / counts[c] as f64) as f32;
            }
            if distance == Distance::Cosine {
                kernels::normalize(cent);
            }
        }
    }
    cents
}

/// Reusable buffers of [`nearest_two`], so assigning rows allocates nothing per row.
#[derive(Default)]
pub struct Scratch {
    scores: Vec<f32>,
    order: Vec<(f32, usize)>,
}

/// The best two fine centroids of `v`, searching the children of its `coarse_probes` best
/// coarse centroids: `(best, second)`; `second` equals `best` when there is only one.
pub fn nearest_two(
    distance: Distance,
    c: &Centroids,
    v: &[f32],
    coarse_probes: usize,
    buf: &mut Scratch,
) -> (u32, u32) {
    let dim = c.dim;
    let k1 = c.coarse.len() / dim;
    buf.scores.resize(k1, 0.0);
    kernels::score_many(distance, v, &c.coarse, dim, &mut buf.scores);
    let order = &mut buf.order;
    order.clear();
    order.extend(buf.scores.iter().copied().zip(0..));
    // Only the best `coarse_probes` matter: select them, then order those.
    let top = coarse_probes.max(1).min(order.len());
    if top < order.len() {
        order.select_nth_unstable_by(top, |a, b| b.0.total_cmp(&a.0));
        order.truncate(top);
    }
    order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (mut best, mut second) = ((f32::NEG_INFINITY, u32::MAX), (f32::NEG_INFINITY, u32::MAX));
    let mut scores = [0.0f32; 256];
    for &(_, parent) in order.iter() {
        let (lo, hi) = (c.children[parent], c.children[parent + 1]);
        for start in (lo..hi).step_by(scores.len()) {
            let end = hi.min(start + scores.len());
            let out = &mut scores[..end - start];
            kernels::score_many(distance, v, &c.fine[start * dim..end * dim], dim, out);
            for (j, &s) in out.iter().enumerate() {
                let id = (start + j) as u32;
                if s > best.0 {
                    second = best;
                    best = (s, id);
                } else if s > second.0 {
                    second = (s, id);
                }
            }
        }
    }
    let best = if best.1 == u32::MAX { 0 } else { best.1 };
    (best, if second.1 == u32::MAX { best } else { second.1 })
}
