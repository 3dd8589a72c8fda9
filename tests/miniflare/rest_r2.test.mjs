// The REST worker (www/worker/src, unchanged) on Miniflare with an R2 bucket binding `BUCKET`
// and no S3 settings at all: the round trip (create, upsert, search, delete, manifest, metrics,
// keys under STORE_PREFIX), then concurrency — 120 concurrent upsert requests on one instance
// with one commit per request (every version acknowledged exactly once, versions dense) and with
// group commit (nothing lost or duplicated, every version from 2 to the last acknowledged by
// someone) — and 3 instances on one persisted bucket. Needs pkg/ built.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { call, start } from './lib/mf.mjs';

const KEY = 'test-key';
const AUTH = { authorization: `Bearer ${KEY}` };
const BASE_ENV = {
  API_KEYS: KEY,
  STORE_PREFIX: 'tenant/',
  AUTO_COMPACT: '0',
  LOG_LEVEL: 'error',
  RETRY_MAX_RETRIES: '200',
  RETRY_MAX_ELAPSED_MS: '120000',
  RETRY_MAX_BACKOFF_MS: '100',
};

const instances = [];
const dirs = [];
after(async () => {
  await Promise.all(instances.map((m) => m.dispose()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function worker(env = {}, r2Persist) {
  const mf = await start({ bindings: { ...BASE_ENV, ...env }, r2Persist });
  instances.push(mf);
  return mf;
}

const rest = (mf, method, url, body) => call(mf, method, url, body, AUTH);
const vec = (i) => [Math.cos(i), Math.sin(i), (i % 3) / 3, 1];

async function allIds(mf, name, n) {
  const r = await rest(mf, 'POST', `/collections/${name}/search`, { vector: vec(0), k: n + 10 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results.map((h) => h.id);
}

test('REST round trip on an R2 binding: create, upsert, search, delete, manifest, metrics', async () => {
  const mf = await worker();
  assert.equal((await call(mf, 'GET', '/health')).status, 200);
  let r = await rest(mf, 'POST', '/collections', { name: 'docs', dimension: 4, distance: 'cosine' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await rest(mf, 'POST', '/collections/docs/vectors', {
    vectors: [
      { id: 'a', vector: [1, 0, 0, 0], metadata: { tag: 'x' } },
      { id: 'b', vector: [0, 1, 0, 0], metadata: { tag: 'y' } },
      { id: 'c', vector: [0.9, 0.1, 0, 0], metadata: { tag: 'x' } },
    ],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.version, 2);
  r = await rest(mf, 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: 2, includeMetadata: true, filter: { must: [{ key: 'tag', match: 'x' }] } });
  assert.deepEqual(r.body.results.map((h) => h.id), ['a', 'c']);
  assert.equal(r.body.results[0].metadata.tag, 'x');
  r = await rest(mf, 'POST', '/collections/docs/delete', { ids: ['a'] });
  assert.equal(r.body.version, 3);
  assert.deepEqual((await allIds(mf, 'docs', 3)).sort(), ['b', 'c']);
  r = await rest(mf, 'GET', '/collections/docs');
  assert.equal(r.body.version, 3);
  assert.equal((await rest(mf, 'GET', '/collections')).body.collections[0].name, 'docs');
  assert.match((await rest(mf, 'GET', '/metrics')).body, /akidb_manifest_commits_total/);
  assert.equal((await call(mf, 'GET', '/collections')).status, 401, 'still needs a key');
  // Everything went to the bound bucket, under the prefix.
  const keys = (await (await mf.getR2Bucket('BUCKET')).list()).objects.map((o) => o.key);
  assert.ok(keys.includes('tenant/collections/docs/manifest.json'), keys.join());
  assert.ok(keys.every((k) => k.startsWith('tenant/collections/docs/')), keys.join());
  assert.ok(keys.some((k) => k.endsWith('.seg')));
  assert.equal((await rest(mf, 'DELETE', '/collections/docs')).status, 200);
  assert.equal((await rest(mf, 'GET', '/collections/docs')).status, 404);
});

async function concurrentUpserts(mfs, name, perInstance) {
  const results = await Promise.all(
    mfs.flatMap((mf, m) =>
      Array.from({ length: perInstance }, (_, i) =>
        rest(mf, 'POST', `/collections/${name}/vectors`, { vectors: [{ id: `m${m}-${i}`, vector: vec(m * perInstance + i) }] }),
      ),
    ),
  );
  const failed = results.filter((r) => r.status !== 200);
  assert.deepEqual(failed.map((r) => `${r.status} ${JSON.stringify(r.body)}`), [], 'every upsert acknowledged');
  return results.map((r) => r.body.version);
}

test('120 concurrent upsert requests, one commit each: all acknowledged, versions 2..121 each once', async () => {
  const mf = await worker({ GROUP_COMMIT: '0' });
  assert.equal((await rest(mf, 'POST', '/collections', { name: 'c1', dimension: 4 })).status, 201);
  const versions = (await concurrentUpserts([mf], 'c1', 120)).sort((a, b) => a - b);
  assert.deepEqual(versions, Array.from({ length: 120 }, (_, i) => i + 2));
  const ids = await allIds(mf, 'c1', 120);
  assert.equal(ids.length, 120);
  assert.equal(new Set(ids).size, 120);
  assert.equal((await rest(mf, 'GET', '/collections/c1')).body.version, 121);
});

test('120 concurrent upsert requests with group commit: nothing lost or duplicated, versions dense', async () => {
  const mf = await worker();
  assert.equal((await rest(mf, 'POST', '/collections', { name: 'c2', dimension: 4 })).status, 201);
  const versions = await concurrentUpserts([mf], 'c2', 120);
  const last = (await rest(mf, 'GET', '/collections/c2')).body.version;
  // Every commit acknowledged someone (no version without an upsert in it, none skipped).
  assert.deepEqual([...new Set(versions)].sort((a, b) => a - b), Array.from({ length: last - 1 }, (_, i) => i + 2));
  const ids = await allIds(mf, 'c2', 120);
  assert.equal(new Set(ids).size, 120);
  assert.equal(ids.length, 120);
});

test('3 instances on one persisted bucket, 40 concurrent upserts each: 120 records, versions dense', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'akidb-r2-rest-'));
  dirs.push(dir);
  const mfs = await Promise.all([0, 1, 2].map(() => worker({ GROUP_COMMIT: '0' }, dir)));
  assert.equal((await rest(mfs[0], 'POST', '/collections', { name: 'c3', dimension: 4 })).status, 201);
  const versions = (await concurrentUpserts(mfs, 'c3', 40)).sort((a, b) => a - b);
  assert.deepEqual(versions, Array.from({ length: 120 }, (_, i) => i + 2));
  for (const mf of mfs) {
    const ids = await allIds(mf, 'c3', 120);
    assert.equal(new Set(ids).size, 120, 'every instance sees all records');
  }
});
