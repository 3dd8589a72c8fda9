// Compaction on the edge (issue 11): what a collection that lived through heavy traffic costs a
// fresh Workers isolate, before and after compaction, on a local S3 server. Prints a Markdown
// table (progress on stderr). Not a test: the numbers depend on the machine.
//   bench/compaction/run.sh   (starts and stops ministack; this script starts and stops workerd)
//
// Two histories, each in its own prefix of the bucket:
//  - seed: the seed's load test at full scale — 5 REST workers on workerd, 10,000 single-record
//    upserts at concurrency 100, group commit on, automatic compaction OFF (AKIDB_AUTO_COMPACT=0);
//  - mixed: 4 Node writer processes × 400 mixed commits straight on S3 (upserts of 1-3 records
//    over 100 ids each, so most are overwrites; deletes of live ids; deletes of ids never
//    written), automatic compaction off.
// For each, before and after compaction (+ two GC passes, so the replaced segments are gone):
//  - segments, manifest bytes (as stored: the body of a manifest GET), tombstones;
//  - a cold search: a NEW workerd process (a fresh isolate, nothing cached) on a counting proxy
//    in front of S3, first request `POST /collections/:name/search` (k = 10), timed at the
//    client; S3 requests and response bytes counted at the proxy; p50/p99 over BENCH_COLD starts;
//  - commit latency: BENCH_LAT sequential single-record upserts through one worker (each commit
//    reads and writes the whole manifest);
// and the compaction itself through the worker (`POST /collections/:name/compact`, the policy):
// wall time, merges, bytes read and rewritten, records dropped.
//
// Environment: BENCH_COLD (cold starts per row, default 20), BENCH_SEED_N (default 10000),
// BENCH_MIXED_OPS (commits per writer, default 400), BENCH_LAT (default 30), BENCH_OUT (JSON file).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { AkiDB } from '../../pkg/node.mjs';
import { s3Env, s3Options, freshPrefix } from '../../tests/edge/lib/env.mjs';
import { startWorkerd, runNode, ROOT } from '../../tests/edge/lib/procs.mjs';
import { startFaultProxy } from '../../tests/edge/lib/fault_proxy.mjs';
import { client } from '../../tests/edge/lib/rest.mjs';
import { startInstances, stopInstances, runUpserts, percentile } from '../../tests/edge/lib/seed_load.mjs';

const KEY = 'bench-compaction-key';
const DIM = 128;
const COLD = Number(process.env.BENCH_COLD ?? 20);
const SEED_N = Number(process.env.BENCH_SEED_N ?? 10000);
const MIXED_OPS = Number(process.env.BENCH_MIXED_OPS ?? 400);
const LAT = Number(process.env.BENCH_LAT ?? 30);
const LOG_DIR = process.env.LOG_DIR ?? '/tmp';
const NO_AUTO = { AKIDB_AUTO_COMPACT: '0' };

const log = (...a) => console.error(...a);
const vec = (seed) => {
  let x = seed * 2654435761 + 1;
  return Array.from({ length: DIM }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 1073741824 - 1;
  });
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (x) => `${Math.round(x)} ms`;

const proxy = await startFaultProxy({ target: s3Env().endpoint });
const viaProxy = { ...s3Env(), endpoint: proxy.url };

/** Segments, tombstones, retired entries, as the Node build reads them straight from S3. */
async function shape(prefix, name) {
  const db = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error', autoCompact: false });
  const m = await (await db.collection(name)).manifest();
  return { version: m.version, segments: m.segments.length, tombstones: m.tombstones.length, retired: m.retired?.length ?? 0, records: m.total_vectors };
}

/** One worker on the counting proxy, for the length of `f(call)`. */
async function withWorker(prefix, tag, f) {
  const w = await startWorkerd({ s3: viaProxy, prefix, apiKeys: KEY, env: NO_AUTO, logFile: join(LOG_DIR, `workerd-bench-compaction-${tag}.log`) });
  try {
    return await f(client(w.url, KEY));
  } finally {
    await w.stop();
  }
}

/** BENCH_COLD cold searches, each from a new workerd process. */
async function coldSearches(prefix, name, n) {
  const times = [];
  const requests = [];
  const bytes = [];
  let manifestBytes = 0;
  for (let i = 0; i < n; i++) {
    await withWorker(prefix, 'cold', async (call) => {
      proxy.reset();
      const t = performance.now();
      const r = await call('POST', `/collections/${name}/search`, { vector: vec(i + 1), k: 10 });
      times.push(performance.now() - t);
      if (r.status !== 200 || r.body.results.length === 0) throw new Error(`cold search: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      requests.push(Object.values(proxy.counts).reduce((a, b) => a + b, 0));
      bytes.push(Object.values(proxy.bytes).reduce((a, b) => a + b, 0));
      manifestBytes = proxy.bytes['GET manifest'] ?? 0;
      if (i === 0) log(`    cold search requests by kind: ${JSON.stringify(proxy.counts)}`);
    });
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), requests: percentile(requests, 50), bytes: percentile(bytes, 50), manifestBytes };
}

/** LAT sequential single-record upserts through one worker: commit latency. */
async function commitLatency(prefix, name, tag) {
  return withWorker(prefix, `lat-${tag}`, async (call) => {
    const t = [];
    for (let i = 0; i < LAT; i++) {
      const s = performance.now();
      const r = await call('POST', `/collections/${name}/vectors`, { vectors: [{ id: `lat-${tag}-${i}`, vector: vec(100000 + i) }] });
      if (r.status !== 200) throw new Error(`upsert: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      t.push(performance.now() - s);
    }
    return { p50: percentile(t, 50), p99: percentile(t, 99) };
  });
}

/** Compaction through the worker (the policy), then two GC passes. */
async function compact(prefix, name) {
  return withWorker(prefix, 'compact', async (call) => {
    proxy.reset();
    const t = performance.now();
    const r = await call('POST', `/collections/${name}/compact`, {}, { timeoutMs: 600000 });
    const seconds = (performance.now() - t) / 1000;
    if (r.status !== 200) throw new Error(`compact: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    const requests = Object.values(proxy.counts).reduce((a, b) => a + b, 0);
    const gc = [];
    for (let i = 0; i < 2; i++) {
      const g = await call('POST', `/collections/${name}/gc`);
      if (g.status !== 200) throw new Error(`gc: HTTP ${g.status} ${JSON.stringify(g.body)}`);
      gc.push(g.body.deleted.length);
    }
    return { ...r.body, seconds, requests, gcDeleted: gc };
  });
}

async function measure(prefix, name, label, n) {
  log(`  ${label}: shape, ${n} cold searches, ${LAT} commits`);
  const s = await shape(prefix, name);
  const cold = await coldSearches(prefix, name, n);
  const lat = await commitLatency(prefix, name, label.replace(/\W+/g, '-'));
  return { label, ...s, cold, lat };
}

async function history(kind) {
  const prefix = freshPrefix(`bench-compaction-${kind}`);
  const t0 = performance.now();
  let made;
  if (kind === 'seed') {
    log(`seed: 5 workerd, ${SEED_N} single-record upserts at concurrency 100, automatic compaction off`);
    const servers = await startInstances({ count: 5, prefix, key: KEY, env: NO_AUTO, tag: 'bench-compaction-seed', logDir: LOG_DIR });
    try {
      const created = await client(servers[0].url, KEY)('POST', '/collections', { name: 'seed', dimension: DIM, distance: 'cosine' });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
      const run = await runUpserts({ servers, key: KEY, collection: 'seed', dim: DIM, requests: SEED_N, concurrency: 100, timeoutMs: 120000 });
      made = `${run.acked.size} of ${SEED_N} acknowledged in ${run.seconds.toFixed(1)} s`;
    } finally {
      await stopInstances(servers);
    }
  } else {
    log(`mixed: 4 writers x ${MIXED_OPS} mixed commits straight on S3, automatic compaction off`);
    const setup = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error', autoCompact: false });
    await setup.createCollection('mixed', { dimension: DIM, distance: 'cosine' });
    const script = join(ROOT, 'tests/edge/lib/mixed_writer.mjs');
    const env = { MIXED_IDS: '100', MIXED_DIM: String(DIM), MIXED_QUIET: '1' };
    const runs = await Promise.all([0, 1, 2, 3].map((w) => runNode(script, [prefix, 'mixed', String(w), String(MIXED_OPS)], { env, timeoutMs: 900000 })));
    const results = runs.map((r) => {
      if (r.code !== 0) throw new Error(`writer exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    });
    const acked = results.reduce((n, r) => n + r.acked.length, 0);
    made = `${acked} of ${4 * MIXED_OPS} commits acknowledged in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  }
  log(`  ${made}`);
  const before = await measure(prefix, kind, 'before', COLD);
  log('  compacting through the worker (policy), then 2 GC passes');
  const c = await compact(prefix, kind);
  log(`  ${JSON.stringify(c)}`);
  const after = await measure(prefix, kind, 'after', COLD);
  return { kind, made, before, compaction: c, after };
}

const results = [];
const t0 = performance.now();
for (const kind of ['seed', 'mixed']) results.push(await history(kind));
await proxy.close();
const minutes = ((performance.now() - t0) / 60000).toFixed(1);
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(results, null, 2));

console.log(`| history | state | segments | manifest | tombstones | cold search: S3 requests | cold: bytes | cold p50 | cold p99 | commit p50 | commit p99 |`);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  for (const m of [r.before, r.after]) {
    const state = m.label === 'before' ? 'before compaction' : 'after compaction + 2 GC passes';
    console.log(
      `| ${r.kind} | ${state} | ${m.segments} | ${kb(m.cold.manifestBytes)} | ${m.tombstones} | ${m.cold.requests} | ${kb(m.cold.bytes)} | ${ms(m.cold.p50)} | ${ms(m.cold.p99)} | ${ms(m.lat.p50)} | ${ms(m.lat.p99)} |`,
    );
  }
}
console.log('');
console.log('| history | compaction (policy, through the worker) | time | merges | commits | segments | S3 requests | read | rewritten | records dropped | tombstones retired | GC: objects deleted |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const c = r.compaction;
  console.log(
    `| ${r.kind} | ${r.made} | ${c.seconds.toFixed(1)} s | ${c.merges} | ${c.commits} | ${c.segmentsBefore} → ${c.segmentsAfter} | ${c.requests} | ${kb(c.bytesRead)} | ${kb(c.bytesWritten)} | ${c.recordsDropped} | ${c.tombstonesRetired} | ${c.gcDeleted.join(' + ')} |`,
  );
}
console.log('');
console.log(`Cold searches: ${COLD} fresh workerd processes per row; commit latency: ${LAT} sequential upserts; ${minutes} min in all.`);
