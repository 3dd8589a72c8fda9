// Page side of the worker-entry smoke test (tests/pkg/smoke_worker.test.mjs): runs in a page
// whose import map maps 'akidb' and 'akidb/worker' to the installed package, in any browser.
// `runWorkerSmoke()` resolves to a JSON-able result; worker_smoke.mjs says what it must be.
import { AkiDB } from 'akidb';
import { AkiDBWorker } from 'akidb/worker';
import { smoke } from './smoke.mjs';

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Top-k ids `r{i}` by dot product. */
function bruteForce(data, dim, q, k) {
  const scored = [];
  for (let i = 0; i < data.length / dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += Math.fround(q[j] * data[i * dim + j]);
    scored.push([s, i]);
  }
  return scored.sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => `r${i}`);
}

/** The package smoke script through the worker entry, plus what only the worker proxy does. */
export async function runWorkerSmoke() {
  const memory = await smoke(AkiDBWorker);
  const name = 'worker-smoke-' + Date.now();
  const indexeddb = await smoke(AkiDBWorker, { store: 'indexeddb', name });

  // A 5,000-record upsert in chunks of 1,000 (packed, transferred): one commit; progress events.
  const db = await AkiDBWorker.open({ store: 'indexeddb', name, logLevel: 'error' });
  await db.createCollection('big', { dimension: 16, distance: 'dot' });
  const big = await db.collection('big');
  // The main thread listens on the same database: the worker's commits reach it.
  const main = await AkiDB.open({ store: 'indexeddb', name, logLevel: 'error' });
  const mainBig = await main.collection('big');
  const heard = [];
  const unsubscribe = mainBig.subscribe((v) => heard.push(v));
  const vectors = new Float32Array(5000 * 16).map((_, i) => Math.sin(i));
  const records = Array.from({ length: 5000 }, (_, i) => ({
    id: `r${i}`,
    vector: vectors.subarray(i * 16, (i + 1) * 16),
    metadata: { i },
  }));
  const progress = [];
  const receipt = await big.upsert(records, { segmentSize: 2500, chunkSize: 1000, onProgress: (d, t) => progress.push([d, t]) });
  for (let i = 0; i < 200 && !heard.includes(receipt.version); i++) await sleep(10);
  const lean = await big.searchIds(vectors.subarray(16 * 7, 16 * 8), 3);
  const rich = await big.search(vectors.subarray(16 * 7, 16 * 8), { k: 3, includeMetadata: true });
  let error = null;
  try {
    await big.upsert([{ id: 'bad', vector: [1, 2] }]);
  } catch (e) {
    error = { isError: e instanceof Error, name: e.name, code: e.code };
  }
  const extras = {
    version: receipt.version,
    segments: receipt.segmentIds.length,
    progress,
    callerVectorsIntact: vectors.length === 5000 * 16 && records[4999].vector.length === 16,
    count: await big.count(),
    mainThreadHeard: heard.includes(receipt.version),
    mainThreadCount: await mainBig.count(),
    leanMatchesBruteForce: JSON.stringify(lean.ids) === JSON.stringify(bruteForce(vectors, 16, vectors.subarray(16 * 7, 16 * 8), 3)),
    leanScoresAreFloat32: lean.scores instanceof Float32Array,
    leanMatchesRich: JSON.stringify(lean.ids) === JSON.stringify(rich.map((h) => h.id)),
    richMetadata: rich[0].metadata,
    error,
    persist: typeof (await db.persist()),
    estimate: Object.keys((await db.storageEstimate()) ?? {}).sort(),
  };
  unsubscribe();
  await main.close();
  await db.close();
  let closed = null;
  try {
    await big.count();
  } catch (e) {
    closed = e.message;
  }
  return { memory, indexeddb, extras, closed };
}
