// Types of `akidb/web-worker` (alias `akidb/worker`): the database in a dedicated Web Worker behind a promise-based proxy
// (see docs/BROWSER.md, "A worker entry").
import type {
  CollectionInfo, CommitReceipt, CompactOptions, CompactionReceipt, CreateCollectionOptions, CreateOptions, GcReport, Manifest,
  GetOptions, Metrics, OpenOptions, OperationStatus, ScanOptions, SearchHit, StoredRecord, SearchIdsResult, SearchOptions, StorageEstimate,
  SubscribeOptions, UpsertOptions, UpsertReceipt, VectorRecord,
} from './index.js';

/** Options of {@link WorkerCollection.upsert}: those of `Collection.upsert`, plus `chunkSize`. */
export interface WorkerUpsertOptions extends UpsertOptions {
  /**
   * Records per message to the worker (default 2048): each chunk's vectors are packed into one
   * Float32Array whose buffer is transferred, so the main thread never blocks long. The worker
   * commits the whole upsert at once: atomic, like `Collection.upsert`.
   */
  chunkSize?: number;
}

/** A collection handle living in the worker: `Collection`'s methods, every one returning a promise. */
export declare class WorkerCollection {
  readonly name: string;
  upsert(records: VectorRecord[], options?: WorkerUpsertOptions): Promise<UpsertReceipt>;
  delete(ids: string[]): Promise<CommitReceipt>;
  search(query: Float32Array | number[], options?: SearchOptions | number): Promise<SearchHit[]>;
  /** `{ ids, scores }`: the scores' buffer is transferred from the worker (no copy). */
  searchIds(query: Float32Array | number[], options?: SearchOptions | number): Promise<SearchIdsResult>;
  load(): Promise<number>;
  seal(segmentId: string): Promise<CommitReceipt>;
  operationStatus(operationId: string): Promise<OperationStatus>;
  compact(options?: CompactOptions): Promise<CompactionReceipt>;
  needsCompaction(): Promise<boolean>;
  manifest(): Promise<Manifest>;
  refresh(): Promise<boolean>;
  count(): Promise<number>;
  get(ids: string[], options?: GetOptions): Promise<(StoredRecord | null)[]>;
  /** As `Collection.scan`; each batch is sent from the worker when asked for. */
  scan(options?: ScanOptions): AsyncIterableIterator<StoredRecord[]>;
  /** As `Collection.subscribe`; the worker's handle is refreshed before `listener` runs here. */
  subscribe(listener: (version: number) => void, options?: SubscribeOptions): () => void;
}

/** A database living in the worker: `AkiDB`'s methods, every one returning a promise. */
export declare class WorkerDatabase {
  /** The Worker running it. */
  readonly worker: Worker;
  createCollection(name: string, options: CreateCollectionOptions, createOptions?: CreateOptions): Promise<CollectionInfo>;
  listCollections(): Promise<CollectionInfo[]>;
  dropCollection(name: string): Promise<void>;
  collectGarbage(name: string): Promise<GcReport>;
  operationStatus(name: string, operationId: string): Promise<OperationStatus>;
  collection(name: string): Promise<WorkerCollection>;
  metrics(): Promise<Metrics>;
  metricsText(): Promise<string>;
  persist(): Promise<boolean>;
  storageEstimate(): Promise<StorageEstimate | null>;
  /** Closes the database; a worker that {@link AkiDBWorker.open} started is terminated. */
  close(): Promise<void>;
}

export declare const AkiDBWorker: {
  /**
   * Starts a module worker running the package's `worker-host.js` (or uses `worker`, e.g. one a
   * bundler built from `akidb/web-worker-host`, e.g. esbuild, see docs/BROWSER.md) and opens the
   * database there. `options` as for `AkiDB.open` (functions cannot cross to a worker).
   * Errors are `Error`s with the same `name`, `code` and `operationId` as on the main thread.
   */
  open(options?: OpenOptions, init?: { worker?: Worker }): Promise<WorkerDatabase>;
};

declare const _default: { AkiDBWorker: typeof AkiDBWorker; WorkerDatabase: typeof WorkerDatabase; WorkerCollection: typeof WorkerCollection };
export default _default;
