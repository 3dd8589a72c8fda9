// Builds the demo's dataset slice into a gitignored directory (default tmp/demo-data):
// N Debian packages (384-d all-MiniLM-L6-v2 embeddings of their descriptions, with name, text and
// section) sampled evenly from ../shared/datasets/debian-minilm-384 when it exists, plus 50
// held-out queries with their embeddings; random vectors otherwise.
//
//   node www/app/make-dataset.mjs [--out DIR] [--records N] [--force]
//
// Files: vectors.f32 (N × 384 float32, little-endian), meta.json ([{ id, text, section }]),
// queries.f32 + queries.json (held-out query embeddings and texts), info.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
export const DEFAULT_OUT = path.join(REPO, 'tmp/demo-data');
const SHARED = process.env.AKIDB_DATASET ?? path.resolve(REPO, '../shared/datasets/debian-minilm-384');
const DIM = 384;
const QUERIES = 50;

/** Makes sure `out` holds a slice of `records` rows; returns its info.json content. */
export function ensureDataset({ out = DEFAULT_OUT, records = 5000, force = false } = {}) {
  const infoPath = path.join(out, 'info.json');
  if (!force && existsSync(infoPath)) {
    const info = JSON.parse(readFileSync(infoPath, 'utf8'));
    if (info.n === records) return info;
  }
  mkdirSync(out, { recursive: true });
  const data = existsSync(path.join(SHARED, 'base.f32')) ? fromShared(records) : random(records);
  writeFileSync(path.join(out, 'vectors.f32'), Buffer.from(data.vectors.buffer));
  writeFileSync(path.join(out, 'meta.json'), JSON.stringify(data.meta));
  writeFileSync(path.join(out, 'queries.f32'), Buffer.from(data.queries.buffer));
  writeFileSync(path.join(out, 'queries.json'), JSON.stringify(data.queryMeta));
  const info = { n: data.meta.length, dim: DIM, queries: data.queryMeta.length, source: data.source };
  writeFileSync(infoPath, JSON.stringify(info, null, 2));
  return info;
}

function fromShared(records) {
  const base = readFileSync(path.join(SHARED, 'base.f32'));
  const total = base.length / 4 / DIM;
  const n = Math.min(records, total);
  const step = total / n;
  const lines = readFileSync(path.join(SHARED, 'base.jsonl'), 'utf8').split('\n');
  const vectors = new Float32Array(n * DIM);
  const meta = [];
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i * step);
    vectors.set(new Float32Array(base.buffer, base.byteOffset + row * DIM * 4, DIM), i * DIM);
    const m = JSON.parse(lines[row]);
    meta.push({ id: m.id, text: m.text, section: m.source });
  }
  const q = readFileSync(path.join(SHARED, 'queries.f32'));
  const queries = new Float32Array(q.buffer.slice(q.byteOffset, q.byteOffset + QUERIES * DIM * 4));
  const qlines = readFileSync(path.join(SHARED, 'queries.jsonl'), 'utf8').split('\n');
  const queryMeta = qlines.slice(0, QUERIES).map((l) => {
    const m = JSON.parse(l);
    return { id: m.id, text: m.text, section: m.source };
  });
  return {
    vectors,
    meta,
    queries,
    queryMeta,
    source: `Debian 12 package descriptions embedded with all-MiniLM-L6-v2 (${n} of ${total}, sampled evenly)`,
  };
}

function random(records) {
  let s = 0x9e3779b9;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const unit = (n) => {
    const v = new Float32Array(n * DIM);
    for (let i = 0; i < n; i++) {
      let norm = 0;
      for (let j = 0; j < DIM; j++) norm += (v[i * DIM + j] = rnd()) ** 2;
      for (let j = 0; j < DIM; j++) v[i * DIM + j] /= Math.sqrt(norm);
    }
    return v;
  };
  const sections = ['games', 'libs', 'net', 'science', 'text', 'utils', 'web', 'x11'];
  const meta = Array.from({ length: records }, (_, i) => ({
    id: `item-${String(i).padStart(5, '0')}`,
    text: `Random vector #${i} (the Debian dataset was not found, so this demo uses random data).`,
    section: sections[i % sections.length],
  }));
  const queryMeta = Array.from({ length: QUERIES }, (_, i) => ({ id: `query-${i}`, text: `random query #${i}`, section: '' }));
  return { vectors: unit(records), meta, queries: unit(QUERIES), queryMeta, source: `random unit vectors (${SHARED} not found)` };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const info = ensureDataset({
    out: arg('out') ? path.resolve(arg('out')) : DEFAULT_OUT,
    records: Number(arg('records') ?? 5000),
    force: process.argv.includes('--force'),
  });
  console.log(`dataset: ${info.n} × ${info.dim} — ${info.source}`);
}
