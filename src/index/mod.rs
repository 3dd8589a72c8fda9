//! Partition (IVF) indexes inside large segments. Compaction writes a segment of at least
//! [`crate::limits::IVF_MIN_ROWS`] rows with its rows grouped by partition: balanced two-level
//! k-means centroids ([`kmeans`]), every row in the partition of its nearest centroid and also
//! listed in the partition of its second nearest ("spill", which rescues neighbours near
//! partition borders). An ANN search scores the centroids and scans only the partitions nearest
//! the query. The object layout (format v2) keeps each partition contiguous so object stores can
//! serve it by range (`crate::segment::v2`).

pub mod ivf;
pub mod kmeans;

/// The partition index of a segment whose rows are stored in partition order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartitionIndex {
    /// Vector dimension.
    pub dim: usize,
    /// Centroids, `partitions × dim`, row-major.
    pub centroids: Vec<f32>,
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
        &self.centroids[p * self.dim..(p + 1) * self.dim]
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        (self.centroids.capacity() + self.starts.capacity() + self.spill_starts.capacity() + self.spills.capacity()) * 4
    }

    /// Checks the invariants search relies on against a segment of `rows` rows (a decoded
    /// index is input: violations are `CORRUPT`, never a panic later).
    pub fn validate(&self, rows: usize, dim: usize) -> crate::Result<()> {
        let bad = |m: &str| Err(crate::Error::corrupt(format!("partition index: {m}")));
        let p = self.partitions();
        if self.dim != dim || self.centroids.len() != p * dim || self.spill_starts.len() != self.starts.len() {
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
        if self.centroids.iter().any(|x| !x.is_finite()) {
            return bad("a centroid is not finite");
        }
        Ok(())
    }
}
