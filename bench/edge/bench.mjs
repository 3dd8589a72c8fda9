// Edge benchmark: the REST worker on workerd against a local S3 server (ministack) behind a
// counting proxy. Prints a markdown table. Not a test: numbers depend on the machine.
//   bench/edge/run.sh   (starts and stops ministack; this script starts and stops workerd)
import { s3Env, freshPrefix } from '../../tests/edge/lib/env.mjs';
import { startWorkerd } from '../../tests/edge/lib/procs.mjs';
import { startFaultProxy } from '../../tests/edge/lib/fault_proxy.mjs';
import { client, pool } from '../../tests/edge/lib/rest.mjs';

const KEY = 'bench-key';
const DIM = 128;
const UPSERTS = Number(process.env.BENCH_UPSERTS ?? 200);
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 300);

const vec = () => Array.from({ length: DIM }, () => Math.random() * 2 - 1);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;

async function timed(f) {
  const t = performance.now();
  const r = await f();
  if (r.status !== 200 && r.status !== 201) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
  return performance.now() - t;
}

function metric(text, name) {
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const proxy = await startFaultProxy({ target: s3Env().endpoint });
const s3 = { ...s3Env(), endpoint: proxy.url };
const prefix = freshPrefix('bench');
const rows = [];
// Automatic compaction off: the cold-search row measures 200 segments, as it always has
// (bench/compaction measures cold searches before and after compaction).
const NO_AUTO_COMPACT = { AKIDB_AUTO_COMPACT: '0' };
let server = await startWorkerd({ s3, prefix, apiKeys: KEY, env: NO_AUTO_COMPACT });
try {
  let call = client(server.url, KEY);
  await call('POST', '/collections', { name: 'b', dimension: DIM, distance: 'cosine' });

  // 1. Sequential upserts (one writer, 10 records each): latency, rate, S3 requests per upsert.
  proxy.reset();
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < UPSERTS; i++) {
    const vectors = Array.from({ length: 10 }, (_, j) => ({ id: `u${i}-${j}`, vector: vec() }));
    lat.push(await timed(() => call('POST', '/collections/b/vectors', { vectors })));
  }
  const secs = (performance.now() - t0) / 1000;
  const per = Object.entries(proxy.counts)
    .map(([k, v]) => `${k} ${(v / UPSERTS).toFixed(2)}`)
    .join(', ');
  const total = Object.values(proxy.counts).reduce((a, b) => a + b, 0) / UPSERTS;
  rows.push(['upsert, 1 writer, 10 x 128-d per request', `${(UPSERTS / secs).toFixed(1)} req/s`, ms(pct(lat, 50)), ms(pct(lat, 99)), '']);
  rows.push(['S3 requests per upsert (uncontended)', total.toFixed(2), '', '', per]);

  // 2. Search: cold (first query after a restart loads every segment), then warm.
  await server.stop();
  server = await startWorkerd({ s3, prefix, apiKeys: KEY, env: NO_AUTO_COMPACT });
  call = client(server.url, KEY);
  const cold = await timed(() => call('POST', '/collections/b/search', { vector: vec(), k: 10 }));
  const warm = [];
  for (let i = 0; i < SEARCHES; i++) warm.push(await timed(() => call('POST', '/collections/b/search', { vector: vec(), k: 10 })));
  rows.push([`search cold (first after start, ${UPSERTS * 10} vectors in ${UPSERTS} segments)`, '', ms(cold), '', '']);
  rows.push(['search warm (k = 10; includes the 304 manifest check)', `${(1000 / pct(warm, 50)).toFixed(0)} q/s (1 client)`, ms(pct(warm, 50)), ms(pct(warm, 99)), '']);

  // 3. Contention: W concurrent writers on one collection (each request commits on its own).
  for (const writers of [1, 4, 16]) {
    const name = `c${writers}`;
    await call('POST', '/collections', { name, dimension: DIM, distance: 'cosine' });
    const before = (await call('GET', '/metrics')).body;
    const n = 96;
    const lw = [];
    let failed = 0;
    const t1 = performance.now();
    await pool(
      Array.from({ length: n }, (_, i) => async () => {
        try {
          lw.push(await timed(() => call('POST', `/collections/${name}/vectors`, { vectors: [{ id: `x${i}`, vector: vec() }] })));
        } catch {
          failed++;
        }
      }),
      writers,
    );
    const s = (performance.now() - t1) / 1000;
    const after = (await call('GET', '/metrics')).body;
    const retries = metric(after, 'akidb_manifest_conflict_retries_total') - metric(before, 'akidb_manifest_conflict_retries_total');
    const commits = metric(after, 'akidb_manifest_commits_total') - metric(before, 'akidb_manifest_commits_total');
    rows.push([
      `${writers} concurrent writer${writers > 1 ? 's' : ''}, ${n} single-record upserts`,
      `${(n / s).toFixed(1)} req/s`,
      ms(pct(lw, 50)),
      ms(pct(lw, 99)),
      `${(retries / Math.max(commits, 1)).toFixed(2)} retries/commit${failed ? `; ${failed} gave up (409 after the default 10 retries)` : ''}`,
    ]);
  }
} finally {
  await server.stop();
  await proxy.close();
}

console.log('| measurement | rate | p50 | p99 | notes |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
