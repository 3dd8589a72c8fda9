// Type-checked (never run) by tests/pkg/types.test.mjs against pkg/index.d.ts: every public
// method and option, plus misuses that must NOT compile.
import {
  AkiDB,
  runConformance,
  type AkiDBCustomStore,
  type ConformanceReport,
  type R2BucketBinding,
  type AkiDBError,
  type CompactionReceipt,
  type CompactOptions,
  type GcReport,
  type Manifest,
  type OperationStatus,
  type SearchHit,
} from '../../pkg/index.js';

export async function usage(): Promise<void> {
  const db = await AkiDB.open({
    store: 'indexeddb',
    name: 'app',
    prefix: 'tenant/',
    retry: { maxRetries: 20, initialBackoffMs: 5, maxBackoffMs: 1000, multiplier: 2, jitter: 'full', maxElapsedMs: 30_000 },
    logLevel: 'error',
  });
  await AkiDB.ready({ wasm: new URL("/assets/akidb_bg.wasm", "https://example.com") });
  const onDisk = await AkiDB.open({ store: "fs", path: "./data" });
  void onDisk;
  const mem = await AkiDB.open({ store: 'memory', name: 'shared', simulatedLatencyMs: 2 });
  const grouped = await AkiDB.open({ store: 'memory', groupCommit: { maxRecords: 5000, pollIntervalMs: 10, leaderLeaseMs: 30_000 } });
  await AkiDB.open({ groupCommit: false });
  await AkiDB.open({ store: 'memory', autoCompact: false });
  grouped.metricsText();
  const info = await db.createCollection('docs', { dimension: 3, distance: 'cosine' });
  const version: number = info.version;
  const all = await db.listCollections();
  const total: number = all[0].totalVectors;
  const docs = await db.collection('docs');
  const name: string = docs.name;
  const r = await docs.upsert([{ id: 'a', vector: new Float32Array(3), metadata: { tag: 'x' } }, { id: 'b', vector: [1, 2, 3] }], {
    segmentSize: 1000,
    onProgress: (done: number, totalRecords: number) => void [done, totalRecords],
  });
  const ids: string[] = r.segmentIds;
  const hits: SearchHit[] = await docs.search([1, 0, 0], {
    k: 5,
    includeMetadata: true,
    mode: 'int8',
    oversample: 4,
    filter: {
      must: [{ key: 'tag', match: 'x' }, { key: 'n', range: { gte: 1, lt: 9 } }],
      should: [{ key: 'tags', match: { any: ['a', 'b'] } }, { must: [{ key: 'deep.k', exists: true }] }],
      must_not: [{ key: 'gone', exists: true }],
    },
  });
  const score: number = hits[0].score;
  await docs.seal(r.segmentId);
  const m: Manifest = await docs.manifest();
  const state: 'Active' | 'Sealed' = m.segments[0].state;
  const format: number = m.format;
  const incarnation: number = m.incarnation;
  const gen: number = m.segments[0].gen + m.gc_gen;
  const ops: string[] = m.history.ops;
  const from: number = m.history.from;
  const dropped: number | undefined = m.dropped_at_ms;
  const moved: boolean = await docs.refresh();
  const n: number = await docs.count();
  await docs.delete(['a']);
  const retries: number = db.metrics().manifestConflictRetriesTotal;
  const text: string = db.metricsText();
  await db.dropCollection('docs');
  await db.close();
  await mem.close();
  try {
    await db.collection('nope');
  } catch (e) {
    const code: AkiDBError['code'] = (e as AkiDBError).code;
    void code;
  }
  try {
    await docs.upsert([{ id: 'c', vector: [0, 0, 1] }]);
  } catch (e) {
    const err = e as AkiDBError;
    if (err.code === 'OUTCOME_UNKNOWN' && err.operationId !== undefined) {
      const s: OperationStatus = await docs.operationStatus(err.operationId);
      if (s.status === 'committed') {
        const created: number = s.version;
        void created;
      } else if (s.status === 'not_committed') {
        await docs.upsert([{ id: 'c', vector: [0, 0, 1] }]);
      }
    }
    const other: AkiDBError['code'] = 'UNSUPPORTED_FORMAT';
    void other;
  }
  const opts: CompactOptions = { full: true, auto: false, maxInputBytes: 1 << 20, maxRounds: 4, gc: true };
  const compacted: CompactionReceipt = await docs.compact(opts);
  const sizes: number[] = [compacted.version, compacted.segmentsBefore, compacted.segmentsAfter, compacted.recordsDropped];
  const work: number =
    compacted.tombstonesRetired + compacted.bytesRead + compacted.bytesWritten + compacted.merges + compacted.commits + compacted.superseded;
  const gcAfter: GcReport | undefined = compacted.gc;
  const gcFailed: string | undefined = compacted.gcError?.code;
  await docs.compact();
  await docs.compact({ auto: true });
  const needs: boolean = docs.needsCompaction();
  const retired: string[] | undefined = m.retired;
  const settledByName: OperationStatus = await db.operationStatus('docs', 'token');
  void [sizes, work, gcAfter, gcFailed, needs, retired, settledByName];
  const gc: GcReport = await db.collectGarbage('docs');
  const deletedKeys: string[] = gc.deleted;
  const kept: number = gc.generation + gc.keptRecent + gc.keptUnknown;
  void [version, total, name, ids, score, state, moved, n, retries, text, format, incarnation, gen, ops, from, dropped];
  void [deletedKeys, kept];

  // @ts-expect-error: not a distance
  await db.createCollection('x', { dimension: 3, distance: 'manhattan' });
  // @ts-expect-error: dimension is required
  await db.createCollection('x', {});
  // @ts-expect-error: not a store
  await AkiDB.open({ store: 'floppy' });
  // @ts-expect-error: not a search mode
  await docs.search([1], { mode: 'hnsw' });
  // @ts-expect-error: the manifest has no recent_commits any more (history replaced it)
  void m.recent_commits;
  // @ts-expect-error: only a committed operation has a version
  void (await docs.operationStatus('x')).version;
  // @ts-expect-error: not an operation status
  const bogus: OperationStatus = { status: 'maybe' };
  void bogus;
  // @ts-expect-error: not an error code
  const badCode: AkiDBError['code'] = 'TIMEOUT';
  void badCode;
  // @ts-expect-error: the operation id is a string
  await docs.operationStatus(42);
  // @ts-expect-error: maxRounds is a number
  await docs.compact({ maxRounds: '2' });
  // @ts-expect-error: not a compact option
  await docs.compact({ fast: true });
  // @ts-expect-error: autoCompact is a boolean
  await AkiDB.open({ autoCompact: 'yes' });
  // @ts-expect-error: the database-level operationStatus needs the collection name
  await db.operationStatus('token-only');
  // @ts-expect-error: needsCompaction answers at once (no promise)
  const later: Promise<boolean> = docs.needsCompaction();
  void later;

  // Bring-your-own store and the R2 binding (store: 'custom' | 'r2'), and the conformance suite.
  const data = new Map<string, { value: Uint8Array; version: string }>();
  let counter = 0;
  const kv: AkiDBCustomStore = {
    get: async (key) => data.get(key) ?? null,
    put: async (key, value, { ifMatch, ifAbsent }) => {
      const cur = data.get(key);
      if ((ifAbsent && cur) || (ifMatch !== undefined && cur?.version !== ifMatch)) return null;
      const version = `v${++counter}`;
      data.set(key, { value, version });
      return { version };
    },
    delete: (key) => data.delete(key),
    list: (prefix) => [...data.keys()].filter((k) => k.startsWith(prefix)),
  };
  await AkiDB.open({ store: 'custom', kv, prefix: 't/' });
  const report: ConformanceReport = await runConformance({ store: 'custom', kv, manyKeys: 10, concurrency: 4, tokens: 'unique' });
  const failure: string | undefined = report.failure;
  void failure;
  const bucket = null as unknown as R2BucketBinding;
  await AkiDB.open({ store: 'r2', bucket, prefix: 'prod/' });
  await runConformance({ store: 'r2', bucket });
  // @ts-expect-error: a custom store needs list
  const partial: AkiDBCustomStore = { get: async () => null, put: async () => null, delete: async () => {} };
  void partial;
  // @ts-expect-error: tokens is 'contentHash' or 'unique'
  await runConformance({ store: 'custom', kv, tokens: 'weak' });
}

// Live updates, the lean search path, storage manager, durability and the worker entry.
import { AkiDBWorker, type WorkerCollection, type WorkerDatabase } from '../../pkg/worker.js';

export async function usageLive(): Promise<void> {
  const db = await AkiDB.open({ store: 'indexeddb', name: 'app', durability: 'strict', persist: true });
  await AkiDB.open({ store: 'indexeddb', name: 'fast', durability: 'relaxed' });
  const docs = await db.collection('docs');
  const unsubscribe: () => void = docs.subscribe((version: number) => void version, {
    pollIntervalMs: 500,
    onError: (e: AkiDBError) => void e.code,
  });
  unsubscribe();
  const v: number = docs.version;
  const loaded: number = await docs.load();
  const lean: import('../../pkg/index.js').SearchIdsResult = await docs.searchIds(new Float32Array(4), 10);
  const ids: string[] = lean.ids;
  const scores: Float32Array = docs.searchIdsSync([1, 0, 0, 0], { k: 5, filter: { must: [{ key: 'a', match: 1 }] } }).scores;
  const persisted: boolean = await db.persist();
  const est = await db.storageEstimate();
  const quota: number | null | undefined = est?.quota;
  void [v, loaded, ids, scores, persisted, quota];
  // @ts-expect-error: durability is 'strict' | 'relaxed' | 'default'
  await AkiDB.open({ store: 'indexeddb', name: 'x', durability: 'fsync' });
  // @ts-expect-error: searchIdsSync is synchronous
  await docs.searchIdsSync([1], 1).then(() => {});
  // @ts-expect-error: version is read-only
  docs.version = 3;

  const wdb: WorkerDatabase = await AkiDBWorker.open({ store: 'indexeddb', name: 'app' });
  const wc: WorkerCollection = await wdb.collection('docs');
  await wc.upsert([{ id: 'a', vector: new Float32Array(4) }], { chunkSize: 1000, onProgress: (done, total) => void [done, total] });
  const w: Float32Array = (await wc.searchIds([1, 0, 0, 0], 3)).scores;
  const stop: () => void = wc.subscribe((version) => void version);
  stop();
  const needs: boolean = await wc.needsCompaction();
  void [w, needs, wdb.worker];
  await wdb.close();
  // @ts-expect-error: the proxy's count is a promise
  const n: number = wc.count();
  void n;
}
