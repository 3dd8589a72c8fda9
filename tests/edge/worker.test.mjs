// The REST worker on workerd against the run's S3 server: a full round trip, API-key
// rejection, bad JSON, oversized batches and unknown routes; and, through a fault proxy,
// OUTCOME_UNKNOWN as 503 with an operationId, its settlement by the operations route, and GC of
// the orphans failed writes leave behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { s3Env, freshPrefix } from './lib/env.mjs';
import { startWorkerd } from './lib/procs.mjs';
import { client } from './lib/rest.mjs';
import { startFaultProxy } from './lib/fault_proxy.mjs';

const KEY = 'test-key-0123456789';
let server;
let call;

before(async () => {
  server = await startWorkerd({
    s3: s3Env(),
    prefix: freshPrefix('worker'),
    apiKeys: `other-key,${KEY}`,
    logFile: join(process.env.LOG_DIR ?? '/tmp', 'workerd-worker-test.log'),
  });
  call = client(server.url, KEY);
});

after(async () => {
  await server?.stop();
});

test('REST round trip: create, upsert, search, delete, seal, metrics, drop', async () => {
  const health = (await call('GET', '/health', undefined, { key: null })).body;
  assert.equal(health.status, 'ok');
  assert.match(health.instance, /^[0-9a-f-]{36}$/);
  assert.equal(typeof health.requests, 'number');
  let r = await call('POST', '/collections', { name: 'docs', dimension: 3, distance: 'cosine' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(r.body, { name: 'docs', dimension: 3, distance: 'cosine', totalVectors: 0, version: 1 });
  r = await call('POST', '/collections', { name: 'docs', dimension: 3 });
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'ALREADY_EXISTS');

  r = await call('POST', '/collections/docs/vectors', {
    vectors: [
      { id: 'east', vector: [1, 0, 0], metadata: { dir: 'e', n: 1 } },
      { id: 'north', vector: [0, 1, 0], metadata: { dir: 'n', n: 2 } },
      { id: 'up', vector: [0, 0, 1], metadata: { dir: 'u', n: 3 } },
    ],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.upserted, 3);
  assert.equal(r.body.version, 2);
  const segmentId = r.body.segmentId;
  assert.match(segmentId, /^[0-9a-f-]{36}$/);

  r = await call('POST', '/collections/docs/search', { vector: [1, 0.1, 0], k: 2, includeMetadata: true });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.results.map((h) => h.id), ['east', 'north']);
  assert.deepEqual(r.body.results[0].metadata, { dir: 'e', n: 1 });
  r = await call('POST', '/collections/docs/search', {
    vector: [1, 0, 0],
    k: 3,
    filter: { must: [{ key: 'n', range: { gte: 2 } }] },
  });
  assert.deepEqual(r.body.results.map((h) => h.id).sort(), ['north', 'up']);

  r = await call('POST', '/collections/docs/delete', { ids: ['east'] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { deleted: 1, version: 3 });
  r = await call('POST', '/collections/docs/search', { vector: [1, 0, 0], k: 3 });
  assert.ok(!r.body.results.some((h) => h.id === 'east'), 'deleted record is gone');

  r = await call('POST', `/collections/docs/segments/${segmentId}/seal`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { segmentId, version: 4 });
  r = await call('POST', '/collections/docs/segments/00000000-0000-4000-8000-000000000000/seal');
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'NOT_FOUND');

  r = await call('GET', '/collections/docs');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { name: 'docs', dimension: 3, distance: 'cosine', totalVectors: 3, version: 4, segments: 1 });
  r = await call('GET', '/collections');
  assert.deepEqual(r.body.collections.map((c) => [c.name, c.version]), [['docs', 4]]);

  r = await call('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.match(r.body, /^akidb_manifest_commits_total \d+$/m);
  assert.match(r.body, /^akidb_manifest_persist_duration_seconds_count \d+$/m);
  assert.match(r.body, /akidb_http_requests_total\{method="POST",route="\/collections\/:name\/vectors",status="200"\} 1/);

  r = await call('DELETE', '/collections/docs');
  assert.deepEqual(r.body, { dropped: 'docs' });
  r = await call('GET', '/collections/docs');
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'NOT_FOUND');
});

test('POST /collections/:name/get: records in the order asked, nulls, float32 bits through JSON, strict body, 413 past 1,000 ids', async () => {
  let r = await call('POST', '/collections', { name: 'recs', dimension: 4, distance: 'l2' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const f32 = (xs) => Array.from(new Float32Array(xs));
  const vectors = [
    { id: 'a', vector: f32([0.1, -2.5e-7, 1 / 3, 123456.789]), metadata: { n: 1 } },
    { id: 'b', vector: f32([-1.5, 1e-38, 3.4e38, -7.25]) }, // (JSON has no -0: it would arrive as 0)
  ];
  r = await call('POST', '/collections/recs/vectors', { vectors });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await call('POST', '/collections/recs/delete', { ids: ['b'] });
  await call('POST', '/collections/recs/vectors', { vectors: [{ ...vectors[1], metadata: { again: true } }] });
  r = await call('POST', '/collections/recs/get', { ids: ['b', 'zz', 'a'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.records[1], null);
  assert.deepEqual(r.body.records[0], { id: 'b', vector: vectors[1].vector, metadata: { again: true } });
  assert.deepEqual(r.body.records[2], { id: 'a', vector: vectors[0].vector, metadata: { n: 1 } });
  const bits = (v) => Array.from(new Uint32Array(new Float32Array(v).buffer));
  assert.deepEqual(bits(r.body.records[2].vector), bits(vectors[0].vector));
  r = await call('POST', '/collections/recs/get', { ids: ['a'], includeVectors: false, includeMetadata: false });
  assert.deepEqual(r.body.records, [{ id: 'a' }]);
  r = await call('POST', '/collections/recs/get', { ids: ['a'], withVectors: true });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /withVectors/);
  r = await call('POST', '/collections/recs/get', { ids: 'a' });
  assert.equal(r.status, 400);
  r = await call('POST', '/collections/recs/get', { ids: Array.from({ length: 1001 }, (_, i) => `x${i}`) });
  assert.equal(r.status, 413);
  r = await call('POST', '/collections/nope/get', { ids: ['a'] });
  assert.equal(r.status, 404);
  await call('DELETE', '/collections/recs');
});

test('API keys: missing or wrong keys get 401 JSON; X-API-Key works too', async () => {
  for (const key of [null, 'wrong', `${KEY}x`, '']) {
    const r = await call('GET', '/collections', undefined, { key });
    assert.equal(r.status, 401, `key ${JSON.stringify(key)}`);
    assert.equal(r.body.error.code, 'UNAUTHENTICATED');
    assert.ok(!JSON.stringify(r.body).includes(KEY), 'keys are never echoed');
  }
  const res = await fetch(`${server.url}/collections`, { headers: { 'x-api-key': KEY } });
  assert.equal(res.status, 200);
  const metrics = await fetch(`${server.url}/metrics`);
  assert.equal(metrics.status, 401, 'metrics need a key too');
});

test('bad JSON and bad fields are 400, oversized batches 413, unknown routes 404, wrong methods 405', async () => {
  await call('POST', '/collections', { name: 'v', dimension: 2, distance: 'l2' });
  let r = await call('POST', '/collections/v/vectors', undefined, { raw: '{"vectors": [' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
  assert.match(r.body.error.message, /not valid JSON/);
  r = await call('POST', '/collections/v/search', undefined, { raw: '[1,2]' });
  assert.equal(r.status, 400);
  r = await call('POST', '/collections/v/vectors', { vectors: [{ id: 'a', vector: [1, 2, 3] }] });
  assert.equal(r.status, 400, 'wrong dimension');
  assert.match(r.body.error.message, /dimension/);
  r = await call('POST', '/collections/v/search', { vector: [1, 0], k: 0 });
  assert.equal(r.status, 400);
  r = await call('POST', '/collections', { name: 'a/b', dimension: 2 });
  assert.equal(r.status, 400);

  const many = Array.from({ length: 10001 }, (_, i) => ({ id: `r${i}`, vector: [1, 0] }));
  r = await call('POST', '/collections/v/vectors', { vectors: many });
  assert.equal(r.status, 413);
  assert.equal(r.body.error.code, 'PAYLOAD_TOO_LARGE');
  r = await call('POST', '/collections/v/vectors', { vectors: many.slice(0, 10000) });
  assert.equal(r.status, 200, '10,000 is allowed');
  assert.equal(r.body.upserted, 10000);

  r = await call('GET', '/nope');
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'NOT_FOUND');
  r = await call('PUT', '/collections');
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, POST');
  r = await call('POST', '/collections/missing/search', { vector: [1, 0] });
  assert.equal(r.status, 404);
});

test('operations and gc routes: bad ids 400, unknown collections 404, GC of a fresh collection', async () => {
  let r = await call('POST', '/collections', { name: 'ops', dimension: 2 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await call('GET', '/collections/ops/operations/not-an-operation');
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
  assert.equal(r.body.error.operationId, undefined, 'only OUTCOME_UNKNOWN carries an operationId');
  // Well-formed, never seen: with no version range recorded nothing can be proven.
  r = await call('GET', `/collections/ops/operations/${'ab'.repeat(16)}.-.-.-`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { status: 'unknown' });
  r = await call('GET', `/collections/missing/operations/${'ab'.repeat(16)}.-.-.-`);
  assert.equal(r.status, 404);
  // A create whose outcome is unknown (version 0 of the incarnation it would start) is answered
  // without a collection to open: it could still land.
  r = await call('GET', `/collections/missing/operations/${'ab'.repeat(16)}.-.0.0`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { status: 'unknown' });
  r = await call('POST', '/collections/ops/operations/x');
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET');

  r = await call('POST', '/collections/ops/gc');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { generation: 2, deleted: [], keptRecent: 0, keptUnknown: 0 });
  r = await call('GET', '/collections/ops');
  assert.equal(r.body.version, 2, 'a GC pass is one commit');
  r = await call('POST', '/collections/missing/gc');
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'NOT_FOUND');
  r = await call('GET', '/collections/ops/gc');
  assert.equal(r.status, 405);
});

test('through a fault proxy: OUTCOME_UNKNOWN is 503 + operationId (no Retry-After), settled by the operations route; GC collects orphans', async () => {
  const proxy = await startFaultProxy({ target: s3Env().endpoint, seed: 7 });
  const server2 = await startWorkerd({
    s3: { ...s3Env(), endpoint: proxy.url },
    prefix: freshPrefix('worker-faults'),
    apiKeys: KEY,
    // A small budget, so a manifest blackout outlasts it.
    env: { AKIDB_RETRY_MAX_RETRIES: '5', AKIDB_RETRY_MAX_ELAPSED_MS: '800', AKIDB_RETRY_MAX_BACKOFF_MS: '100', AKIDB_GROUP_COMMIT_LEASE_MS: '30000' },
    logFile: join(process.env.LOG_DIR ?? '/tmp', 'workerd-worker-faults.log'),
  });
  const c = client(server2.url, KEY);
  const upsert = (id, x) => c('POST', '/collections/f/vectors', { vectors: [{ id, vector: [x, 1] }] });
  const ids = async () => (await c('POST', '/collections/f/search', { vector: [1, 1], k: 100 })).body.results.map((h) => h.id).sort();
  const dark = { chance: 1, ms: 3000, max: 1 };
  try {
    assert.equal((await c('POST', '/collections', { name: 'f', dimension: 2 })).status, 201);
    assert.equal((await upsert('a', 1)).body.version, 2);

    // The manifest PUT lands, the worker sees 503, then cannot re-read before its budget ends.
    proxy.configure({ kinds: ['PUT manifest'], manifest503After: 1, blackout: dark });
    let r = await upsert('b', 2);
    proxy.configure({ kinds: null, manifest503After: 0, blackout: { max: 0 } });
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'OUTCOME_UNKNOWN');
    assert.match(r.body.error.operationId, /^[0-9a-f]{32}\./);
    assert.equal(r.headers.get('retry-after'), null, 'no Retry-After: resending blindly is not safe');
    r = await c('GET', `/collections/f/operations/${encodeURIComponent(r.body.error.operationId)}`);
    assert.deepEqual(r.body, { status: 'committed', version: 3 });

    // The manifest PUT never reaches the store, the worker sees 500, then the manifest goes dark.
    proxy.configure({ kinds: ['PUT manifest'], error500: 1, blackout: { ...dark, max: 2 } });
    r = await upsert('c', 3);
    proxy.configure({ kinds: null, error500: 0, blackout: { max: 0 } });
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'OUTCOME_UNKNOWN');
    const op = encodeURIComponent(r.body.error.operationId);
    r = await c('GET', `/collections/f/operations/${op}`);
    assert.deepEqual(r.body, { status: 'unknown' }, 'a delayed attempt could still land on version 3');
    assert.equal((await upsert('d', 4)).body.version, 4);
    r = await c('GET', `/collections/f/operations/${op}`);
    assert.deepEqual(r.body, { status: 'not_committed' }, 'the manifest moved past every version it could have landed on');
    assert.deepEqual(await ids(), ['a', 'b', 'd']);

    // Every commit loses its compare-and-swap: CONFLICT (safe to resend: Retry-After), nothing committed.
    proxy.configure({ refuse: { 'PUT manifest': 412 } });
    r = await upsert('e', 5);
    proxy.configure({ refuse: {} });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'CONFLICT');
    assert.equal(r.headers.get('retry-after'), '1');

    // The segments of 'c' and 'e' are orphans: kept by the first pass, deleted by the second.
    r = await c('POST', '/collections/f/gc');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { generation: 2, deleted: [], keptRecent: 2, keptUnknown: 0 });
    r = await c('POST', '/collections/f/gc');
    assert.equal(r.body.generation, 3);
    assert.equal(r.body.deleted.length, 2, JSON.stringify(r.body));
    assert.ok(r.body.deleted.every((k) => /collections\/f\/1\/segments\/1-[0-9a-f-]{36}\.seg$/.test(k)), JSON.stringify(r.body));
    assert.equal(r.body.keptRecent, 0);
    assert.deepEqual(await ids(), ['a', 'b', 'd'], 'GC deleted no listed segment');
    r = await c('GET', '/collections/f');
    assert.deepEqual([r.body.version, r.body.segments], [6, 3], '1 + 3 upsert commits + 2 GC commits');
  } finally {
    await server2.stop();
    await proxy.close();
  }
});

test('GROUP_COMMIT_LEASE_MS: an unusable lease fails loudly (500 MISCONFIGURED), never silently defaults', async () => {
  const bad = await startWorkerd({
    s3: s3Env(),
    prefix: freshPrefix('worker-lease'),
    apiKeys: KEY,
    env: { AKIDB_GROUP_COMMIT_LEASE_MS: '0' },
    logFile: join(process.env.LOG_DIR ?? '/tmp', 'workerd-worker-lease.log'),
  });
  try {
    const r = await client(bad.url, KEY)('GET', '/collections');
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, 'MISCONFIGURED');
    assert.match(r.body.error.message, /leaderLeaseMs/);
  } finally {
    await bad.stop();
  }
});

test('compaction: automatic after writes (ctx.waitUntil, one at a time), POST /compact with and without a body, bad bodies 400', async () => {
  assert.equal((await call('POST', '/collections', { name: 'cmp', dimension: 2, distance: 'l2' })).status, 201);
  const info = async () => (await call('GET', '/collections/cmp')).body;
  const all = async () =>
    (await call('POST', '/collections/cmp/search', { vector: [0, 0], k: 100, includeMetadata: true })).body.results
      .map((h) => [h.id, h.score, h.metadata])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  // 20 single-record writes, one after another (overwrites and deletes among them).
  let most = 0;
  const live = new Set();
  for (let i = 0; i < 20; i++) {
    const r = await call('POST', '/collections/cmp/vectors', { vectors: [{ id: `r${i % 15}`, vector: [i, 1], metadata: { i } }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    live.add(`r${i % 15}`);
    if (i % 6 === 5) {
      assert.equal((await call('POST', '/collections/cmp/delete', { ids: [`r${i - 2}`, `ghost${i}`] })).status, 200);
      live.delete(`r${i - 2}`);
    }
    most = Math.max(most, (await info()).segments);
    // A client that pauses between writes: the compaction after a response (a random pause of up
    // to 250 ms first) gets to run while the writes go on.
    await new Promise((r) => setTimeout(r, 50));
  }
  // The last automatic compaction runs after its response: wait for it.
  let segments = (await info()).segments;
  for (let t = 0; t < 100 && segments >= 8; t++) {
    await new Promise((r) => setTimeout(r, 50));
    segments = (await info()).segments;
  }
  const metrics = (await call('GET', '/metrics')).body;
  const merged = Number(/^akidb_compactions_total\{trigger="auto",outcome="merged"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  console.log(`worker auto compaction: 20 writes -> ${segments} segments (peak ${most}), ${merged} automatic compactions merged`);
  assert.ok(merged >= 1, metrics);
  assert.match(metrics, /^akidb_compaction_merges_total [1-9]\d*$/m);
  assert.ok(segments < 8, `${segments} segments after the writes`);
  assert.ok(most < 20, `compaction ran while writing (peak ${most})`);
  const before = await all();
  assert.deepEqual(before.map(([id]) => id), [...live].sort());

  // No body: the policy. A JSON body: full, then a GC pass.
  let r = await call('POST', '/collections/cmp/compact');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (const k of ['version', 'segmentsBefore', 'segmentsAfter', 'recordsDropped', 'tombstonesRetired', 'bytesRead', 'bytesWritten', 'merges', 'superseded']) {
    assert.equal(typeof r.body[k], 'number', `${k} in ${JSON.stringify(r.body)}`);
  }
  await call('POST', '/collections/cmp/vectors', { vectors: [{ id: 'r0', vector: [100, 1], metadata: { last: true } }] });
  r = await call('POST', '/collections/cmp/compact', { full: true, gc: true });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.merges, 1);
  assert.equal(r.body.segmentsAfter, 1);
  assert.equal(typeof r.body.gc?.generation, 'number', JSON.stringify(r.body));
  const after = await all();
  assert.deepEqual(after.filter(([id]) => id !== 'r0'), before.filter(([id]) => id !== 'r0'), 'compaction changed no record');
  assert.deepEqual(after.find(([id]) => id === 'r0')[2], { last: true }, 'the newest version wins');
  const m = await info();
  assert.equal(m.segments, 1);
  assert.equal(m.totalVectors, live.size, 'only live records are stored');
  assert.match((await call('GET', '/metrics')).body, /^akidb_compactions_total\{trigger="request",outcome="merged"\} [12]$/m);

  for (const [body, pattern] of [
    [{ maxRounds: 0 }, /maxRounds/],
    [{ maxInputBytes: 1.5 }, /maxInputBytes/],
    [{ full: 'yes' }, /full/],
    [{ fast: true }, /unknown field 'fast'/],
  ]) {
    r = await call('POST', '/collections/cmp/compact', body);
    assert.equal(r.status, 400, JSON.stringify([body, r.body]));
    assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
    assert.match(r.body.error.message, pattern);
  }
  r = await call('POST', '/collections/cmp/compact', undefined, { raw: '[1]' });
  assert.equal(r.status, 400);
  r = await call('GET', '/collections/cmp/compact');
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'POST');
  r = await call('POST', '/collections/missing/compact');
  assert.equal(r.status, 404);
  assert.equal((await info()).version, m.version, 'refused requests commit nothing');
});
