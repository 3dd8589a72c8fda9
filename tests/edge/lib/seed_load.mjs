// The seed's load test, shared by tests/edge/seed_load.test.mjs (small scale, asserted) and
// bench/load/bench.mjs (full and 1/10 scale, a table): N workerd instances share one bucket and
// one collection; single-record upserts are spread round-robin over them at a fixed concurrency;
// afterwards every acknowledged id is searched with its own vector (k = 1) on an instance, the
// manifest is read straight from S3 (every segment listed once, version = 1 + commits counted), and the
// instances' /metrics give commits and conflict retries.
import { createServer } from 'node:net';
import { join } from 'node:path';

import { AkiDB } from '../../../pkg/node.mjs';
import { s3Env, s3Options } from './env.mjs';
import { startWorkerd } from './procs.mjs';
import { client, lightClient, pool } from './rest.mjs';

/** True when 127.0.0.1:`port` can be bound now. */
export function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Starts `count` workerd instances on `prefix` with environment `env`, one after another (on
 * `ports` when given). On failure, stops those already started. Resolves the servers.
 */
export async function startInstances({ count, prefix, key, env = {}, ports, logDir, tag }) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      servers.push(
        await startWorkerd({
          s3: s3Env(),
          prefix,
          apiKeys: key,
          env,
          port: ports?.[i],
          logFile: join(logDir ?? process.env.LOG_DIR ?? '/tmp', `workerd-${tag}-${i}.log`),
        }),
      );
    }
  } catch (e) {
    await stopInstances(servers);
    throw e;
  }
  return servers;
}

/** Stops every server by PID (in parallel). */
export async function stopInstances(servers) {
  await Promise.all(servers.map((s) => s.stop()));
}

/** Value of an unlabelled counter in Prometheus text (0 when absent). */
export function metric(text, name) {
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * Runs `requests` single-record upserts at `concurrency` over `servers` (request i goes to
 * instance i mod N). With `capMs`, no request is started after that many ms (those in flight
 * finish). Resolves { acked: Map id→vector, issued, completed, outcomes, latencies, failures: [{ i,
 * atMs, ms, outcome, message }], seconds }.
 */
export async function runUpserts({ servers, key, collection, dim, requests, concurrency, capMs = Infinity, timeoutMs = 120000 }) {
  const calls = servers.map((s) => lightClient(s.url, key, { sockets: concurrency }));
  const acked = new Map();
  const outcomes = {};
  const latencies = [];
  const failures = [];
  let issued = 0;
  const t0 = performance.now();
  const tasks = Array.from({ length: requests }, (_, i) => async () => {
    if (performance.now() - t0 > capMs) return;
    issued++;
    const id = `u${i}`;
    const vector = Array.from({ length: dim }, () => Math.random() * 2 - 1);
    const t = performance.now();
    let outcome;
    try {
      const r = await calls[i % calls.length](
        'POST',
        `/collections/${collection}/vectors`,
        { vectors: [{ id, vector, metadata: { i } }] },
        { timeoutMs },
      );
      if (r.status === 200) {
        acked.set(id, vector);
        outcome = '200';
      } else {
        outcome = `${r.status} ${r.body?.error?.code ?? '(no code)'}`;
        failures.push({ i, atMs: Math.round(t - t0), ms: Math.round(performance.now() - t), outcome, message: r.body?.error?.message });
      }
    } catch (e) {
      outcome = `client error ${e.code ?? e.name}`;
      failures.push({ i, atMs: Math.round(t - t0), ms: Math.round(performance.now() - t), outcome, message: String(e.message) });
    }
    latencies.push(performance.now() - t);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  });
  await pool(tasks, concurrency);
  const seconds = (performance.now() - t0) / 1000;
  return { acked, issued, completed: latencies.length, outcomes, latencies, failures, seconds };
}

/**
 * Checks that nothing acknowledged is lost, with searches on the instances:
 *  1. listing: one search with k = `listK` (≥ the records written) on every instance returns
 *     every record its manifest lists; an acknowledged id missing from it is lost;
 *  2. own vector: acknowledged ids (all, or a random `sample` of them) are searched with their
 *     own vector, k = 1, on instance n mod N; a miss is retried once on the next instance, so
 *     a miss counts only when two instances do not find the record.
 * Then the manifest is read from S3 directly. Resolves { lost: [ids], missingOwn: [ids],
 * searched, listed, manifest, seconds }.
 */
export async function verify({ servers, key, prefix, collection, acked, concurrency = 20, sample = Infinity, listK = 10000 }) {
  const t0 = performance.now();
  const calls = servers.map((s) => client(s.url, key));
  const ids = [...acked.keys()];
  const search = async (n, vector, k) => {
    const r = await calls[n % calls.length]('POST', `/collections/${collection}/search`, { vector, k });
    if (r.status !== 200) throw new Error(`search HTTP ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.results;
  };
  // 1. Listing (also loads each instance's segments once, before the searches run 20 at a time).
  let listed = Infinity;
  const lost = new Set();
  if (ids.length) {
    const lists = await Promise.all(calls.map((_, n) => search(n, acked.get(ids[0]), listK)));
    for (const results of lists) {
      listed = Math.min(listed, results.length);
      const seen = new Set(results.map((h) => h.id));
      for (const id of ids) if (!seen.has(id)) lost.add(id);
    }
  }
  // 2. Own vector, k = 1.
  let chosen = ids;
  if (sample < ids.length) {
    chosen = [...ids];
    for (let i = chosen.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    }
    chosen = chosen.slice(0, sample);
  }
  const missingOwn = [];
  const errors = [];
  await pool(
    chosen.map((id, n) => async () => {
      try {
        const v = acked.get(id);
        if ((await search(n, v, 1))[0]?.id !== id && (await search(n + 1, v, 1))[0]?.id !== id) missingOwn.push(id);
      } catch (e) {
        errors.push(String(e.message));
      }
    }),
    concurrency,
  );
  if (errors.length) throw new Error(`${errors.length} verification searches failed, first: ${errors[0]}`);
  return {
    lost: [...lost],
    missingOwn,
    searched: chosen.length,
    listed: ids.length ? listed : 0,
    manifest: await readManifest(prefix, collection),
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * The committed manifest read from S3 by the Node build of the engine: version, segment count,
 * duplicate segment ids and records listed. (One commit may list several segments: a retried group
 * commit carries the callers that queued during its backoff as one more segment.)
 */
export async function readManifest(prefix, collection) {
  const db = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error' });
  const m = await (await db.collection(collection)).manifest();
  const ids = m.segments.map((s) => s.id);
  const duplicates = ids.length - new Set(ids).size;
  const records = m.segments.reduce((n, s) => n + s.record_count, 0);
  return {
    version: m.version,
    segments: m.segments.length,
    duplicates,
    records,
    totalVectors: m.total_vectors,
    tombstones: m.tombstones.length,
    gcGen: m.gc_gen,
    retired: m.retired?.length ?? 0,
  };
}

/** Sums the engine's commit counters over the instances' /metrics. */
export async function sumMetrics(servers, key) {
  const sum = { retries: 0, failures: 0, commits: 0 };
  for (const s of servers) {
    const r = await client(s.url, key)('GET', '/metrics');
    if (r.status !== 200) throw new Error(`/metrics on ${s.url}: HTTP ${r.status}`);
    sum.retries += metric(r.body, 'akidb_manifest_conflict_retries_total');
    sum.failures += metric(r.body, 'akidb_manifest_conflict_failures_total');
    sum.commits += metric(r.body, 'akidb_manifest_commits_total');
  }
  return sum;
}
