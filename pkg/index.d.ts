// Type definitions for the `akidb` npm package (hand-written; the same API in browsers, Node ≥ 20
// and workerd). See docs/BROWSER.md for a guide.

/** Stable error codes carried by every error AkiDB throws, as `error.code`. */
export type ErrorCode =
  /** A compare-and-swap lost and the retries were exhausted (or a version check failed). */
  | 'CONFLICT'
  /** A collection or segment does not exist. */
  | 'NOT_FOUND'
  /** A collection with that name already exists. */
  | 'ALREADY_EXISTS'
  /**
   * The arguments were unusable; nothing was written. An option key the call does not take is
   * one too (`search(q, { topK: 5 })`: "unknown option options.topK; did you mean 'k'?").
   */
  | 'INVALID_ARGUMENT'
  /** Stored bytes failed to decode or verify (checksum, missing segment object). */
  | 'CORRUPT'
  /** The store failed: IndexedDB quota exceeded (nothing written), closed connection, I/O. */
  | 'STORAGE'
  /** The store rejected the credentials. */
  | 'AUTH'
  /**
   * The operation may or may not have committed and the store could not tell which (e.g. the
   * answer to the manifest write was lost and re-reading could not decide). Do NOT retry blindly:
   * ask {@link Collection.operationStatus} (or {@link AkiDB.operationStatus}) with
   * `error.operationId` first. Every other code
   * means "not committed".
   */
  | 'OUTCOME_UNKNOWN'
  /**
   * The collection's manifest was written by a newer AkiDB (a higher `format`): it can be read,
   * but this build refuses to rewrite it (it would drop what it does not understand).
   */
  | 'UNSUPPORTED_FORMAT'
  /**
   * {@link Collection.searchIdsSync} was called while the handle's current snapshot is not in
   * memory: `await collection.load()` (or any search) first.
   */
  | 'NOT_LOADED'
  /**
   * Browser entry: the engine (`akidb_bg.wasm`) could not be fetched or instantiated; the message
   * names the source tried. Pass it yourself: `AkiDB.ready({ wasm })` (see {@link WasmSource}).
   */
  | 'WASM_LOAD';

/**
 * Every rejection of an AkiDB promise is an `AkiDBError`: an `Error` with
 * `name === 'AkiDBError'` and a `code`. `err instanceof AkiDBError` holds for every such error,
 * also one that crossed a worker boundary or came from another copy of the package.
 */
export declare class AkiDBError extends Error {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown });
  /** `'AkiDBError'`. */
  name: 'AkiDBError';
  /** Machine-readable reason. */
  code: ErrorCode;
  /**
   * Only with `code === 'OUTCOME_UNKNOWN'`: the opaque token of the operation, for
   * {@link Collection.operationStatus}.
   */
  operationId?: string;
}

/** What {@link Collection.operationStatus} learned about an `OUTCOME_UNKNOWN` operation. */
export type OperationStatus =
  /** It committed, creating manifest version `version`: do not apply it again. */
  | { status: 'committed'; version: number }
  /** It did not commit and never will (no attempt can land any more): retrying is safe. */
  | { status: 'not_committed' }
  /**
   * Still undecidable: an attempt may still land, the collection was dropped meanwhile, or more
   * commits landed since than the manifest's history remembers. Ask again later.
   */
  | { status: 'unknown' };

/** What one {@link AkiDB.collectGarbage} pass did. */
export interface GcReport {
  /** The GC generation this pass raised the collection's fence to (one commit). */
  generation: number;
  /** Store keys deleted (with the store prefix): fenced-off orphan segments and objects of dropped incarnations. */
  deleted: string[];
  /** Unlisted segment objects kept because a commit in flight may still list them (deleted by a later pass). */
  keptRecent: number;
  /** Keys kept because this build does not recognise their layout (e.g. written by a newer AkiDB). */
  keptUnknown: number;
}

/** Options of {@link AkiDB.verify}. */
export interface VerifyOptions {
  /**
   * Only check that each listed segment object is in the store's listing and read its fixed
   * header by range (format, record count, dimension, partitions): a few bytes per segment.
   * Sizes, checksums, records and the index are then not checked. Default false.
   */
  headersOnly?: boolean;
  /** Called after each listed segment with the segments checked so far and their total. */
  onProgress?: (done: number, total: number) => void;
}

/** One problem {@link AkiDB.verify} found, named by the store key of its object. */
export interface VerifyProblem {
  /** The object's key, with the store prefix (the manifest's key for manifest problems). */
  key: string;
  /**
   * `'missing'` (listed, not in the store), `'size_mismatch'`, `'checksum_mismatch'` (against
   * the descriptor), `'undecodable'` (bad magic, format or internal CRC), `'descriptor_mismatch'`
   * (another record count or dimension), `'index_inconsistent'` (the partition index disagrees
   * with the rows), `'manifest_corrupt'` (does not parse), `'manifest_inconsistent'`.
   */
  kind:
    | 'missing'
    | 'size_mismatch'
    | 'checksum_mismatch'
    | 'undecodable'
    | 'descriptor_mismatch'
    | 'index_inconsistent'
    | 'manifest_corrupt'
    | 'manifest_inconsistent';
  /** What exactly, for people. */
  message: string;
}

/** What {@link AkiDB.verify} found out about one listed segment. */
export interface VerifySegment {
  /** Segment id (UUID). */
  id: string;
  /** Its object key, with the store prefix. */
  key: string;
  /** Segment format of the object (1 plain; 2, 3 with a partition index); null when unreadable. */
  format: number | null;
  /** Partitions of its index; null without an index (or when unreadable). */
  partitions: number | null;
  /** No problem was found with it. */
  ok: boolean;
}

/** What {@link AkiDB.verify} found. Orphaned and retired objects are counted, never problems. */
export interface VerifyReport {
  /** True when `problems` is empty. */
  ok: boolean;
  /** The collection. */
  collection: string;
  /** The manifest version verified (0 when the manifest did not parse). */
  version: number;
  /** The collection's incarnation. */
  incarnation: number;
  /** Whether only headers were read. */
  headersOnly: boolean;
  /** One entry per listed segment, in manifest order. */
  segments: VerifySegment[];
  /** Records across the listed segments (their descriptors' counts). */
  records: number;
  /** Bytes of segment objects read. */
  bytesRead: number;
  /** Keys under the collection's prefix in the store (manifest included). */
  objects: number;
  /** Keys of objects nothing lists (failed writes, dropped incarnations): GC deletes them in time. */
  orphaned: string[];
  /** Segments replaced by compaction still in the store for older snapshots (GC deletes them later). */
  retired: number;
  /** Retired segments already gone from the store (harmless). */
  retiredMissing: number;
  /** Keys of a layout this build does not recognise (left alone). */
  unknown: string[];
  /** Every problem found. */
  problems: VerifyProblem[];
}

/** Options of {@link Collection.compact}. Every number must be a whole number ≥ 1 (else INVALID_ARGUMENT). */
export interface CompactOptions {
  /** Rewrite every segment that fits the budget, not just what the size-tiered policy asks for. Default false. */
  full?: boolean;
  /**
   * Only compact when the collection needs it: at least 8 segments or 1,000 tombstones, and a
   * merge the policy wants (what automatic compaction uses). Default false.
   */
  auto?: boolean;
  /**
   * Most bytes of input segments one merge reads; larger segments are left alone. At most
   * 4294967296. Default 25165824 (24 MiB) on `store: 's3' | 'r2'` (a 128 MB Workers isolate);
   * 268435456 (256 MiB) on the stores in the runtime's memory or disk (memory, IndexedDB, custom,
   * fs), so a collection of a few hundred thousand 384-d vectors compacts into one indexed segment.
   */
  maxInputBytes?: number;
  /** Most merges (each one manifest commit) in this call. At most 1000. Default 8. */
  maxRounds?: number;
  /**
   * Run one garbage-collection pass ({@link AkiDB.collectGarbage}) after a compaction that merged
   * something. Replaced segments stay in the store until the second GC pass after the merge
   * (readers on older snapshots keep working). Default false.
   */
  gc?: boolean;
}

/** What one {@link Collection.compact} call did. */
export interface CompactionReceipt {
  /** Manifest version after the last merge (the version found when nothing was merged). */
  version: number;
  /** Segments listed before the first merge. */
  segmentsBefore: number;
  /** Segments listed after the last merge. */
  segmentsAfter: number;
  /** Records dropped: shadowed by a newer upsert of the same id, or hidden by a tombstone. */
  recordsDropped: number;
  /** Tombstones retired (they no longer hide anything). */
  tombstonesRetired: number;
  /** Bytes of input segments read. */
  bytesRead: number;
  /** Bytes of output segments written. */
  bytesWritten: number;
  /** Merges committed (each one manifest commit: one version). */
  merges: number;
  /**
   * Manifest commits made: the merges, plus one when the handle retired tombstones that hide
   * nothing (deletes of ids never written). The version advanced by exactly this much.
   */
  commits: number;
  /** Merges abandoned because another compaction replaced an input first (their output is left to GC). */
  superseded: number;
  /** With `gc: true` and `commits > 0`: the GC pass that followed. */
  gc?: GcReport;
  /**
   * With `gc: true` and `commits > 0`, when that GC pass failed: its error (the compaction itself
   * is committed). `operationId` with `code === 'OUTCOME_UNKNOWN'` (the fence commit may have landed).
   */
  gcError?: { code: ErrorCode; message: string; operationId?: string };
}

/**
 * How similarity is measured. Scores are always "higher is better": cosine similarity (vectors
 * are normalised on insert), dot product, or the NEGATIVE squared Euclidean distance.
 */
export type Distance = 'cosine' | 'l2' | 'dot';

/** Backoff of the manifest compare-and-swap loop when concurrent writers conflict. */
export interface RetryOptions {
  /** Retries after the first attempt before failing with CONFLICT. Default 10. */
  maxRetries?: number;
  /** First backoff delay in milliseconds. Default 10. */
  initialBackoffMs?: number;
  /** Largest backoff delay in milliseconds. Default 5120. */
  maxBackoffMs?: number;
  /** Growth factor of the delay per retry, ≥ 1. Default 2. */
  multiplier?: number;
  /** Randomisation of each delay so contenders spread out. Default `'full'`. */
  jitter?: 'none' | 'full' | 'equal';
  /** Give up (CONFLICT) once this many milliseconds have passed since the first attempt. Default 30000. */
  maxElapsedMs?: number;
}

/**
 * Where the browser entry loads the engine from, for bundlers that do not serve
 * `akidb_bg.wasm` next to the package: its URL, a `Response` (e.g. `fetch(url)`), its bytes or
 * a compiled `WebAssembly.Module`.
 */
export type WasmSource = string | URL | Response | Promise<Response> | BufferSource | WebAssembly.Module;

/** Options of {@link AkiDB.open}. */
export interface OpenOptions {
  /** Browser entry only: where to load the engine from on first use (see {@link WasmSource}, {@link AkiDB.ready}). */
  wasm?: WasmSource;
  /**
   * Where data lives. `'memory'` (default): in this JS realm only. `'indexeddb'`: persisted in
   * the browser's IndexedDB database `akidb:{name}` and shared safely by every tab and worker of
   * the origin. `'s3'`: an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO) over `fetch`,
   * shared safely by any number of instances (conditional writes); see docs/EDGE.md. `'r2'`: a
   * Cloudflare R2 bucket binding (`bucket: env.MY_BUCKET`) inside a Worker: no credentials, same
   * guarantees (docs/EDGE.md). `'custom'`: your own store object (`kv`, see
   * {@link AkiDBCustomStore}); check it with {@link runConformance} first. `'fs'` (Node only):
   * a local directory (`path`), safe for any number of processes on one machine (the manifest
   * swap is an exclusive `link(2)`, every write fsynced before it is acknowledged); a full disk or
   * a read-only directory is a STORAGE error that commits nothing.
   */
  store?: 'memory' | 'indexeddb' | 's3' | 'r2' | 'custom' | 'fs';
  /** For `'fs'` (required): the directory, created if missing. Keys are files and directories under it. */
  path?: string;
  /**
   * For `'indexeddb'` (required): the database name; the IndexedDB database is `akidb:{name}`.
   * For `'memory'`: optional; handles opened with the same name share one store in this realm.
   */
  name?: string;
  /** Prefix of every key inside the store, e.g. `'tenant-a/'`, so several databases can share one store. Default `''`. */
  prefix?: string;
  /** For `'s3'` (required): endpoint URL, e.g. `'https://<account>.r2.cloudflarestorage.com'`. */
  endpoint?: string;
  /** For `'s3'`: signing region. Default `'us-east-1'` (`'auto'` for R2). */
  region?: string;
  /** For `'s3'` (required): bucket name. For `'r2'` (required): the R2 bucket binding, `env.MY_BUCKET`. */
  bucket?: string | R2BucketBinding;
  /** For `'custom'` (required): the store object. */
  kv?: AkiDBCustomStore;
  /** For `'s3'` (required): access key id. */
  accessKeyId?: string;
  /** For `'s3'` (required): secret access key. Never logged or put in error messages. */
  secretAccessKey?: string;
  /** For `'s3'`: session token of temporary credentials. */
  sessionToken?: string;
  /** For `'s3'`: path-style URLs (`endpoint/bucket/key`). Default: only for IP addresses and localhost. */
  forcePathStyle?: boolean;
  /** For `'s3'`: abort a request after this many milliseconds (a retryable STORAGE failure). Default 30000. */
  requestTimeoutMs?: number;
  /** Retry policy of every commit. */
  retry?: RetryOptions;
  /**
   * `'memory'` only: a random delay of up to this many milliseconds before each store operation,
   * to see concurrent writers interleave as they do on a real store. Default 0.
   */
  simulatedLatencyMs?: number;
  /** Console logging threshold. Default `'warn'` (conflict retries are logged as warnings). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /**
   * Group commit (default `true`): concurrent upserts on one collection handle are coalesced into
   * one manifest commit (one segment, plus one more for the calls that queue up while a commit
   * retries after losing a race with another instance); each call resolves once the commit
   * holding its records is durable, and fails only if that commit fails. A lone writer never
   * waits. `false`: one commit per call. An object tunes the bounds of one group.
   */
  groupCommit?: boolean | GroupCommitOptions;
  /**
   * Automatic compaction (default `true`): after a successful upsert or delete that leaves the
   * collection needing compaction (at least 8 segments or 1,000 tombstones, and a merge the
   * size-tiered policy wants), the collection handle compacts it in the background — when the
   * runtime is idle (`requestIdleCallback` in browsers, else `setTimeout(…, 0)`), never more than
   * one at a time per handle — followed by one GC pass at most every 30 s (each pass raises the
   * GC fence, which makes writes in flight elsewhere re-upload). Errors are logged, never thrown.
   *
   * **workerd / Cloudflare Workers: pass `false`** and schedule it yourself after the response,
   * where the runtime keeps it alive:
   * `if (c.needsCompaction()) ctx.waitUntil(c.compact({ auto: true, gc: true }))`
   * (a timer set during a request does not outlive it). The REST worker does exactly that.
   */
  autoCompact?: boolean;
  /**
   * Bytes of index partitions kept from cold ANN queries. When no snapshot of a collection is in
   * memory, `search(q, { mode: 'ann' })` reads only the index header and the partitions it probes
   * (S3 and R2 by byte range, IndexedDB by chunk); they are cached here, least recently used out.
   * Default 32 MiB (sized for a 128 MB Workers isolate); a tab that searches a large index often
   * can raise it so repeated queries stop reading the store. Whole number ≥ 1.
   */
  partitionCacheBytes?: number;
  /**
   * Largest collection (bytes of its segment objects) a handle keeps in memory from its first
   * search on. Within it, the first search loads the snapshot (as `collection.load()` does) and
   * every later search, `searchIdsSync` included, runs on memory. Over it, an ANN search on a
   * handle not `load()`ed reads only the index header and the partitions it probes, cached
   * within `partitionCacheBytes`. Default 1 GiB (`store: 'memory' | 'indexeddb' | 'custom' | 'fs'`)
   * and 0 for `'s3'` and `'r2'` (a Workers isolate has 128 MB); whole number ≥ 0.
   */
  snapshotBudgetBytes?: number;
  /**
   * `'indexeddb'` only: the durability its transactions ask for. `'strict'` (default): manifest
   * commits use `durability: 'strict'` (acknowledged once flushed to disk: a commit that
   * resolved survives a power loss), segment writes and deletes `'relaxed'` (the strict commit
   * that publishes them is ordered after them; docs/BROWSER.md). `'relaxed'`: every transaction
   * relaxed (faster; an acknowledged commit may be lost on power loss, never torn). `'default'`:
   * no hint (the browser's default: relaxed in Chromium and Firefox).
   */
  durability?: 'strict' | 'relaxed' | 'default';
  /**
   * Ask for persistent storage while opening (`navigator.storage.persist()`, as
   * {@link AkiDB.persist} does), without waiting for the answer (Firefox asks the user); a
   * refusal is not an error. Default false.
   */
  persist?: boolean;
}

/**
 * The part of a Cloudflare R2 bucket binding (`R2Bucket` of `@cloudflare/workers-types`) that
 * `store: 'r2'` calls. Manifest commits are `put(key, bytes, { onlyIf: { etagMatches } })`
 * (`null` = lost the race), new segments `put(key, bytes, { onlyIf: { etagDoesNotMatch: '*' } })`
 * (create-only), refreshes `get(key, { onlyIf: { etagDoesNotMatch } })` (no body = unchanged),
 * listings `list({ prefix, cursor, limit })` page by page.
 */
export interface R2BucketBinding {
  get(key: string, options?: { onlyIf?: { etagDoesNotMatch?: string } }): Promise<{ etag: string; arrayBuffer?(): Promise<ArrayBuffer> } | null>;
  put(key: string, value: Uint8Array, options?: { onlyIf?: { etagMatches?: string; etagDoesNotMatch?: string } }): Promise<{ etag: string } | null>;
  delete(key: string): Promise<unknown>;
  list(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>;
}

/** A value read from an {@link AkiDBCustomStore}. */
export interface StoredValue {
  /** The stored bytes, exactly as put. */
  value: Uint8Array;
  /** The version token of these bytes (non-empty; compared only for equality). */
  version: string;
}

/** The condition of an {@link AkiDBCustomStore.put}: at most one field is set. */
export interface PutConditions {
  /** Write only if the key exists and its current version is exactly this one. */
  ifMatch?: string;
  /** Write only if the key does not exist (create-only). */
  ifAbsent?: true;
}

/**
 * Your own store for `AkiDB.open({ store: 'custom', kv })` (a Durable Object's storage, Deno KV,
 * a database table, a service). Methods may be sync or async. AkiDB's commit protocol is safe on
 * it exactly when it provides:
 *
 * - **Atomic conditional puts (linearizable per key).** Checking `ifMatch` / `ifAbsent` and
 *   writing must be one indivisible step: of any number of concurrent puts conditioned on the
 *   same version (or all `ifAbsent` on a missing key), exactly one succeeds and the others
 *   resolve `null`. "Read, compare, then write" with an `await` in between is NOT enough (two
 *   writers both pass the check and one commit is lost); use a transaction, a single-threaded
 *   owner (a Durable Object), or the backend's own conditional write.
 * - **Versions that identify the bytes.** Every successful put returns a new version for the key,
 *   different from the previous one; a version from before a `delete` must not match a re-created
 *   key holding different bytes (no ABA). Counters and content hashes (ETags) both qualify.
 * - **Read-your-writes.** A `get` or `list` that starts after a put or delete resolved sees it.
 * - **`list(prefix)`** returns every key starting with `prefix` (any order), nothing else.
 *
 * A put whose condition fails must resolve `null` and write nothing. Any method may throw: a
 * throwing `get`/`list`/`delete` is retried a few times, then fails with STORAGE; a throwing
 * `put` counts as "may have been applied" and is settled by re-reading (exactly-once), so a put
 * that applied and then threw is safe. {@link runConformance} checks all of this, atomicity
 * included (racing writers), against your store.
 */
export interface AkiDBCustomStore {
  get(key: string): Promise<StoredValue | null | undefined> | StoredValue | null | undefined;
  put(key: string, value: Uint8Array, options: PutConditions): Promise<{ version: string } | null> | { version: string } | null;
  delete(key: string): Promise<unknown> | unknown;
  list(prefix: string): Promise<string[]> | string[];
}

/** Options of {@link runConformance}: the store (as for {@link AkiDB.open}) and the suite's knobs. */
export interface ConformanceOptions extends OpenOptions {
  /** Keys written by the listing check. Default 50; more than 1000 crosses an R2/S3 list page. */
  manyKeys?: number;
  /** Writers racing in the atomicity check (create-only race, CAS race, CAS counter). Default 8; 0 skips it. */
  concurrency?: number;
  /**
   * How versions may repeat: `'contentHash'` (default; what AkiDB needs: a key re-created with
   * identical bytes may get its old version back, as ETags do) or `'unique'` (never).
   */
  tokens?: 'contentHash' | 'unique';
}

/** Result of {@link runConformance}. */
export interface ConformanceReport {
  /** True when every check passed. */
  ok: boolean;
  /** What broke, starting with the check's name (absent when `ok`). */
  failure?: string;
  /** The checks of the suite, in order. */
  checks: string[];
  /** Run time in milliseconds. */
  ms: number;
}

/**
 * Runs AkiDB's KV conformance suite (the one every built-in backend passes) against a store:
 * `await runConformance({ store: 'custom', kv: myStore })` or
 * `await runConformance({ store: 'r2', bucket: env.MY_BUCKET })`. Works under
 * `{prefix}akidb-conformance-{random}/` and deletes what it wrote.
 * @throws {AkiDBError} INVALID_ARGUMENT for bad options (a failed check resolves `ok: false`).
 */
export declare function runConformance(options: ConformanceOptions): Promise<ConformanceReport>;

/** Bounds of one coalesced commit ({@link OpenOptions.groupCommit}). */
export interface GroupCommitOptions {
  /** Most records in one group (one larger upsert still commits alone, whole). Default 20000. */
  maxRecords?: number;
  /** Most approximate bytes in one group. Default 33554432 (32 MiB). */
  maxBytes?: number;
  /**
   * Polling mode for Workers runtimes: waiting callers check their own outcome every this many
   * milliseconds instead of being woken by the committing call. Default: off (woken).
   */
  pollIntervalMs?: number;
  /**
   * Leadership is a lease: a committing call that shows no progress for this many milliseconds
   * (stalled, or a cancelled request) is replaced by a waiting one. Must be > 0 and at most
   * 2147483647; longer than one commit can legitimately take. Default 60000.
   */
  leaderLeaseMs?: number;
}

/** Options of {@link AkiDB.createCollection}. */
export interface CreateCollectionOptions {
  /** Vector length, 1..=4096. */
  dimension: number;
  /** Similarity measure. Default `'cosine'`. */
  distance?: Distance;
}

/** Third argument of {@link AkiDB.createCollection}. */
export interface CreateOptions {
  /**
   * Get-or-create: when a collection of that name exists with the same `dimension` and
   * `distance`, resolve with it instead of rejecting with ALREADY_EXISTS. Safe for concurrent
   * callers (two tabs, React StrictMode's double effect): all of them resolve with the same
   * collection. A different spec still rejects with ALREADY_EXISTS naming the difference.
   * Default false.
   */
  ifNotExists?: boolean;
}

/** Summary of a collection. */
export interface CollectionInfo {
  /** Collection name. */
  name: string;
  /** Vector length. */
  dimension: number;
  /** Similarity measure. */
  distance: Distance;
  /** Records stored across listed segments (superseded and deleted records count until compaction). */
  totalVectors: number;
  /** Current manifest version (1 when created; +1 per commit). */
  version: number;
}

/** JSON-compatible metadata stored with a record. */
export type Metadata = { [key: string]: unknown };

/** A record to upsert. */
export interface VectorRecord {
  /** Unique id within the collection (1..=1024 bytes); writing an existing id replaces that record. */
  id: string;
  /** The vector; its length must equal the collection's dimension and every value must be finite. */
  vector: Float32Array | number[];
  /** Optional JSON object, usable in filters and returned with `includeMetadata`. */
  metadata?: Metadata | null;
}

/** Options of {@link Collection.upsert}. */
export interface UpsertOptions {
  /**
   * Records per segment object. A larger batch is split into several segment objects, all
   * listed by ONE manifest commit, so the whole upsert stays atomic. Default 10,000.
   */
  segmentSize?: number;
  /**
   * Called after each segment object is written, with the number of records written so far and
   * the total. Records become visible only when the upsert's promise resolves (after the commit).
   * Exceptions thrown by the callback are logged and ignored.
   */
  onProgress?: (done: number, total: number) => void;
}

/** What an upsert committed. */
export interface UpsertReceipt {
  /** The first (for batches within `segmentSize`, the only) segment written. */
  segmentId: string;
  /** Every segment written, in record order. */
  segmentIds: string[];
  /** The manifest version the upsert's commit created (callers of one group commit share it). */
  version: number;
  /** How many times the manifest commit was retried because of concurrent writers. */
  retries: number;
}

/** What a delete or seal committed. */
export interface CommitReceipt {
  /** The sealed segment (seal only). */
  segmentId?: string;
  /** The manifest version the change's commit created (the current one for a seal that changed nothing). */
  version: number;
  /** Commit retries spent. */
  retries: number;
}

/** A scalar a `match` condition compares with (numbers compare as f64). */
export type Scalar = string | number | boolean;

/** `{ key, match }`: the metadata value at `key` equals a scalar, or any of a list. */
export interface MatchCondition {
  /** Dotted path into the metadata (`'a.b'`); arrays on the way are looked through. */
  key: string;
  /** A scalar, `{ value: scalar }`, or `{ any: [scalar, ...] }`. */
  match: Scalar | { value: Scalar } | { any: Scalar[] };
}

/** `{ key, range }`: the numeric metadata value at `key` lies within the bounds (at least one bound). */
export interface RangeCondition {
  /** Dotted path into the metadata. */
  key: string;
  /** Bounds: greater than, greater or equal, less than, less or equal. */
  range: { gt?: number; gte?: number; lt?: number; lte?: number };
}

/** `{ key, exists }`: a non-null value is (or is not) present at `key`. */
export interface ExistsCondition {
  /** Dotted path into the metadata. */
  key: string;
  /** `true`: must exist; `false`: must not. */
  exists: boolean;
}

/** One condition of a filter clause (a nested filter is a condition too). */
export type Condition = MatchCondition | RangeCondition | ExistsCondition | Filter;

/**
 * Qdrant-style metadata filter: every `must` condition holds, at least one `should` condition
 * holds (when there are any), and no `must_not` condition holds. `{}` matches everything.
 */
export interface Filter {
  /** All of these must hold. */
  must?: Condition[];
  /** At least one of these must hold (when non-empty). */
  should?: Condition[];
  /** None of these may hold. */
  must_not?: Condition[];
}

/** Options of {@link Collection.search}. */
export interface SearchOptions {
  /** Number of results, 1..=10,000. Default 10. */
  k?: number;
  /** Metadata pre-filter: only matching records are scored. */
  filter?: Filter;
  /** Return each hit's metadata. Default false. */
  includeMetadata?: boolean;
  /**
   * `'exact'` (default): exact f32 scores for every live record (SIMD128). From the second search
   * of a snapshot on, it screens with int8 codes (built once per segment: dimension + 16 bytes per
   * record) and re-scores exactly — same hits, same scores, faster.
   * `'flat'`: exact by a plain f32 scan that never builds int8 codes (least memory).
   * `'ann'`: approximate nearest neighbours. Compaction gives a collection one partition index
   * (centroids trained at its first merge of ≥ 8,192 records, shared by every later compacted
   * segment and calibrated on a held-out sample of its rows); the partitions nearest the query
   * are scanned across all indexed segments at once, enough of them for `recall` (default
   * 0.99); fresh, uncompacted segments in full. Newest-wins, deletes and filters hold exactly (a filter matching at
   * most half the records makes the search exact over them); hit scores are exact.
   * `'int8'`: int8-quantised scan, then exact re-ranking of the best `k × oversample` candidates —
   * faster on large collections, and the returned scores are exact.
   */
  mode?: 'exact' | 'flat' | 'ann' | 'int8';
  /**
   * `mode: 'ann'`: the recall@10 to aim for, in (0, 1]. Default 0.99. The index's calibration
   * (measured when compaction trained it: probes per recall 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
   * picks the fewest partitions that reached the first calibrated target at or above it; above
   * 0.995 every partition is probed. An error with any other mode. `probes` overrides it.
   */
  recall?: number;
  /**
   * `mode: 'ann'`: partitions probed, at most; ≥ 1. Overrides `recall`. Default: what the
   * calibration measured for `recall` (indexes written before calibration existed: an eighth of
   * the partitions, at least 8). More probes, higher recall, slower.
   */
  probes?: number;
  /**
   * `mode: 'ann'`: skip probed partitions that cannot plausibly hold a hit. Default true: the
   * probed partitions are scanned nearest centroid first, and the scan stops at the first whose
   * centroid trails the k-th best hit so far by more than a margin the segment measures itself
   * (2.9 σ of how far rows stray from their centroid along query directions). On 384-d sentence
   * embeddings that scans ~40 % fewer rows at the same recall. `false` scans every probed
   * partition (the rows a cold range read fetches: cold queries always scan them all).
   */
  prune?: boolean;
  /** Candidate multiplier for `mode: 'int8'` re-ranking, ≥ 1. Default 10. */
  oversample?: number;
}

/** What {@link Collection.searchIds} and {@link Collection.searchIdsSync} return: parallel arrays, best first. */
export interface SearchIdsResult {
  /** Record ids. */
  ids: string[];
  /** Their scores (as {@link SearchHit.score}), in f32. */
  scores: Float32Array;
}

/** Options of {@link Collection.subscribe}. */
export interface SubscribeOptions {
  /**
   * Also re-read the manifest every this many milliseconds (0: never). Default: 0 where
   * `BroadcastChannel` exists (browsers, Node), 1000 where it does not (workerd).
   */
  pollIntervalMs?: number;
  /** Called with the error when a re-read fails (e.g. NOT_FOUND: the collection was dropped). Default: logged. */
  onError?: (error: AkiDBError) => void;
}

/** `{ usage, quota, persisted }` of the origin's storage ({@link AkiDB.storageEstimate}). */
export interface StorageEstimate {
  /** Bytes the origin uses (all its storage, not only AkiDB's), or null if the browser does not say. */
  usage: number | null;
  /** Bytes it may use, or null if the browser does not say. */
  quota: number | null;
  /** Whether the storage is persistent (not evicted under pressure): `navigator.storage.persisted()`. */
  persisted: boolean;
}

/** One search result. */
export interface SearchHit {
  /** Record id. */
  id: string;
  /** Cosine similarity, dot product, or negative squared L2 distance: higher is better. */
  score: number;
  /** Present (object or `null`) only with `includeMetadata: true`. */
  metadata?: Metadata | null;
}

/** A record read back by {@link Collection.get} or {@link Collection.scan}. */
export interface StoredRecord {
  /** Record id. */
  id: string;
  /**
   * The vector, bit-exact as written; under cosine distance, a vector that is not of unit
   * length (squared norm off 1 by more than 1e-5) is stored normalised and comes back so (and
   * writing that back stores the same bits). Absent with `includeVectors: false`.
   */
  vector?: Float32Array;
  /** The metadata object, or `null` when the record has none. Absent with `includeMetadata: false`. */
  metadata?: Metadata | null;
}

/** Options of {@link Collection.get}. */
export interface GetOptions {
  /** Return each record's `vector`. Default true. */
  includeVectors?: boolean;
  /** Return each record's `metadata`. Default true. */
  includeMetadata?: boolean;
}

/** Options of {@link Collection.scan}. */
export interface ScanOptions {
  /** Records per batch, 1..=100,000 (default 1,000); a batch never spans two segment objects. */
  batchSize?: number;
  /** Return each record's `vector`. Default true. */
  includeVectors?: boolean;
  /** Return each record's `metadata`. Default true. */
  includeMetadata?: boolean;
  /** Only records whose metadata matches (the same filters as {@link SearchOptions.filter}). */
  filter?: Filter;
}

/**
 * A running {@link Collection.scan}: an async iterator of record batches over one snapshot.
 * `break` inside `for await` calls `return()`, which frees the segment it holds.
 */
export interface RecordScan extends AsyncIterableIterator<StoredRecord[]> {
  /** The version of the snapshot being scanned. */
  readonly version: number;
}

/** A segment listed in a manifest. */
export interface SegmentDescriptor {
  /**
   * UUID; the object key is `collections/{name}/{incarnation}/segments/{gen}-{id}.seg`
   * (`collections/{name}/segments/{id}.seg` for objects written before incarnations and
   * generations).
   */
  id: string;
  /** `'Active'`, or `'Sealed'` once closed for good. */
  state: 'Active' | 'Sealed';
  /** Records in the segment object. */
  record_count: number;
  /** Vector length. */
  dimension: number;
  /** Encoded size in bytes. */
  size_bytes: number;
  /** CRC-32 of the object, 8 hex digits. */
  checksum: string;
  /** Commit order: a higher `seq` replaces records with the same id in a lower one. */
  seq: number;
  /** The GC generation the object was written at (part of its key; 0 before generations). */
  gen: number;
}

/** The committed manifest of a collection (see docs/PROTOCOL.md). */
export interface Manifest {
  /** Format of the JSON: 2 from this build on (1 for manifests written before the field existed). */
  format: number;
  /** Collection name. */
  collection: string;
  /**
   * Which life of the name this is: a drop + re-create starts the next incarnation, whose objects
   * live under their own key prefix (0 for collections created before incarnations).
   */
  incarnation: number;
  /** Only on the tombstone a drop leaves behind (never returned by the API: a dropped collection is NOT_FOUND). */
  dropped_at_ms?: number;
  /** Vector length. */
  dimension: number;
  /** Similarity measure. */
  distance: Distance;
  /** GC fence: a commit may list a segment of generation `g` only while `g + 1 >= gc_gen`. */
  gc_gen: number;
  /** Segments in commit order. */
  segments: SegmentDescriptor[];
  /** Records across listed segments. */
  total_vectors: number;
  /** Monotonic version, +1 per commit. */
  version: number;
  /** Id of the commit that produced this version (null for a fresh collection). */
  commit_id: string | null;
  /** Next commit sequence number. */
  next_seq: number;
  /** Delete markers: `{ id, seq }`. */
  tombstones: { id: string; seq: number }[];
  /**
   * Segments replaced by compaction that are still in the store for readers of older snapshots,
   * as `"{retiredAtGen}:{gen}:{id}"` (id as 32 hex digits); GC deletes each once the fence passes
   * `retiredAtGen + 2` (two GC passes). Absent when empty.
   */
  retired?: string[];
  /**
   * The operations that produced the most recent versions (at most 256): `ops[i]` (32 hex
   * digits) produced version `from + i`; the last one the current version.
   */
  history: { from: number; ops: string[] };
  /** Creation time, ms since the Unix epoch. */
  created_at_ms: number;
  /** Time of the last commit, ms since the Unix epoch. */
  updated_at_ms: number;
}

/** Commit metrics of one {@link AkiDB} instance. */
export interface Metrics {
  /** Conditional manifest writes that lost to a concurrent writer and were retried. */
  manifestConflictRetriesTotal: number;
  /** Operations that failed with CONFLICT. */
  manifestConflictFailuresTotal: number;
  /** Manifest commits that succeeded. */
  manifestCommitsTotal: number;
  /** Duration of successful commits in seconds (cumulative buckets; `+Inf` equals `count`). */
  manifestPersistDurationSeconds: { count: number; sum: number; buckets: { le: number; count: number }[] };
}

/** A database handle. */
export declare class AkiDB {
  private constructor();
  /**
   * Opens a database.
   * @example
   * const db = await AkiDB.open({ store: 'indexeddb', name: 'my-app' });
   * @throws {AkiDBError} INVALID_ARGUMENT for bad options; STORAGE when the store cannot be opened
   * (IndexedDB unavailable, blocked by an old connection, newer schema).
   */
  static open(options?: OpenOptions): Promise<AkiDB>;
  /**
   * Loads and instantiates the engine now (the first `open` otherwise does). Importing the
   * package does no I/O, so a failed load is this promise's rejection, with code `WASM_LOAD`
   * naming the source tried; call again (with another source) to retry. Once loaded, later calls
   * resolve at once and ignore `wasm`. In Node and workerd the engine loads at import.
   */
  static ready(options?: { wasm?: WasmSource }): Promise<void>;
  /**
   * Creates an empty collection (version 1), or with `{ ifNotExists: true }` returns the
   * existing one of the same spec.
   * @example
   * await db.createCollection('docs', { dimension: 384 }, { ifNotExists: true });
   * @throws {AkiDBError} ALREADY_EXISTS, INVALID_ARGUMENT (name: 1..=128 bytes without `/`, `\`, `..`
   * or control characters; dimension 1..=4096; distance).
   */
  createCollection(name: string, options: CreateCollectionOptions, createOptions?: CreateOptions): Promise<CollectionInfo>;
  /** Every collection, ordered by name. */
  listCollections(): Promise<CollectionInfo[]>;
  /**
   * Drops a collection: its manifest becomes a tombstone (the collection disappears atomically),
   * then its segment objects are deleted. Re-creating the name starts a new incarnation whose
   * objects live under their own keys, so late writers of the dropped one can never touch it.
   * @throws {AkiDBError} NOT_FOUND
   */
  dropCollection(name: string): Promise<void>;
  /**
   * One garbage-collection pass: raises the collection's GC generation with one commit, then
   * deletes the unlisted segment objects (left by failed or crashed writes) that no commit can
   * list any more, and every object of a dropped incarnation. Safe to run at any time, from any
   * instance, alongside writers: it never compares clocks. An orphan is deleted by the second
   * pass after it was written.
   * @throws {AkiDBError} NOT_FOUND, INVALID_ARGUMENT (name), UNSUPPORTED_FORMAT.
   */
  collectGarbage(name: string): Promise<GcReport>;
  /**
   * Checks collection `name`'s stored objects against its current manifest, read-only: every
   * listed segment object exists, has its descriptor's size and checksum, decodes (every CRC)
   * with its record count, and its partition index lists every row exactly once; orphaned and
   * retired objects are counted. Problems are reported (each naming its object key), not thrown.
   * @example
   * const r = await db.verify('docs');
   * if (!r.ok) for (const p of r.problems) console.log(p.key, p.kind, p.message);
   * @throws {AkiDBError} NOT_FOUND, INVALID_ARGUMENT (name, options), STORAGE, AUTH.
   */
  verify(name: string, options?: VerifyOptions): Promise<VerifyReport>;
  /**
   * Settles an `OUTCOME_UNKNOWN` error of collection `name` without a collection handle — also
   * for a `createCollection` whose outcome is unknown, or when the collection cannot be opened
   * (dropped, never created). Same answers as {@link Collection.operationStatus}.
   * @throws {AkiDBError} INVALID_ARGUMENT (name, not an operation id), NOT_FOUND (no such
   * collection and the operation is not a create).
   */
  operationStatus(name: string, operationId: string): Promise<OperationStatus>;
  /**
   * A handle on an existing collection, reading its current manifest.
   * @throws {AkiDBError} NOT_FOUND
   */
  collection(name: string): Promise<Collection>;
  /** Commit metrics of this instance. */
  metrics(): Metrics;
  /** The same metrics in Prometheus text exposition format. */
  metricsText(): string;
  /**
   * Asks the browser to make the origin's storage persistent (`navigator.storage.persist()`):
   * not evicted under storage pressure. Resolves true when it is; false when refused, and in
   * Node and workerd. Chromium decides at once by heuristics (engagement, installed app);
   * Firefox asks the user and settles when they answer: call it from a user gesture and do not
   * block other work on it.
   */
  persist(): Promise<boolean>;
  /** Usage and quota of the origin's storage, for an app to show; `null` in Node and workerd. */
  storageEstimate(): Promise<StorageEstimate | null>;
  /**
   * Closes the store connection (IndexedDB): later calls on this handle and its collections fail
   * with STORAGE. Memory stores keep working. Idempotent.
   */
  close(): Promise<void>;
  /** Frees the wasm-side object now instead of at garbage collection. */
  free(): void;
}

/** A handle on one collection. Reads run on one manifest version (a snapshot) until {@link refresh}. */
export declare class Collection {
  private constructor();
  /** The collection name. */
  readonly name: string;
  /**
   * Inserts or replaces records, atomically: however many segment objects the batch needs, ONE
   * manifest commit lists them all, so other readers see all of the records or none. Concurrent
   * writers (other tabs, workers) are serialised by compare-and-swap with retries.
   * @throws {AkiDBError} INVALID_ARGUMENT (empty batch, duplicate ids, wrong dimension, NaN/Infinity,
   * metadata not an object: nothing is written), CONFLICT (retries exhausted), STORAGE (e.g. quota),
   * UNSUPPORTED_FORMAT; OUTCOME_UNKNOWN with `operationId` when it may have committed (ask
   * {@link operationStatus} before retrying). Every other error means nothing was committed.
   */
  upsert(records: VectorRecord[], options?: UpsertOptions): Promise<UpsertReceipt>;
  /**
   * Deletes records by id in one commit (ids that do not exist are fine).
   * @throws {AkiDBError} INVALID_ARGUMENT for an empty list or bad ids; OUTCOME_UNKNOWN with
   * `operationId` when it may have committed (see {@link operationStatus}).
   */
  delete(ids: string[]): Promise<CommitReceipt>;
  /**
   * Nearest neighbours of `query` on the current snapshot, best first.
   * @throws {AkiDBError} INVALID_ARGUMENT (dimension, k, filter shape, mode).
   */
  search(query: Float32Array | number[], options?: SearchOptions | number): Promise<SearchHit[]>;
  /**
   * The lean search: the same hits and scores as {@link search}, as `{ ids, scores }` (one array
   * of strings, one Float32Array; no metadata). `options` as for `search`, or just `k`.
   * @example
   * const { ids, scores } = await docs.searchIds(query, 10);
   * @throws {AkiDBError} INVALID_ARGUMENT, as `search`.
   */
  searchIds(query: Float32Array | number[], options?: SearchOptions | number): Promise<SearchIdsResult>;
  /**
   * {@link searchIds} synchronously on the snapshot in memory: no promise, no I/O — the fastest
   * call (for tight loops, e.g. scoring many queries at once). The snapshot is in memory after
   * {@link load} (or any search or count) until it moves (a write, {@link refresh}, a
   * subscription taking another tab's commit); then load again.
   * @example
   * await docs.load();
   * const { ids } = docs.searchIdsSync(query, 10);
   * @throws {AkiDBError} NOT_LOADED when the current snapshot is not in memory; INVALID_ARGUMENT.
   */
  searchIdsSync(query: Float32Array | number[], options?: SearchOptions | number): SearchIdsResult;
  /**
   * The records with `ids` on this handle's snapshot, in the order asked: a record, or `null`
   * for an id never written or deleted (newest write wins, as in search). At most 10,000 ids
   * per call. Without the snapshot in memory, segments are read newest first until every id is
   * decided.
   * @example
   * const [a, b] = await docs.get(['a', 'b']);   // a?.vector is bit-exact as written
   * @throws {AkiDBError} INVALID_ARGUMENT (not an array of ids, bad id, more than 10,000, unknown option).
   */
  get(ids: string[], options?: GetOptions): Promise<(StoredRecord | null)[]>;
  /**
   * Every live record of this handle's current snapshot, in batches: newest write wins, deletes
   * hidden, commits made while it runs not seen (call {@link refresh} first to include other
   * writers' latest commits). One segment object is in memory at a time, plus the ids already
   * passed when the snapshot is not in memory. A scan that outlives GC's retention of a segment
   * compaction retired fails with CORRUPT naming the object: start it again.
   * @example
   * for await (const batch of docs.scan({ batchSize: 500 })) for (const r of batch) out.write(JSON.stringify(r));
   * @throws {AkiDBError} INVALID_ARGUMENT (options, filter) at the call; STORAGE/CORRUPT from `next()`.
   */
  scan(options?: ScanOptions): RecordScan;
  /** Loads the current snapshot into memory (segments read once, cached by id) → its version. */
  load(): Promise<number>;
  /** The version of the snapshot this handle reads (no I/O). */
  readonly version: number;
  /**
   * Live updates: calls `listener(version)` after commits by any handle, tab or worker of the
   * origin on the same store — this handle's own included — once this handle's snapshot has
   * moved to that version (so a search inside the listener sees it). Announced through a
   * `BroadcastChannel` after each commit, confirmed by a cheap conditional re-read of the
   * manifest (the source of truth); where `BroadcastChannel` is missing (workerd) the handle
   * polls. Never called twice for one version nor with an older one; a burst of commits may
   * arrive as one call with the latest. A subscription keeps a Node process alive until
   * unsubscribed.
   * @example
   * const unsubscribe = docs.subscribe((version) => render(version));
   * @returns `unsubscribe()` (idempotent).
   * @throws {AkiDBError} INVALID_ARGUMENT (listener not a function, bad options).
   */
  subscribe(listener: (version: number) => void, options?: SubscribeOptions): () => void;
  /**
   * Seals a segment (Active → Sealed) in one commit; sealing a sealed segment is a no-op.
   * @throws {AkiDBError} INVALID_ARGUMENT (not a UUID), NOT_FOUND; OUTCOME_UNKNOWN with
   * `operationId` when it may have committed (see {@link operationStatus}).
   */
  seal(segmentId: string): Promise<CommitReceipt>;
  /**
   * Settles an `OUTCOME_UNKNOWN` error: did the operation `operationId` (the error's
   * `operationId`) commit? `'committed'` with the version it created, `'not_committed'` (it never
   * will: retrying is safe), or `'unknown'` (ask again later).
   * @example
   * try { await docs.upsert(records); } catch (e) {
   *   if (e.code === 'OUTCOME_UNKNOWN') {
   *     const s = await docs.operationStatus(e.operationId);
   *     if (s.status === 'not_committed') await docs.upsert(records);
   *   }
   * }
   * @throws {AkiDBError} INVALID_ARGUMENT (not an operation id), NOT_FOUND (collection gone).
   */
  operationStatus(operationId: string): Promise<OperationStatus>;
  /**
   * Compacts the collection: merges segments (size-tiered, so a collection keeps O(log n)
   * segments), drops records shadowed by a newer upsert or hidden by a tombstone, retires
   * tombstones that hide nothing any more. Each merge is ONE manifest commit that concurrent
   * writes rebase onto (none is lost or blocked); newest-wins and delete semantics are exactly
   * preserved. Moves this handle to the result.
   * @example
   * const r = await docs.compact({ gc: true });   // r.segmentsBefore → r.segmentsAfter
   * @throws {AkiDBError} INVALID_ARGUMENT (options), NOT_FOUND, CONFLICT, STORAGE,
   * UNSUPPORTED_FORMAT; OUTCOME_UNKNOWN with `operationId` (a merge may have committed: its
   * records are the same either way; ask {@link AkiDB.operationStatus} to count versions).
   */
  compact(options?: CompactOptions): Promise<CompactionReceipt>;
  /**
   * Whether automatic compaction would compact this handle's snapshot now (at least 8 segments
   * or 1,000 tombstones, and a merge the policy wants). No I/O. For runtimes that schedule
   * compaction themselves (see {@link OpenOptions.autoCompact}).
   */
  needsCompaction(): boolean;
  /** The latest committed manifest (refreshes the snapshot first). */
  manifest(): Promise<Manifest>;
  /**
   * Re-reads the manifest; resolves to `true` when the snapshot moved to a newer version
   * (e.g. another tab committed).
   * @throws {AkiDBError} NOT_FOUND when the collection was dropped.
   */
  refresh(): Promise<boolean>;
  /** Live records in the current snapshot (deleted and superseded records excluded). */
  count(): Promise<number>;
  /** Frees the wasm-side object now instead of at garbage collection. */
  free(): void;
}

declare const _default: {
  AkiDB: typeof AkiDB;
  AkiDBError: typeof AkiDBError;
  Collection: typeof Collection;
  runConformance: typeof runConformance;
};
export default _default;
