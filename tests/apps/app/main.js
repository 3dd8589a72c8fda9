// The app every bundler of tests/apps/bundlers.test.mjs builds: the package's main-thread entry
// on IndexedDB (get-or-create, so a second page load works) and its Web Worker entry, imported
// at top level as a user would. `window.APP_CONFIG` (set by the page) carries what a bundler
// without worker/asset support needs: the engine's URL and a worker built from
// akidb/web-worker-host. The result lands in `window.__result`.
import { AkiDB } from 'akidb';
import { AkiDBWorker } from 'akidb/web-worker';

const cfg = globalThis.APP_CONFIG ?? {};
const wasm = cfg.wasm ? { wasm: cfg.wasm } : {};
const records = [
  { id: 'a', vector: [1, 0, 0], metadata: { n: 1 } },
  { id: 'b', vector: [0, 1, 0], metadata: { n: 2 } },
  { id: 'c', vector: [0.9, 0.1, 0], metadata: { n: 3 } },
];

async function main() {
  const out = {};
  if (cfg.probeDefaultLoad) {
    // Without the URL the engine cannot be found; the failure must be catchable and coded.
    out.defaultLoad = await AkiDB.ready().then(() => 'loaded', (e) => e.code);
  }
  const db = await AkiDB.open({ store: 'indexeddb', name: 'apps-matrix', ...wasm });
  // Two get-or-create calls at once (React StrictMode runs effects twice), on every page load.
  await Promise.all([0, 1].map(() => db.createCollection('docs', { dimension: 3 }, { ifNotExists: true })));
  const docs = await db.collection('docs');
  await docs.upsert(records);
  out.main = (await docs.search([1, 0, 0], { k: 2 })).map((h) => h.id);
  out.count = await docs.count();
  out.got = (await docs.get(['b', 'x'])).map((r) => r && [r.id, Array.from(r.vector).length, r.metadata.n]);
  out.scanned = 0;
  for await (const batch of docs.scan({ batchSize: 2 })) out.scanned += batch.length;

  const worker = cfg.worker ? new Worker(cfg.worker, { type: 'module' }) : undefined;
  const wdb = await AkiDBWorker.open({ store: 'memory', ...wasm }, { worker });
  await wdb.createCollection('w', { dimension: 3 });
  const w = await wdb.collection('w');
  await w.upsert(records);
  out.worker = (await w.search([0, 1, 0], { k: 2 })).map((h) => h.id);
  out.workerGot = (await w.get(['c'])).map((r) => [r.id, r.vector instanceof Float32Array]);
  out.workerScanned = 0;
  for await (const batch of w.scan({ batchSize: 2 })) out.workerScanned += batch.length;
  await wdb.close();
  return out;
}

main().then(
  (r) => (window.__result = r),
  (e) => (window.__result = { failed: String((e && e.stack) || e), code: e?.code }),
);
