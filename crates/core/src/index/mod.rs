//! Partition (IVF) indexes inside large segments. Compaction writes a segment of at least
//! [`crate::limits::IVF_MIN_ROWS`] rows with its rows grouped by partition: balanced two-level
//! k-means centroids ([`kmeans`]), every row in the partition of its nearest centroid and also
//! listed in the partition of its second nearest ("spill", which rescues neighbours near
//! partition borders). An ANN search scores the centroids and scans only the partitions nearest
//! the query. The object layout (format v2) keeps each partition contiguous so object stores can
//! serve it by range (`crate::segment::v2`). The index's stored form ([`PartitionIndex`]) is part
//! of the segment format and lives beside it (`crate::segment::partition`); this module only builds.

pub mod ivf;
pub mod kmeans;
pub mod spread;

pub use crate::segment::partition::PartitionIndex;
