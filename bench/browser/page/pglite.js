// PGlite 0.5.14 + pgvector (Postgres → Emscripten) on idb://: ingest + HNSW index, cold open →
// first result, QPS.
import { recall, row, timeQueries, vectors } from './data.js';

let db;
const literal = (v) => `[${Array.from(v).join(',')}]`;

async function open(dataDir) {
  const { PGlite } = await import('/node_modules/@electric-sql/pglite/dist/index.js');
  const { vector } = await import('/node_modules/@electric-sql/pglite-pgvector/dist/index.js');
  return PGlite.create(dataDir, { extensions: { vector } });
}

export async function ingest({ n, dim, dataDir }) {
  const pg = await open(dataDir);
  await pg.exec(`CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE items (id int PRIMARY KEY, embedding vector(${dim}));`);
  const data = vectors(n, dim, 1);
  const t0 = performance.now();
  for (let start = 0; start < n; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(n, start + 500); i++) rows.push(`(${i}, '${literal(row(data, dim, i))}')`);
    await pg.exec(`INSERT INTO items VALUES ${rows.join(',')}`);
  }
  const t1 = performance.now();
  await pg.exec('CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200)');
  const t2 = performance.now();
  await pg.close();
  return { insertMs: t1 - t0, indexMs: t2 - t1, closeMs: performance.now() - t2 };
}

export async function coldOpen({ dim, dataDir }) {
  const t0 = performance.now();
  db = await open(dataDir);
  await db.exec('SET hnsw.ef_search = 200');
  const r = await db.query('SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10', [literal(vectors(1, dim, 999))]);
  return { totalMs: performance.now() - t0, hits: r.rows.length };
}

export async function qps({ n, dim, queries = 100 }) {
  const q = vectors(queries, dim, 7);
  const found = [];
  const value = await timeQueries(queries, async (i) => {
    const r = await db.query('SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10', [literal(row(q, dim, i))]);
    found[i] = r.rows.map((x) => x.id);
  });
  return { qps: value, recall: recall(vectors(n, dim, 1), n, dim, q, found.slice(0, 50), 10) };
}
