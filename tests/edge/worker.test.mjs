// The REST worker on workerd against the run's S3 server: a full round trip, API-key
// rejection, bad JSON, oversized batches and unknown routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { s3Env, freshPrefix } from './lib/env.mjs';
import { startWorkerd } from './lib/procs.mjs';
import { client } from './lib/rest.mjs';

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
  assert.deepEqual((await call('GET', '/health', undefined, { key: null })).body, { status: 'ok' });
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
  assert.match(r.body, /^manifest_commits_total \d+$/m);
  assert.match(r.body, /^manifest_persist_duration_seconds_count \d+$/m);
  assert.match(r.body, /akidb_http_requests_total\{method="POST",route="\/collections\/:name\/vectors",status="200"\} 1/);

  r = await call('DELETE', '/collections/docs');
  assert.deepEqual(r.body, { dropped: 'docs' });
  r = await call('GET', '/collections/docs');
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'NOT_FOUND');
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
