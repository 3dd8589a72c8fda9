// R2 binding vs S3 API store, measured inside one Miniflare instance (workerd + local R2; S3 is
// ministack on 127.0.0.1, reached with fetch + SigV4 from the same worker). For each store:
//   commits      COMMITS sequential single-record upserts on a warm handle: latency (ms, timed in
//                the worker) and store requests per commit, by kind
//   cold search  a fresh AkiDB.open + collection + one search over SEGMENTS segments: requests
//                and time (nothing cached)
// Requests are counted in the worker: a Proxy around the R2 binding (get/head/put/delete/list),
// a wrapper around fetch for S3 (by HTTP method). Both stores run the same AkiDB build.
// Usage: bench/r2/run.sh [commits=100] [segments=8]   (AKIDB_S3_* from tests/edge/lib/ministack.sh)
import { start } from '../../tests/miniflare/lib/mf.mjs';

const COMMITS = Number(process.argv[2] ?? 100);
const SEGMENTS = Number(process.argv[3] ?? 8);
const DIM = 128;
const PER_SEGMENT = 500;

const SCRIPT = `import { AkiDB } from 'akidb';
const counts = {};
const bump = (k) => { counts[k] = (counts[k] ?? 0) + 1; };
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => { bump('s3 ' + (init?.method ?? 'GET')); return realFetch(input, init); };
function counted(bucket) {
  return new Proxy(bucket, { get(t, p) {
    const v = t[p];
    return typeof v === 'function' ? (...a) => { bump('r2 ' + p + (a[2]?.onlyIf || a[1]?.onlyIf ? '?' : '')); return v.apply(t, a); } : v;
  } });
}
function options(env, store) {
  const common = { logLevel: 'error', autoCompact: false, groupCommit: false, prefix: 'bench/' };
  if (store === 'r2') return { store: 'r2', bucket: counted(env.BUCKET), ...common };
  return { store: 's3', endpoint: env.S3_ENDPOINT, region: env.S3_REGION, bucket: env.S3_BUCKET,
    accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY, forcePathStyle: true, ...common };
}
function vector(seed) {
  const v = new Float32Array(${DIM});
  let x = seed * 2654435761 % 4294967296;
  for (let i = 0; i < v.length; i++) { x = (x * 1664525 + 1013904223) % 4294967296; v[i] = x / 4294967296 - 0.5; }
  return v;
}
const reset = () => { for (const k of Object.keys(counts)) delete counts[k]; };
export default { async fetch(req, env) {
  const u = new URL(req.url);
  const store = u.searchParams.get('store');
  const n = Number(u.searchParams.get('n'));
  if (u.pathname === '/setup') {
    const db = await AkiDB.open(options(env, store));
    await db.createCollection('bench', { dimension: ${DIM}, distance: 'cosine' });
    const c = await db.collection('bench');
    for (let s = 0; s < n; s++) {
      await c.upsert(Array.from({ length: ${PER_SEGMENT} }, (_, i) => ({ id: 's' + s + '-' + i, vector: vector(s * ${PER_SEGMENT} + i), metadata: { s } })));
    }
    return Response.json({ ok: true });
  }
  if (u.pathname === '/commits') {
    const c = await (await AkiDB.open(options(env, store))).collection('bench');
    await c.upsert([{ id: 'warm', vector: vector(1) }]);
    reset();
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t = Date.now();
      await c.upsert([{ id: 'c' + i, vector: vector(100000 + i) }]);
      ms.push(Date.now() - t);
    }
    return Response.json({ ms, counts });
  }
  if (u.pathname === '/cold-search') {
    reset();
    const t = Date.now();
    const c = await (await AkiDB.open(options(env, store))).collection('bench');
    const hits = await c.search(vector(7), { k: 10 });
    return Response.json({ ms: Date.now() - t, counts, hits: hits.length });
  }
  return new Response('?', { status: 404 });
} };`;

const env = {};
for (const k of ['ENDPOINT', 'REGION', 'BUCKET', 'ACCESS_KEY_ID', 'SECRET_ACCESS_KEY']) env[`S3_${k}`] = process.env[`AKIDB_S3_${k}`] ?? '';
if (!env.S3_ENDPOINT) throw new Error('AKIDB_S3_* not set: run bench/r2/run.sh');

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmtCounts = (c, per = 1) =>
  Object.entries(c)
    .sort()
    .map(([k, v]) => `${k.replace(/^(r2|s3) /, '')} ${+(v / per).toFixed(2)}`)
    .join(', ');
const total = (c) => Object.values(c).reduce((a, b) => a + b, 0);

const mf = await start({ script: SCRIPT, bindings: env });
const rows = [];
try {
  for (const store of ['r2', 's3']) {
    const get = async (path) => {
      const res = await mf.dispatchFetch(`http://localhost${path}`);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    await get(`/setup?store=${store}&n=${SEGMENTS}`);
    // Cold searches first: the commits below add one segment each.
    const colds = [];
    for (let i = 0; i < 3; i++) colds.push(await get(`/cold-search?store=${store}`));
    const commits = await get(`/commits?store=${store}&n=${COMMITS}`);
    const cold = colds[colds.length - 1];
    const mean = commits.ms.reduce((a, b) => a + b, 0) / commits.ms.length;
    rows.push(
      `| ${store === 'r2' ? 'R2 binding' : 'S3 API (SigV4 + fetch)'} | ${pct(commits.ms, 50)} | ${pct(commits.ms, 95)} | ${mean.toFixed(1)} | ` +
        `${+(total(commits.counts) / COMMITS).toFixed(2)} (${fmtCounts(commits.counts, COMMITS)}) | ` +
        `${total(cold.counts)} (${fmtCounts(cold.counts)}) | ${pct(colds.map((c) => c.ms), 50)} |`,
    );
  }
} finally {
  await mf.dispose();
}
console.log(`Miniflare 3.20250718.3 (local R2) vs ministack S3 on 127.0.0.1; ${COMMITS} sequential single-record commits; cold search over ${SEGMENTS} segments x ${PER_SEGMENT} records (dim ${DIM}), median of 3.\n`);
console.log('| store | commit p50 ms | commit p95 ms | commit mean ms | requests per commit | cold-search requests | cold search ms |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
