// The seed's load test at 1/10 scale, with the DEFAULT retry policy and group commit on:
// 5 workerd instances share one bucket and one collection; 1,000 single-record upserts at
// concurrency 100, round-robin over the instances. Asserts ≥ 99.9 % acknowledged and 0 lost
// (every acknowledged id found by a search with its own vector, k = 1), and that the manifest
// lists every segment exactly once with version = 1 + the commits the instances counted. Reports commits per request and
// retries per commit. The full scale (10,000) and the comparison with group commit off and the
// seed's backoff are in bench/load/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { freshPrefix } from './lib/env.mjs';
import { startInstances, stopInstances, runUpserts, verify, sumMetrics, percentile } from './lib/seed_load.mjs';
import { client } from './lib/rest.mjs';

const KEY = 'seed-load-key';
const INSTANCES = 5;
const REQUESTS = 1000;
const CONCURRENCY = 100;
const DIM = 128;
const prefix = freshPrefix('seed-load');
let servers = [];

before(async () => {
  // No AKIDB_RETRY_* and no AKIDB_GROUP_COMMIT: the worker's defaults.
  servers = await startInstances({ count: INSTANCES, prefix, key: KEY, tag: 'seed-load' });
});

after(async () => {
  await stopInstances(servers);
});

test('seed load, 1/10 scale: 5 workerd, 1,000 single-record upserts at concurrency 100, default retry, group commit', { timeout: 150000 }, async () => {
  const created = await client(servers[0].url, KEY)('POST', '/collections', { name: 'seed', dimension: DIM, distance: 'cosine' });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const run = await runUpserts({ servers, key: KEY, collection: 'seed', dim: DIM, requests: REQUESTS, concurrency: CONCURRENCY, timeoutMs: 60000 });
  const acked = run.acked.size;
  console.log(
    `seed load: ${REQUESTS} upserts in ${run.seconds.toFixed(1)} s (${(REQUESTS / run.seconds).toFixed(0)} req/s), ` +
      `p50 ${percentile(run.latencies, 50).toFixed(0)} ms, p99 ${percentile(run.latencies, 99).toFixed(0)} ms; outcomes ${JSON.stringify(run.outcomes)}`,
  );
  const m = await sumMetrics(servers, KEY);
  const v = await verify({ servers, key: KEY, prefix, collection: 'seed', acked: run.acked });
  const { manifest } = v;
  console.log(
    `seed load: ${acked} acknowledged, ${v.lost.length} lost (not listed), ${v.missingOwn.length} not found by own vector; manifest version ${manifest.version}, ${manifest.segments} segments ` +
      `(${manifest.duplicates} duplicate ids), ${manifest.records} records; ` +
      `commits per request ${(m.commits / acked).toFixed(3)}, retries per commit ${(m.retries / Math.max(m.commits, 1)).toFixed(2)} ` +
      `(${m.retries} retries, ${m.commits} commits counted by the instances, ${m.failures} CONFLICT failures); verified in ${v.seconds.toFixed(1)} s`,
  );
  assert.equal(run.completed, REQUESTS, 'every request got an answer');
  assert.ok(acked >= REQUESTS * 0.999, `≥ 99.9 % acknowledged: ${acked} of ${REQUESTS}, outcomes ${JSON.stringify(run.outcomes)}`);
  assert.deepEqual(v.lost, [], `${v.lost.length} of ${acked} acknowledged records not listed by a k = 10,000 search`);
  assert.deepEqual(v.missingOwn, [], `${v.missingOwn.length} of ${acked} acknowledged records not found by their own vector (k = 1)`);
  assert.equal(v.listed, manifest.records, 'a k = 10,000 search returns every listed record');
  assert.equal(manifest.duplicates, 0, 'no segment listed twice');
  assert.equal(manifest.version, 1 + m.commits, 'version = 1 + the commits the instances counted (no seals or deletes)');
  assert.ok(manifest.segments >= m.commits, 'every commit listed at least one segment');
  assert.equal(manifest.tombstones, 0);
  // Nothing but acknowledged requests committed (every request was answered, none timed out).
  assert.equal(manifest.records, acked, 'the manifest lists exactly the acknowledged records');
  assert.equal(manifest.totalVectors, acked);
  assert.ok(m.commits < acked / 2, `group commit coalesces: ${m.commits} commits for ${acked} upserts`);
});
