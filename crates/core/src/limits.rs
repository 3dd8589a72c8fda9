//! Every size limit the engine enforces, in one place (docs/LIMITS.md lists them for users).
//! Each is checked before anything is allocated for, or written from, the input it bounds, and
//! a violation is an `INVALID_ARGUMENT` naming the limit. They exist so no input — a request
//! from someone holding an API key included — can crash the engine, poison a collection (commit
//! something that later fails to read back) or exhaust a 128 MB Workers isolate.

/// Longest collection name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Largest vector dimension (and so the longest vector a caller may pass).
pub const MAX_DIMENSION: u32 = 4096;
/// Longest record id, in bytes.
pub const MAX_ID_BYTES: usize = 1024;
/// Deepest nesting of one record's metadata (objects and arrays), well below the 128 levels
/// the segment decoder reads back.
pub const MAX_METADATA_DEPTH: usize = 32;
/// Largest metadata of one record, as JSON bytes.
pub const MAX_METADATA_BYTES: usize = 64 << 10;
/// Most JSON values (objects, arrays, scalars) converted from one JS metadata or filter value:
/// bounds the work done before a size can be measured.
pub const MAX_JSON_NODES: usize = 100_000;
/// Most records in one upsert call (the REST worker allows far fewer per request).
pub const MAX_UPSERT_RECORDS: usize = 1_000_000;
/// Most ids in one delete call.
pub const MAX_DELETE_IDS: usize = 100_000;
/// Most ids in one `get` call (the REST worker: 1,000 per request).
pub const MAX_GET_IDS: usize = 10_000;
/// Largest `batchSize` of a scan (records per batch handed to the caller).
pub const MAX_SCAN_BATCH: usize = 100_000;
/// Deepest nesting of filters inside conditions.
pub const MAX_FILTER_DEPTH: usize = 32;
/// Most conditions in one filter, nested ones included.
pub const MAX_FILTER_CONDITIONS: usize = 1_024;
/// Most values in one `match: { any: [...] }`.
pub const MAX_FILTER_ANY: usize = 1_024;
/// Longest filter key (dotted path) and string operand, in bytes.
pub const MAX_FILTER_STRING_BYTES: usize = 4_096;
/// Largest manifest a commit may grow to (JSON bytes). Every commit moves the whole manifest;
/// past this a write is refused (compact the collection) instead of slowing every writer.
/// Commits that do not grow the manifest (compaction, GC, drops) are never refused.
pub const MAX_MANIFEST_BYTES: usize = 8 << 20;
/// Compaction gives an output segment of at least this many rows a partition (IVF) index
/// (segment format v2) so ANN search scans a fraction of it; smaller segments stay flat, where
/// an exact scan is already fast.
pub const IVF_MIN_ROWS: usize = 8_192;
/// Once a collection has a partitioning (trained at its first merge of [`IVF_MIN_ROWS`] rows),
/// every merge output of at least this many rows is listed under it too (format v3); smaller
/// ones stay flat.
pub const SHARED_INDEX_MIN_ROWS: usize = 1_024;
/// A merge of fewer than [`IVF_MIN_ROWS`] rows still trains the collection's first partitioning
/// when the collection holds that many and the merge at least this many (a merge budget that
/// keeps every segment small must not keep the collection unindexed).
pub const TRAIN_MIN_ROWS: usize = 2_048;
/// Once a collection holds this many times the rows its partitioning was trained for, a merge
/// of every segment retrains it, or a full compaction retrains it on a sample and rewrites each
/// segment (`storage::reindex`): partitions would average this many times the rows the build
/// aims for.
pub const RETRAIN_GROWTH: u64 = 4;
/// Decoded partitions a database keeps from cold ANN queries (range reads), least recently
/// used dropped first. Sized for a 128 MB Workers isolate.
pub const PARTITION_CACHE_BYTES: usize = 32 << 20;
/// Default budget of input bytes for one merge (sized for a 128 MB isolate: inputs, decoded
/// copies and the output fit several times over): what S3 and R2 handles use.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 24 << 20;
/// The merge budget of handles on stores in the runtime's own memory or disk (memory,
/// IndexedDB, custom, Node `fs`): large enough that a collection of a few hundred thousand
/// 384-d vectors compacts into one indexed segment, so `compact({ full: true })` and automatic
/// compaction leave few segments for ANN to search.
pub const LOCAL_MAX_INPUT_BYTES: u64 = 256 << 20;
/// Largest collection (the sum of its segment objects' sizes) a handle keeps in memory from
/// its first search on; a larger one is searched cold (ANN by range reads). The web crate
/// passes 0 for S3 and R2 (a 128 MB Workers isolate) and this for every store that lives in
/// the runtime's own memory or disk (memory, IndexedDB, custom, Node `fs`).
pub const SNAPSHOT_BUDGET_BYTES: u64 = 1 << 30;
/// Largest `k` a search accepts.
pub const MAX_K: usize = 10_000;
/// Most segment objects read at once (the Workers runtime allows 6 open connections per
/// request: compaction and cold searches stay inside it).
pub const MAX_PARALLEL_READS: usize = 6;
/// Longest duration an option may give (`retry.*Ms`, `groupCommit.*Ms`, the worker's
/// `RETRY_*` and `GROUP_COMMIT_*`), in milliseconds: 2^31 − 1, the largest `setTimeout` delay.
pub const MAX_DURATION_MS: u64 = 2_147_483_647;
/// Deepest nesting of one JS value converted to JSON (metadata, filters); deeper is refused
/// before the segment limits apply, so conversion stays iterative and bounded.
pub const MAX_JSON_DEPTH: usize = 100;
/// Largest `maxInputBytes` of one compaction merge: 4 GiB, all a wasm32 memory can hold.
pub const MAX_COMPACT_INPUT_BYTES: u64 = 4 << 30;
/// Most merge rounds one `compact` call may ask for (`maxRounds`).
pub const MAX_COMPACT_ROUNDS: u32 = 1_000;
/// Largest `manyKeys` / `concurrency` of `runConformance` (each is a count of store writes).
pub const MAX_CONFORMANCE_COUNT: usize = 100_000;
