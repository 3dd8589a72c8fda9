// hnswlib-wasm 0.8.2 (C++ → Emscripten): build, save through IDBFS, cold load → first result, QPS.
import { recall, row, timeQueries, vectors } from './data.js';

const M = 16, EF_CONSTRUCTION = 200, EF_SEARCH = 200;
let index;

async function lib() {
  const mod = await import('/node_modules/hnswlib-wasm/dist/hnswlib.js');
  return { mod, lib: await mod.loadHnswlib() };
}

export async function buildAndSave({ n, dim, file }) {
  const { mod, lib: h } = await lib();
  const data = vectors(n, dim, 1);
  const idx = new h.HierarchicalNSW('cosine', dim, '');
  idx.initIndex(n, M, EF_CONSTRUCTION, 100);
  const t0 = performance.now();
  idx.addPoints(Array.from({ length: n }, (_, i) => row(data, dim, i)), Array.from({ length: n }, (_, i) => i), false);
  const t1 = performance.now();
  await idx.writeIndex(file);
  await mod.syncFileSystem('write');
  const t2 = performance.now();
  return { buildMs: t1 - t0, saveMs: t2 - t1 };
}

export async function coldOpen({ n, dim, file }) {
  const t0 = performance.now();
  const { mod, lib: h } = await lib();
  const t1 = performance.now();
  await mod.syncFileSystem('read');
  index = new h.HierarchicalNSW('cosine', dim, '');
  await index.readIndex(file, n);
  index.setEfSearch(EF_SEARCH);
  const r = index.searchKnn(vectors(1, dim, 999), 10, undefined);
  const t2 = performance.now();
  return { moduleMs: t1 - t0, openToFirstMs: t2 - t1, totalMs: t2 - t0, hits: r.neighbors.length };
}

export async function qps({ n, dim, queries = 200 }) {
  const q = vectors(queries, dim, 7);
  const found = [];
  const value = await timeQueries(queries, async (i) => {
    found[i] = index.searchKnn(row(q, dim, i), 10, undefined).neighbors;
  });
  return { qps: value, recall: recall(vectors(n, dim, 1), n, dim, q, found.slice(0, 50), 10) };
}
