// Page side of bench/browser/ingest.mjs: one 59k × 384 ingest into IndexedDB, on the main thread
// (AkiDB) or through the worker entry (AkiDBWorker), with a durability setting, while counting
// the main thread's long tasks (PerformanceObserver 'longtask': tasks over 50 ms) and the longest
// gap between 10 ms heartbeat timers (how long the page could not react).
import { AkiDB } from '/pkg/index.js';
import { AkiDBWorker } from '/pkg/worker.js';

let data;

/** Loads /data/base.f32 and /data/meta.json once → records (built before any measurement). */
async function records() {
  if (!data) {
    const [buf, meta] = await Promise.all([
      fetch('/data/base.f32').then((r) => r.arrayBuffer()),
      fetch('/data/meta.json').then((r) => r.json()),
    ]);
    const vectors = new Float32Array(buf);
    const dim = vectors.length / meta.length;
    data = {
      dim,
      records: meta.map(([id, section], i) => ({ id, vector: vectors.subarray(i * dim, (i + 1) * dim), metadata: { section } })),
    };
  }
  return data;
}

/** `{ ms, vectorsPerSecond, longTasks, longTaskMs, longestTaskMs, maxGapMs, version, count }` */
export async function ingest({ mode, durability, name }) {
  const { dim, records: recs } = await records();
  const options = { store: 'indexeddb', name, durability, logLevel: 'error', autoCompact: false };
  const tasks = [];
  const observer = new PerformanceObserver((l) => tasks.push(...l.getEntries().map((e) => e.duration)));
  observer.observe({ type: 'longtask' });
  let last = performance.now();
  let maxGap = 0;
  const beat = setInterval(() => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - last);
    last = t;
  }, 10);
  const t0 = performance.now();
  const db = mode === 'worker' ? await AkiDBWorker.open(options) : await AkiDB.open(options);
  await db.createCollection('c', { dimension: dim, distance: 'cosine' });
  const c = await db.collection('c');
  const receipt = await c.upsert(recs, { segmentSize: 10_000 });
  const ms = performance.now() - t0;
  clearInterval(beat);
  await new Promise((ok) => setTimeout(ok, 100)); // let the observer deliver
  observer.disconnect();
  const count = await c.count();
  await db.close();
  return {
    ms,
    vectorsPerSecond: recs.length / (ms / 1000),
    longTasks: tasks.length,
    longTaskMs: tasks.reduce((a, b) => a + b, 0),
    longestTaskMs: Math.max(0, ...tasks),
    maxGapMs: maxGap,
    version: receipt.version,
    count,
  };
}

/** `n` one-record upserts one after another → `{ msPerCommit }` (each commit: one segment + one manifest transaction). */
export async function commits({ durability, name, n }) {
  const db = await AkiDB.open({ store: 'indexeddb', name, durability, logLevel: 'error', autoCompact: false });
  await db.createCollection('c', { dimension: 384, distance: 'cosine' });
  const c = await db.collection('c');
  const vector = new Float32Array(384).fill(0.05);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await c.upsert([{ id: `r${i}`, vector }]);
  const ms = performance.now() - t0;
  await db.close();
  return { msPerCommit: ms / n };
}
