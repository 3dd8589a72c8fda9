//! The partition (IVF) index as segment format v2 stores it: centroids quantized to int8 with a
//! power-of-two scale, and the partition ranges and spill lists that search reads. Part of the
//! format, so it lives beside the codec; [`crate::index`] builds it.

/// The scale a centroid is stored with: the smallest power of two ≥ max|x| / 127 (0 for an
/// all-zero centroid). A power of two makes storing idempotent: the stored values quantize back
/// to the same codes and scale, so a built index and the index read back agree bit for bit.
pub fn centroid_scale(x: &[f32]) -> f32 {
    let m = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    if m == 0.0 || !m.is_finite() {
        return 0.0;
    }
    let s = (m / 127.0).max(f32::MIN_POSITIVE);
    let bits = s.to_bits();
    let exp = bits & 0x7f80_0000;
    // Round the mantissa up to the next power of two unless it already is one.
    let pow = if bits & 0x007f_ffff == 0 { exp } else { exp + 0x0080_0000 };
    f32::from_bits(pow)
}

/// The int8 code of `x` under `scale` (0 when the scale is).
pub fn centroid_code(x: f32, scale: f32) -> i8 {
    if scale == 0.0 {
        0
    } else {
        (x / scale).round().clamp(-127.0, 127.0) as i8
    }
}

/// Centroids as the index stores them: each quantized to int8 with [`centroid_scale`] and
/// back. Probe order only needs approximate centroids, and a quarter of the bytes makes a cold
/// query's header read a quarter as long.
pub fn stored_centroids(centroids: &[f32], dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(centroids.len());
    for c in centroids.chunks_exact(dim.max(1)) {
        let s = centroid_scale(c);
        out.extend(c.iter().map(|&x| centroid_code(x, s) as f32 * s));
    }
    out
}

/// One target of a partitioning's calibration: probing `probes` partitions reached recall@10
/// `recall` on a held-out sample of the rows it was built on (`crate::search::calibrate`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Recall@10 reached (a target of the calibration).
    pub recall: f32,
    /// Fewest probed partitions that reached it.
    pub probes: u32,
}

/// The centroids that partition a collection's indexed segments. Compaction trains them once
/// and every later indexed segment lists its rows under the same ones (format v3, which stores
/// a copy with each segment and names it by `id`), so a query scores them once for all
/// segments. Segments decoded with the same id share one `Rc` in memory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Partitioning {
    /// Shared identity; `None` for a v2 segment's own centroids (never reused by compaction).
    pub id: Option<uuid::Uuid>,
    /// Vector dimension.
    pub dim: usize,
    /// Centroids, `partitions × dim`, row-major (in stored, int8-exact form).
    pub centroids: Vec<f32>,
    /// Rows of the collection the centroids were trained for (compaction retrains once the
    /// collection outgrows them: `crate::limits::RETRAIN_GROWTH`).
    pub trained_rows: u32,
    /// Probes per recall target, ascending in both (empty: not calibrated, a v2 segment).
    pub calibration: Vec<Calibration>,
}

impl Partitioning {
    /// Number of partitions.
    pub fn partitions(&self) -> usize {
        self.centroids.len() / self.dim.max(1)
    }

    /// Fewest probes calibrated to reach recall@10 `target`: the first calibrated target at
    /// or above it; `None` when the calibration does not reach it (or there is none).
    pub fn probes_for(&self, target: f32) -> Option<usize> {
        self.calibration.iter().find(|c| c.recall >= target).map(|c| c.probes as usize)
    }
}

thread_local! {
    /// Partitionings in memory by id: segments decoded with the same one share its centroids.
    static SHARED: std::cell::RefCell<std::collections::HashMap<uuid::Uuid, std::rc::Weak<Partitioning>>> =
        Default::default();
}

/// `p` as an `Rc`, the one already in memory when a segment with the same partitioning (id and
/// contents) is: one copy of the centroids however many segments list rows under them.
pub fn shared(p: Partitioning) -> std::rc::Rc<Partitioning> {
    let Some(id) = p.id else { return std::rc::Rc::new(p) };
    SHARED.with(|m| {
        let mut m = m.borrow_mut();
        if let Some(have) = m.get(&id).and_then(std::rc::Weak::upgrade) {
            if *have == p {
                return have;
            }
        }
        m.retain(|_, w| w.strong_count() > 0);
        let rc = std::rc::Rc::new(p);
        m.insert(id, std::rc::Rc::downgrade(&rc));
        rc
    })
}

/// The partition index of a segment whose rows are stored in partition order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartitionIndex {
    /// Vector dimension.
    pub dim: usize,
    /// The centroids (shared with the collection's other indexed segments in format v3).
    pub shared: std::rc::Rc<Partitioning>,
    /// Rows of partition `p` (its primary members) are `starts[p]..starts[p + 1]`.
    pub starts: Vec<u32>,
    /// Spill entries of partition `p` are `spills[spill_starts[p]..spill_starts[p + 1]]`.
    pub spill_starts: Vec<u32>,
    /// Rows (of other partitions) also listed in a partition, ascending per partition.
    pub spills: Vec<u32>,
}

impl PartitionIndex {
    /// Number of partitions.
    pub fn partitions(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Primary rows of partition `p`.
    pub fn rows(&self, p: usize) -> std::ops::Range<usize> {
        self.starts[p] as usize..self.starts[p + 1] as usize
    }

    /// Spilled rows listed in partition `p`.
    pub fn spilled(&self, p: usize) -> &[u32] {
        &self.spills[self.spill_starts[p] as usize..self.spill_starts[p + 1] as usize]
    }

    /// Centroid of partition `p`.
    pub fn centroid(&self, p: usize) -> &[f32] {
        &self.shared.centroids[p * self.dim..(p + 1) * self.dim]
    }

    /// The centroids, `partitions × dim`.
    pub fn centroids(&self) -> &[f32] {
        &self.shared.centroids
    }

    /// Heap bytes held (the shared centroids counted in full: an upper bound).
    pub fn heap_bytes(&self) -> usize {
        (self.shared.centroids.capacity()
            + self.starts.capacity()
            + self.spill_starts.capacity()
            + self.spills.capacity())
            * 4
    }

    /// Checks the invariants search relies on against a segment of `rows` rows (a decoded
    /// index is input: violations are `CORRUPT`, never a panic later).
    pub fn validate(&self, rows: usize, dim: usize) -> crate::Result<()> {
        let bad = |m: &str| Err(crate::Error::corrupt(format!("partition index: {m}")));
        let p = self.partitions();
        if self.dim != dim
            || self.shared.dim != dim
            || self.shared.centroids.len() != p * dim
            || self.spill_starts.len() != self.starts.len()
        {
            return bad("shape does not match the segment");
        }
        if self.starts.first().copied().unwrap_or(0) != 0 || self.starts.last().map_or(0, |&s| s as usize) != rows {
            return bad("partitions do not cover the rows");
        }
        if self.starts.windows(2).any(|w| w[0] > w[1]) || self.spill_starts.windows(2).any(|w| w[0] > w[1]) {
            return bad("partition ranges are not ascending");
        }
        if self.spill_starts.first().copied().unwrap_or(0) != 0
            || self.spill_starts.last().map_or(0, |&s| s as usize) != self.spills.len()
        {
            return bad("spill ranges do not cover the spill list");
        }
        if self.spills.iter().any(|&r| r as usize >= rows) {
            return bad("a spill entry names a row past the end");
        }
        if self.shared.centroids.iter().any(|x| !x.is_finite()) {
            return bad("a centroid is not finite");
        }
        let cal = &self.shared.calibration;
        let bad_cal = |c: &Calibration| !(c.recall > 0.0 && c.recall <= 1.0) || c.probes == 0 || c.probes as usize > p;
        if cal.iter().any(bad_cal) || cal.windows(2).any(|w| w[0].recall >= w[1].recall || w[0].probes > w[1].probes) {
            return bad("calibration out of range");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::XorShift;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn stored_centroids_are_close_and_storing_them_again_changes_no_bit() {
        let mut rng = XorShift(0x9e37_79b9);
        let mut next = move || rng.f32() * 0.5;
        for (dim, spread) in [(4usize, 1.0f32), (384, 0.05), (128, 1e-30), (16, 3e30)] {
            let c: Vec<f32> = (0..dim * 20).map(|_| next() * spread).collect();
            let once = stored_centroids(&c, dim);
            let twice = stored_centroids(&once, dim);
            assert!(once.iter().zip(&twice).all(|(a, b)| a.to_bits() == b.to_bits()), "dim {dim} spread {spread}");
            for (row, (a, b)) in c.chunks(dim).zip(once.chunks(dim)).enumerate() {
                let m = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let err = a.iter().zip(b).fold(0.0f32, |e, (x, y)| e.max((x - y).abs()));
                assert!(err <= m / 63.0, "row {row}: error {err} for max {m}");
            }
        }
        assert_eq!(stored_centroids(&[0.0; 3], 3), vec![0.0; 3]);
    }
}
