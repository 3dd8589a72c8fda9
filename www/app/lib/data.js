// Loads the dataset slice the demo server publishes under /data/ (made by make-dataset.mjs).

async function get(url, kind) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} (run scripts/demo.sh, which builds the dataset)`);
  return kind === 'json' ? r.json() : r.arrayBuffer();
}

/** `{ info, dim, vectors (Float32Array n×dim), meta [{ id, text, section }], queries, queryMeta }` */
export async function loadDataset(base = '/data/') {
  const [info, vbuf, meta, qbuf, queryMeta] = await Promise.all([
    get(base + 'info.json', 'json'),
    get(base + 'vectors.f32'),
    get(base + 'meta.json', 'json'),
    get(base + 'queries.f32'),
    get(base + 'queries.json', 'json'),
  ]);
  return { info, dim: info.dim, vectors: new Float32Array(vbuf), meta, queries: new Float32Array(qbuf), queryMeta };
}

/** Row `i` of a row-major matrix. */
export const row = (m, dim, i) => m.subarray(i * dim, (i + 1) * dim);
