// AkiDB scenarios: ingest into IndexedDB, cold open → first result, warm QPS (IndexedDB vs memory).
import { recall, row, timeQueries, vectors } from './data.js';

const state = {};

function records(n, dim) {
  const data = vectors(n, dim, 1);
  return { data, records: Array.from({ length: n }, (_, i) => ({ id: String(i), vector: row(data, dim, i) })) };
}

/** Upserts `n` × `dim` vectors as one atomic upsert (segments of `segmentSize`). */
export async function ingest({ store = 'indexeddb', name, collection, n, dim, segmentSize = 10_000 }) {
  const { AkiDB } = await import('/pkg/index.js');
  const db = await AkiDB.open({ store, name, logLevel: 'error' });
  await db.createCollection(collection, { dimension: dim, distance: 'cosine' });
  const c = await db.collection(collection);
  const { records: recs } = records(n, dim);
  const t0 = performance.now();
  await c.upsert(recs, { segmentSize });
  const ms = performance.now() - t0;
  if (store === 'memory') state.memory = { db, c };
  else await db.close();
  return { ms, vps: n / (ms / 1000) };
}

/** In a fresh page of a freshly started browser: load the module, open, first search. */
export async function coldOpen({ name, collection, dim }) {
  const t0 = performance.now();
  const { AkiDB } = await import('/pkg/index.js');
  const t1 = performance.now();
  const db = await AkiDB.open({ store: 'indexeddb', name, logLevel: 'error' });
  const c = await db.collection(collection);
  const hits = await c.search(vectors(1, dim, 999), { k: 10 });
  const t2 = performance.now();
  state.idb = { db, c };
  return { moduleMs: t1 - t0, openToFirstMs: t2 - t1, totalMs: t2 - t0, hits: hits.length };
}

/** Warm search QPS on the collection opened by `coldOpen` ('idb') or made by `ingest` in memory. */
export async function qps({ which, n, dim, queries = 200, mode = 'exact', withRecall = false }) {
  const { c } = state[which];
  const q = vectors(queries, dim, 7);
  const found = [];
  const value = await timeQueries(queries, async (i) => {
    const hits = await c.search(row(q, dim, i), { k: 10, mode });
    found[i] = hits.map((h) => Number(h.id));
  });
  const r = withRecall ? recall(vectors(n, dim, 1), n, dim, q, found.slice(0, 50), 10) : null;
  return { qps: value, recall: r };
}
