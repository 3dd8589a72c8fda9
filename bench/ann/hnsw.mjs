// hnswlib-wasm HNSW (M 16, efConstruction 200), the browser ANN library people use today, built
// and measured over `ef` exactly as bench/ann/run.mjs and bench/ann/readme.mjs report it:
// `addPoint` per row, `searchKnn(q, 10)` per query, one query at a time.
import { measure } from '../search/lib.mjs';

/** Builds the index over `n` rows of `base` and measures each `ef` of `efs`. */
export async function hnswRows({ base, n, dim, queries, gt, gtK, efs, budgets, now }) {
  await import('fake-indexeddb/auto');
  globalThis.window = globalThis;
  const { loadHnswlib } = await import('hnswlib-wasm/dist/hnswlib.js');
  const lib = await loadHnswlib();
  const index = new lib.HierarchicalNSW('cosine', dim, '');
  index.initIndex(n, 16, 200, 100);
  const t0 = now();
  for (let i = 0; i < n; i++) index.addPoint(base.subarray(i * dim, (i + 1) * dim), i, false);
  const buildMs = now() - t0;
  const rows = [];
  for (const ef of efs) {
    index.setEfSearch(ef);
    const search = (q) => Array.from(index.searchKnn(q, 10, undefined).neighbors);
    const r = await measure({ queries, dim, gt, gtK, now, ...budgets, search });
    rows.push({ label: `ef ${ef}`, ...r });
  }
  return { build: { buildMs }, rows };
}
