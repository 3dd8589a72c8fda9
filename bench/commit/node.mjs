// Commit latency and throughput of the wasm build in Node (issue 2), the async-task twin of
// `cargo bench --bench commit`.
//
// For 1, 2, 4, 8 and 16 writers: each writer is its own `AkiDB.open({ store: 'memory', name })`
// instance (like a tab) on one named in-process store, running sequential 1-record upserts; the
// writers run concurrently as async tasks on the one Node thread (Promise.all). Every row commits
// the same total number of upserts into a fresh store, so every row ends with a manifest of the
// same size.
//
// Run: scripts/build-pkg.sh (once, builds pkg/), then `node bench/commit/node.mjs`.
// Env: AKIDB_BENCH_COMMITS (commits per row, default 800), AKIDB_BENCH_LATENCIES (default "0,1").
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

const here = new URL('.', import.meta.url);
if (!existsSync(new URL('../../pkg/wasm-node/akidb.js', here))) {
  console.error('pkg/wasm-node is missing: run scripts/build-pkg.sh first');
  process.exit(1);
}
const { AkiDB } = await import('../../pkg/node.mjs');

const WRITERS = [1, 2, 4, 8, 16];
const DIMENSION = 16;
const TOTAL = Math.max(16, Math.floor(Number(process.env.AKIDB_BENCH_COMMITS ?? 800) / 16) * 16);
const LATENCIES = (process.env.AKIDB_BENCH_LATENCIES ?? '0,1').split(',').map(Number);

// Lets every commit succeed (same as the native bench).
const PATIENT = { maxRetries: 100000, initialBackoffMs: 1, maxBackoffMs: 50, multiplier: 2, jitter: 'full' };
// The engine's default (no `retry` option): 10 ms doubling to 5120 ms, 10 retries, full jitter.
const DEFAULT = undefined;

let runId = 0;

function record(writer, i) {
  const vector = new Float32Array(DIMENSION);
  for (let d = 0; d < DIMENSION; d++) vector[d] = ((writer * 31 + i * 7 + d) % 97) / 97;
  return { id: `w${writer}-${i}`, vector, metadata: { writer, i } };
}

function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

async function runRow(latencyMs, writers, retry) {
  const name = `commit-bench-${process.pid}-${runId++}`;
  const open = () => AkiDB.open({ store: 'memory', name, simulatedLatencyMs: latencyMs, retry, logLevel: 'error' });
  const setup = await open();
  await setup.createCollection('bench', { dimension: DIMENSION, distance: 'l2' });
  const perWriter = TOTAL / writers;
  const dbs = await Promise.all(Array.from({ length: writers }, open));
  const cols = await Promise.all(dbs.map((db) => db.collection('bench')));
  const batches = cols.map((_, w) => Array.from({ length: perWriter }, (_, i) => [record(w, i)]));

  const latencies = [];
  let failures = 0;
  let otherErrors = 0;
  let maxRetries = 0;
  let receiptRetries = 0;
  const start = performance.now();
  await Promise.all(
    cols.map(async (c, w) => {
      for (const batch of batches[w]) {
        const t = performance.now();
        try {
          const r = await c.upsert(batch);
          latencies.push(performance.now() - t);
          maxRetries = Math.max(maxRetries, r.retries);
          receiptRetries += r.retries;
        } catch (e) {
          if (e.code === 'CONFLICT') failures++;
          else {
            otherErrors++;
            console.error(`unexpected error: ${e.code} ${e.message}`);
          }
        }
      }
    }),
  );
  const wall = performance.now() - start;

  const metrics = dbs.map((db) => db.metrics());
  const sum = (k) => metrics.reduce((a, m) => a + m[k], 0);
  const commits = sum('manifestCommitsTotal');
  if (commits !== latencies.length) throw new Error(`metrics say ${commits} commits, saw ${latencies.length}`);
  const manifest = await (await setup.collection('bench')).manifest();
  if (manifest.segments.length !== latencies.length) throw new Error('an acknowledged commit is missing');
  await Promise.all([setup, ...dbs].map((db) => db.close()));
  latencies.sort((a, b) => a - b);
  return {
    latencyMs,
    writers,
    ok: latencies.length,
    failures,
    otherErrors,
    wall,
    latencies,
    retriesTotal: sum('manifestConflictRetriesTotal'),
    receiptRetries,
    maxRetries,
    manifestBytes: JSON.stringify(manifest).length,
    segments: manifest.segments.length,
  };
}

function printTable(rows) {
  console.log('| store | writers | commits | commits/s | p50 ms | p99 ms | max ms | retries/commit | max retries | failures |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const attempted = Math.max(1, r.ok + r.failures + r.otherErrors);
    const failures = r.otherErrors ? `${r.failures} (+${r.otherErrors} other errors)` : `${r.failures}`;
    console.log(
      `| memory, simulatedLatencyMs ${r.latencyMs} | ${r.writers} | ${r.ok} | ${(r.ok / (r.wall / 1000)).toFixed(0)} | ` +
        `${percentile(r.latencies, 0.5).toFixed(3)} | ${percentile(r.latencies, 0.99).toFixed(3)} | ` +
        `${(r.latencies.at(-1) ?? 0).toFixed(3)} | ${(r.retriesTotal / attempted).toFixed(2)} | ${r.maxRetries} | ${failures} |`,
    );
  }
}

async function runTable(retry, latencies) {
  const rows = [];
  for (const latencyMs of latencies) {
    for (const writers of WRITERS) rows.push(await runRow(latencyMs, writers, retry));
  }
  return rows;
}

const started = performance.now();
console.log('## wasm commit benchmark in Node (async tasks, one AkiDB instance per writer, one named memory store)\n');
console.log(
  `Node ${process.version}, ${availableParallelism()} cores (the benchmark uses one thread). ${TOTAL} one-record ` +
    `upserts per row split evenly over the writers, each row into a fresh named store (dimension ${DIMENSION}, l2). ` +
    'Latency = one `await collection.upsert([record])` (segment put + manifest CAS with retries and backoff, ' +
    'plus the read-your-write manifest refresh), successful commits only. retries/commit = conflict retries ' +
    '(sum of every instance\'s db.metrics()) ÷ upserts attempted. With simulatedLatencyMs 0 every store op ' +
    'completes synchronously, so an upsert never yields to another task mid-commit: the writers take turns and ' +
    'never conflict. With simulatedLatencyMs > 0 every op awaits a setTimeout of random 0..ms (wasm sleep rounds ' +
    'down to whole ms and Node runs setTimeout(0) after ≥1 ms, so at 1 ms nearly every op waits ~1 ms), and ' +
    'writers interleave between the manifest read and its CAS.\n',
);

console.log(`### Retry policy that lets every commit succeed: ${JSON.stringify(PATIENT)}\n`);
await runRow(0, 4, PATIENT); // warm-up (JIT, wasm tier-up), not reported
const rows = await runTable(PATIENT, LATENCIES);
printTable(rows);
const last = rows.at(-1);
console.log(
  `\nManifest at the end of each row: ${last.segments} segments, ${Math.round(last.manifestBytes / 1024)} KB as JSON.stringify(await collection.manifest()).\n`,
);

// With simulatedLatencyMs 0 nothing conflicts, so the policy does not matter there.
const contended = LATENCIES.filter((ms) => ms > 0);
console.log(
  '### Default policy (no `retry` option): 10 ms doubling to 5120 ms, max 10 retries, full jitter ' +
    `(simulatedLatencyMs ${contended.join(', ')} only: at 0 nothing conflicts)\n`,
);
const drows = await runTable(DEFAULT, contended);
printTable(drows);
const failed = drows.reduce((a, r) => a + r.failures, 0);
console.log(`\nDefault policy: ${failed} of ${drows.length * TOTAL} upserts failed with CONFLICT (retries exhausted).`);
console.log(`\nTotal bench time ${((performance.now() - started) / 1000).toFixed(1)} s.`);
