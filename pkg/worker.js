// `akidb/web-worker` (alias `akidb/worker`): the database in a dedicated browser Web Worker,
// behind a small promise-based proxy.
//
//   import { AkiDBWorker } from 'akidb/web-worker';
//   const db = await AkiDBWorker.open({ store: 'indexeddb', name: 'my-app' });
//   const docs = await db.collection('docs');
//   await docs.upsert(records, { onProgress });      // packed and transferred in chunks
//   const { ids, scores } = await docs.searchIds(query, 10);
//
// Every call is a message to the worker (worker-host.js), which runs the same engine as the
// main-thread entry. Upserts travel in chunks of `chunkSize` records, the vectors of a chunk
// packed into one Float32Array whose buffer is transferred (the caller's arrays are copied,
// never detached); the worker commits the whole upsert at once (atomic, like the main-thread
// upsert). `searchIds` answers with a transferred Float32Array of scores. Errors are `Error`s
// with the same `name` ('AkiDBError'), `code` and `operationId` as on the main thread.

const DEFAULT_CHUNK = 2048;

function rebuildError(e) {
  const err = new Error(e?.message ?? String(e));
  if (e?.name) err.name = e.name;
  if (e?.code !== undefined) err.code = e.code;
  if (e?.operationId !== undefined) err.operationId = e.operationId;
  return err;
}

/** The error for a runtime without browser Web Workers (workerd, Node): names the right import. */
function noWebWorker() {
  const err = new Error(
    "INVALID_ARGUMENT: akidb/web-worker runs the database in a browser Web Worker, and this runtime has no Worker. " +
      "In Cloudflare Workers / workerd and in Node, import { AkiDB } from 'akidb' instead (it picks the right engine).",
  );
  err.name = 'AkiDBError';
  err.code = 'INVALID_ARGUMENT';
  return err;
}

/** One worker and its pending calls. */
class Link {
  constructor(worker, owned) {
    this.worker = worker;
    this.owned = owned;
    this.seq = 0;
    this.pending = new Map();
    this.progress = new Map();
    this.subs = new Map();
    this.failed = null;
    worker.addEventListener('message', (e) => this.onMessage(e.data));
    worker.addEventListener('error', (e) => this.fail(new Error(`akidb worker failed: ${e.message ?? e}`)));
    worker.addEventListener('messageerror', () => this.fail(new Error('akidb worker: a message could not be read')));
  }

  fail(err) {
    this.failed ??= err;
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
  }

  onMessage(m) {
    if (m.event === 'progress') return this.progress.get(m.id)?.(m.done, m.total);
    if (m.event === 'update') return this.subs.get(m.sub)?.listener(m.version);
    if (m.event === 'subError') return this.subs.get(m.sub)?.onError?.(rebuildError(m.error));
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.progress.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(rebuildError(m.error));
  }

  /** Sends `{ op, ...fields }` and resolves with the worker's answer. */
  call(op, fields = {}, transfer = [], onProgress) {
    if (this.failed) return Promise.reject(this.failed);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (onProgress) this.progress.set(id, onProgress);
      try {
        this.worker.postMessage({ id, op, ...fields }, transfer);
      } catch (e) {
        this.pending.delete(id);
        this.progress.delete(id);
        reject(e);
      }
    });
  }
}

/** Packs records for the trip: ids, one Float32Array of vectors (transferred), metadata. */
function pack(part) {
  const first = part[0]?.vector;
  const dim = first?.length;
  const packable =
    Number.isInteger(dim) &&
    part.every((r) => r && typeof r === 'object' && typeof r.id === 'string' && r.vector?.length === dim);
  if (!packable) return { fields: { records: part }, transfer: [] };
  const vectors = new Float32Array(part.length * dim);
  for (let i = 0; i < part.length; i++) vectors.set(part[i].vector, i * dim);
  return {
    fields: { ids: part.map((r) => r.id), dim, vectors, metadata: part.map((r) => r.metadata) },
    transfer: [vectors.buffer],
  };
}

/** A collection handle in the worker (same methods as `Collection`, all returning promises). */
export class WorkerCollection {
  constructor(link, handle, name) {
    this._link = link;
    this._h = handle;
    this.name = name;
  }

  _call(method, args = [], transfer = [], onProgress) {
    return this._link.call('call', { target: this._h, method, args }, transfer, onProgress);
  }

  /** Atomic upsert: chunks of `chunkSize` records (default 2048) sent one by one, one commit. */
  async upsert(records, options = {}) {
    const { onProgress, chunkSize = DEFAULT_CHUNK, ...rest } = options ?? {};
    if (!Array.isArray(records)) return this._call('upsert', [records, rest]);
    const batch = await this._link.call('begin', { target: this._h });
    try {
      for (let s = 0; s < records.length; s += chunkSize) {
        const { fields, transfer } = pack(records.slice(s, s + chunkSize));
        await this._link.call('chunk', { batch, ...fields }, transfer);
      }
    } catch (e) {
      await this._link.call('abort', { batch }).catch(() => {});
      throw e;
    }
    return this._link.call('commit', { batch, options: rest, progress: !!onProgress }, [], onProgress);
  }

  delete(ids) { return this._call('delete', [ids]); }
  search(query, options) { return this._call('search', [query, options]); }
  /** `{ ids, scores }`: the scores' buffer is transferred from the worker, not copied. */
  searchIds(query, options) { return this._call('searchIds', [query, options]); }
  load() { return this._call('load'); }
  seal(segmentId) { return this._call('seal', [segmentId]); }
  operationStatus(operationId) { return this._call('operationStatus', [operationId]); }
  compact(options) { return this._call('compact', [options]); }
  needsCompaction() { return this._call('needsCompaction'); }
  manifest() { return this._call('manifest'); }
  refresh() { return this._call('refresh'); }
  count() { return this._call('count'); }
  get(ids, options) { return this._call('get', [ids, options]); }

  /** `for await (const batch of c.scan(options))`: batches come from the worker one by one. */
  async *scan(options) {
    const scan = await this._link.call('scanOpen', { target: this._h, options });
    let done = false;
    try {
      while (!done) {
        const r = await this._link.call('scanNext', { scan });
        done = r.done;
        if (!done) yield r.value;
      }
    } finally {
      if (!done) await this._link.call('scanClose', { scan }).catch(() => {});
    }
  }

  /**
   * `listener(version)` after commits anywhere on the origin (see `Collection.subscribe`); the
   * worker's handle is refreshed first. Returns `unsubscribe()`.
   */
  subscribe(listener, options = {}) {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const { onError, ...rest } = options ?? {};
    const sub = ++this._link.seq;
    this._link.subs.set(sub, { listener, onError });
    this._link.call('subscribe', { target: this._h, sub, options: rest }).catch((e) => onError?.(e));
    return () => {
      if (this._link.subs.delete(sub)) this._link.call('unsubscribe', { sub }).catch(() => {});
    };
  }
}

/** A database in a worker: `AkiDB`'s methods, all returning promises. */
export class WorkerDatabase {
  constructor(link, handle) {
    this._link = link;
    this._h = handle;
  }

  _call(method, args = []) {
    return this._link.call('call', { target: this._h, method, args });
  }

  /** The Worker running this database. */
  get worker() { return this._link.worker; }

  createCollection(name, options, createOptions) { return this._call('createCollection', [name, options, createOptions]); }
  listCollections() { return this._call('listCollections'); }
  dropCollection(name) { return this._call('dropCollection', [name]); }
  collectGarbage(name) { return this._call('collectGarbage', [name]); }
  operationStatus(name, operationId) { return this._call('operationStatus', [name, operationId]); }
  metrics() { return this._call('metrics'); }
  metricsText() { return this._call('metricsText'); }
  persist() { return this._call('persist'); }
  storageEstimate() { return this._call('storageEstimate'); }

  async collection(name) {
    const h = await this._link.call('collection', { target: this._h, name });
    return new WorkerCollection(this._link, h, name);
  }

  /** Closes the database; a worker that `open` started is terminated too. */
  async close() {
    try {
      await this._call('close');
    } finally {
      if (this._link.owned) {
        this._link.worker.terminate();
        this._link.fail(new Error('akidb worker: closed (close() was called)'));
      }
    }
  }
}

export const AkiDBWorker = {
  /**
   * Starts a module worker running `worker-host.js` (or uses `worker`, e.g. one a bundler
   * created) and opens the database there with `options` (those of `AkiDB.open`; functions
   * cannot cross to a worker).
   */
  async open(options = {}, { worker } = {}) {
    const owned = !worker;
    if (!worker && typeof Worker === 'undefined') throw noWebWorker();
    // Written out in full at the call: Vite and webpack bundle a worker only from this literal
    // pattern (a URL kept in a variable ships worker-host.js unbundled, without index.js).
    const w = worker ?? new Worker(new URL('./worker-host.js', import.meta.url), { type: 'module', name: 'akidb' });
    const link = new Link(w, owned);
    try {
      return new WorkerDatabase(link, await link.call('open', { options }));
    } catch (e) {
      if (owned) w.terminate();
      throw e;
    }
  },
};

export default { AkiDBWorker, WorkerDatabase, WorkerCollection };
