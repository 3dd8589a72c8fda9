// The seed's load test as a benchmark (issue 6): 5 REST workers on workerd share one bucket and
// one collection; single-record upserts at concurrency 100 spread round-robin over them, at full
// scale (10,000) and 1/10 scale (1,000), for group commit on/off x the seed's backoff / the
// jittered default. Prints a Markdown table. Not a test: the numbers depend on the machine.
//   bench/load/run.sh [--quick]   (starts and stops ministack; this script starts and stops workerd)
// Environment: BENCH_CAP_S (full scale: no request is started after this many seconds; default
// 180), BENCH_QUICK_CAP_S (1/10 scale, default 60), BENCH_SAMPLE (full scale: acknowledged ids
// searched with their own vector; default all), BENCH_OUT (JSON results file), BENCH_LONE
// (sequential upserts of the lone-writer comparison; 0 skips it), BENCH_CONFIGS / BENCH_SCALES /
// BENCH_WORKER_ENV (run a subset or add worker settings, for exploring; see below).
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

import { freshPrefix } from '../../tests/edge/lib/env.mjs';
import { client } from '../../tests/edge/lib/rest.mjs';
import {
  portFree,
  startInstances,
  stopInstances,
  runUpserts,
  verify,
  sumMetrics,
  percentile,
} from '../../tests/edge/lib/seed_load.mjs';

const quick = process.argv.includes('--quick');
const KEY = 'bench-load-key';
const INSTANCES = 5;
const CONCURRENCY = 100;
const DIM = 128;
const FULL = 10000;
const WANTED_PORTS = [8081, 8082, 8083, 8084, 8085];
const CAP_S = Number(process.env.BENCH_CAP_S ?? 180);
const QUICK_CAP_S = Number(process.env.BENCH_QUICK_CAP_S ?? 60);
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? Infinity);
const LOG_DIR = process.env.LOG_DIR ?? '/tmp';

// The seed's schedule exactly: 10 retries, 10 ms doubling to 5120 ms, no jitter, no time limit.
const SEED = {
  AKIDB_RETRY_JITTER: 'none',
  AKIDB_RETRY_MAX_RETRIES: '10',
  AKIDB_RETRY_INITIAL_BACKOFF_MS: '10',
  AKIDB_RETRY_MAX_BACKOFF_MS: '5120',
  AKIDB_RETRY_MAX_ELAPSED_MS: String(24 * 3600 * 1000),
};
const CONFIGS = [
  { id: 'on-jitter', label: 'on, jittered default', env: {} },
  { id: 'on-seed', label: 'on, seed backoff', env: { ...SEED } },
  { id: 'off-jitter', label: 'off, jittered default', env: { AKIDB_GROUP_COMMIT: '0' } },
  { id: 'off-seed', label: 'off, seed backoff', env: { AKIDB_GROUP_COMMIT: '0', ...SEED } },
];
const ALL_SCALES = quick ? [{ n: FULL / 10, cap: QUICK_CAP_S }] : [{ n: FULL / 10, cap: QUICK_CAP_S }, { n: FULL, cap: CAP_S }];
// For exploring one change: BENCH_CONFIGS=on-jitter,off-seed and/or BENCH_SCALES=10000 run a
// subset (the published table is always the whole run).
const pick = (all, env, key) => (env ? all.filter((x) => env.split(',').includes(String(x[key]))) : all);
// BENCH_WORKER_ENV='{"AKIDB_RETRY_MAX_BACKOFF_MS":"160"}' adds worker settings to every configuration.
const EXTRA_ENV = JSON.parse(process.env.BENCH_WORKER_ENV || '{}');
const RUN_CONFIGS = pick(CONFIGS, process.env.BENCH_CONFIGS, 'id');
// The seed's load test as published: the worker's automatic compaction (after responses, in
// waitUntil) is off, so one commit lists at least one segment and the rows stay comparable with
// earlier runs; its effect is measured by bench/compaction (BENCH_WORKER_ENV can turn it on).
const NO_AUTO_COMPACT = { AKIDB_AUTO_COMPACT: '0' };
const SCALES = pick(ALL_SCALES, process.env.BENCH_SCALES, 'n');

async function pickPorts() {
  const free = await Promise.all(WANTED_PORTS.map(portFree));
  return free.every(Boolean) ? WANTED_PORTS : null;
}

const log = (...a) => console.error(...a);

// CPU seconds (user + system) of a process, from /proc (null when unavailable).
const TICK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
  } catch {
    return 100;
  }
})();
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return null;
  }
}
const MINISTACK_PID = Number(process.env.MINISTACK_PID) || null;
function cpuNow(servers) {
  const workerd = servers.map((s) => cpuSeconds(s.child.pid));
  return {
    workerd: workerd.every((x) => x !== null) ? workerd.reduce((a, b) => a + b, 0) : null,
    s3: MINISTACK_PID ? cpuSeconds(MINISTACK_PID) : null,
    client: process.cpuUsage(),
  };
}
function cpuDelta(a, b) {
  const d = (x, y) => (x === null || y === null ? null : y - x);
  const c = process.cpuUsage(a.client);
  return { workerd: d(a.workerd, b.workerd), s3: d(a.s3, b.s3), client: (c.user + c.system) / 1e6 };
}

async function runConfig(scale, config, ports) {
  const prefix = freshPrefix(`bench-load-${config.id}-${scale.n}`);
  const servers = await startInstances({ count: INSTANCES, prefix, key: KEY, env: { ...NO_AUTO_COMPACT, ...config.env, ...EXTRA_ENV }, ports, logDir: LOG_DIR, tag: `load-${config.id}-${scale.n}` });
  try {
    const created = await client(servers[0].url, KEY)('POST', '/collections', { name: 'seed', dimension: DIM, distance: 'cosine' });
    if (created.status !== 201) throw new Error(`create: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const cpu0 = cpuNow(servers);
    const run = await runUpserts({
      servers,
      key: KEY,
      collection: 'seed',
      dim: DIM,
      requests: scale.n,
      concurrency: CONCURRENCY,
      capMs: scale.cap * 1000,
      timeoutMs: 120000,
    });
    const cpu = cpuDelta(cpu0, cpuNow(servers));
    const metrics = await sumMetrics(servers, KEY);
    const v = await verify({
      servers,
      key: KEY,
      prefix,
      collection: 'seed',
      acked: run.acked,
      sample: scale.n === FULL ? SAMPLE : Infinity,
    });
    const acked = run.acked.size;
    const m = v.manifest;
    const failures = {};
    for (const f of run.failures) failures[f.outcome] = (failures[f.outcome] ?? 0) + 1;
    const r = {
      scale: scale.n,
      config: config.id,
      label: config.label,
      issued: run.issued,
      completed: run.completed,
      capped: run.issued < scale.n,
      seconds: run.seconds,
      rps: run.completed / run.seconds,
      p50: percentile(run.latencies, 50),
      p99: percentile(run.latencies, 99),
      acked,
      ackedShare: run.completed ? acked / run.completed : 0,
      failures,
      sampleFailure: run.failures[0]?.message ?? null,
      // One message per kind of failure (a CONFLICT and a client-side error read differently).
      sampleFailures: Object.fromEntries(Object.keys(failures).map((o) => [o, run.failures.find((f) => f.outcome === o)?.message ?? null])),
      commitsPerRequest: acked ? metrics.commits / acked : NaN,
      retriesPerCommit: metrics.commits ? metrics.retries / metrics.commits : NaN,
      metrics,
      lost: v.lost.length,
      missingOwn: v.missingOwn.length,
      searchedOwn: v.searched,
      listed: v.listed,
      manifest: m,
      verifySeconds: v.seconds,
      cpu,
    };
    log(
      `${scale.n} ${config.label}: ${run.completed}/${scale.n} completed in ${run.seconds.toFixed(1)} s, ${acked} acknowledged, ` +
        `${JSON.stringify(failures)}; ${m.segments} segments, version ${m.version}, ${metrics.retries} retries; ` +
        `lost ${r.lost}, own-vector misses ${r.missingOwn}/${r.searchedOwn}; verified in ${v.seconds.toFixed(1)} s`,
    );
    return r;
  } finally {
    await stopInstances(servers);
  }
}

// A lone writer: one instance, one client, sequential single-record upserts, group commit on
// vs off (default retry policy). Group commit must not add latency when nobody else writes.
const LONE = Number(process.env.BENCH_LONE ?? 300);
async function runLone(config) {
  const prefix = freshPrefix(`bench-load-lone-${config.id}`);
  const servers = await startInstances({ count: 1, prefix, key: KEY, env: { ...NO_AUTO_COMPACT, ...config.env, ...EXTRA_ENV }, logDir: LOG_DIR, tag: `lone-${config.id}` });
  try {
    const created = await client(servers[0].url, KEY)('POST', '/collections', { name: 'seed', dimension: DIM, distance: 'cosine' });
    if (created.status !== 201) throw new Error(`create: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const run = await runUpserts({ servers, key: KEY, collection: 'seed', dim: DIM, requests: LONE, concurrency: 1 });
    const mean = run.latencies.reduce((a, b) => a + b, 0) / run.latencies.length;
    log(`lone writer, group commit ${config.label}: ${run.acked.size}/${LONE} acknowledged, p50 ${percentile(run.latencies, 50).toFixed(1)} ms`);
    return { label: config.label, acked: run.acked.size, p50: percentile(run.latencies, 50), p99: percentile(run.latencies, 99), mean };
  } finally {
    await stopInstances(servers);
  }
}

const started = new Date();
const load0 = loadavg();
const t0 = performance.now();
const results = [];
let portNote = '';
for (const scale of SCALES) {
  for (const config of RUN_CONFIGS) {
    const ports = await pickPorts();
    if (!ports) portNote = 'ports 8081-8085 were not all free: free ports were used for some configurations';
    log(`--- ${scale.n} upserts, group commit ${config.label}, ports ${ports ? ports.join(',') : 'free ports'}`);
    results.push(await runConfig(scale, config, ports ?? undefined));
  }
}
const lone = [];
if (LONE > 0) for (const config of CONFIGS.filter((c) => c.id.endsWith('-jitter'))) lone.push(await runLone(config));
const totalS = (performance.now() - t0) / 1000;
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(results, null, 2));
else writeFileSync(join(LOG_DIR, 'bench-load.json'), JSON.stringify(results, null, 2));

const pct = (x) => `${(100 * x).toFixed(2)} %`;
const num = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
console.log(
  `Seed load test: ${INSTANCES} workerd instances, one bucket + collection, single-record upserts (${DIM}-d) at concurrency ${CONCURRENCY}, round-robin. ` +
    `${started.toISOString()}; ${cpus().length} cores; load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ` +
    `${loadavg().map((x) => x.toFixed(1)).join(' ')} at end; ${(totalS / 60).toFixed(1)} min.${portNote ? ' ' + portNote + '.' : ''}`,
);
console.log('');
console.log('| upserts | group commit, backoff | completed | requests/s | p50 | p99 | acknowledged | commits/request | retries/commit | lost |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const completed = r.capped ? `${r.completed} (cap ${r.scale === FULL ? CAP_S : QUICK_CAP_S} s)` : `${r.completed}`;
  console.log(
    `| ${r.scale} | ${r.label} | ${completed} | ${num(r.rps, 1)} | ${Math.round(r.p50)} ms | ${Math.round(r.p99)} ms | ` +
      `${pct(r.ackedShare)} | ${num(r.commitsPerRequest, 3)} | ${num(r.retriesPerCommit)} | ${r.lost + r.missingOwn} |`,
  );
}
console.log('');
for (const scale of SCALES) {
  const on = results.find((r) => r.scale === scale.n && r.config === 'on-jitter');
  const base = results.find((r) => r.scale === scale.n && r.config === 'off-seed');
  if (!on || !base) continue;
  const ratio = on.rps / base.rps;
  const ok = on.ackedShare >= 0.999;
  console.log(
    `${scale.n === FULL ? 'Full scale' : '1/10 scale'}: group commit + jittered default acknowledged ${pct(on.ackedShare)} ` +
      `(goal ≥ 99.9 %: ${ok ? 'met' : 'MISSED'}), ${num(ratio, 1)}× the requests/s of one commit per request with the seed's backoff ` +
      `(goal ≥ 20×: ${ratio >= 20 ? 'met' : 'MISSED'}).`,
  );
}
const checks = results.map((r) => {
  const m = r.manifest;
  const bad = [];
  if (m.duplicates) bad.push(`${m.duplicates} duplicate segment ids`);
  if (m.version !== 1 + r.metrics.commits) bad.push(`version ${m.version} ≠ 1 + ${r.metrics.commits} commits counted`);
  if (m.records !== r.acked) bad.push(`${m.records} records listed for ${r.acked} acknowledged`);
  if (m.segments < r.metrics.commits) bad.push(`${r.metrics.commits} commits counted, only ${m.segments} segments listed`);
  return bad.length ? `${r.scale} ${r.label}: ${bad.join('; ')}` : null;
});
const problems = checks.filter(Boolean);
console.log(
  problems.length
    ? `Manifest checks: ${problems.join(' | ')}`
    : 'Manifest checks: every segment listed once, version = 1 + commits counted by the instances, records listed = acknowledged, at least one segment per commit, in every configuration.',
);
const failed = results.filter((r) => Object.keys(r.failures).length);
for (const r of failed) {
  const eg = Object.entries(r.sampleFailures).map(([o, m]) => `${o}: "${m}"`).join('; ');
  console.log(`Failures, ${r.scale} ${r.label}: ${JSON.stringify(r.failures)}; e.g. ${eg}`);
}
if (lone.length) {
  console.log('');
  console.log(`Lone writer (1 instance, 1 client, ${LONE} sequential single-record upserts, default retry policy):`);
  console.log('');
  console.log('| group commit | acknowledged | p50 | p99 | mean |');
  console.log('|---|---:|---:|---:|---:|');
  for (const l of lone) console.log(`| ${l.label.split(',')[0]} | ${l.acked}/${LONE} | ${l.p50.toFixed(1)} ms | ${l.p99.toFixed(1)} ms | ${l.mean.toFixed(1)} ms |`);
}
const cpuS = (x) => (x === null ? '?' : `${x.toFixed(0)} s`);
console.log('');
console.log('CPU during the upserts (2 cores = 2 CPU-seconds per second of wall time):');
for (const r of results) {
  console.log(
    `- ${r.scale} ${r.label}: ${r.seconds.toFixed(0)} s wall; S3 server ${cpuS(r.cpu.s3)}, 5 workerd ${cpuS(r.cpu.workerd)}, load client ${cpuS(r.cpu.client)}`,
  );
}
const sampled = results.filter((r) => r.searchedOwn < r.acked);
for (const r of sampled) console.log(`${r.scale} ${r.label}: own-vector search on a random ${r.searchedOwn} of ${r.acked} acknowledged ids (all listed by k = 10,000 searches).`);
