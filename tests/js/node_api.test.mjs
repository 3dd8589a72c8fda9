// Drives the npm package's JS surface in Node (ESM and CommonJS) through node:test.
// Requires pkg/ to be built (scripts/build-pkg.sh; scripts/test.sh does it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { AkiDB } from '../../pkg/node.mjs';

const require = createRequire(import.meta.url);

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, 'errors are Error objects');
    assert.equal(e.code, code, `code of: ${e.message}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('create, list, upsert, manifest, seal, drop', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  const info = await db.createCollection('docs', { dimension: 4, distance: 'l2' });
  assert.deepEqual(info, { name: 'docs', dimension: 4, distance: 'l2', totalVectors: 0, version: 1 });
  const docs = await db.collection('docs');
  assert.equal(docs.name, 'docs');
  const r = await docs.upsert([
    { id: 'a', vector: new Float32Array([1, 0, 0, 0]), metadata: { tag: 'x', n: 1 } },
    { id: 'b', vector: [0, 1, 0, 0] },
  ]);
  assert.match(r.segmentId, /^[0-9a-f-]{36}$/);
  assert.equal(r.version, 2);
  const m = await docs.manifest();
  assert.equal(m.version, 2);
  assert.equal(m.segments.length, 1);
  assert.equal(m.segments[0].id, r.segmentId);
  assert.equal(m.segments[0].state, 'Active');
  assert.equal(m.segments[0].record_count, 2);
  const s = await docs.seal(r.segmentId);
  assert.equal(s.version, 3);
  assert.equal((await docs.manifest()).segments[0].state, 'Sealed');
  const list = await db.listCollections();
  assert.deepEqual(list.map((c) => [c.name, c.totalVectors, c.version]), [['docs', 2, 3]]);
  await db.dropCollection('docs');
  assert.deepEqual(await db.listCollections(), []);
  await rejectsWith(db.collection('docs'), 'NOT_FOUND');
  await db.close();
});

test('search returns best first with metadata', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('c', { dimension: 2, distance: 'cosine' });
  const c = await db.collection('c');
  await c.upsert([
    { id: 'east', vector: [1, 0], metadata: { dir: 'e' } },
    { id: 'north', vector: [0, 1], metadata: { dir: 'n' } },
    { id: 'ne', vector: [1, 1], metadata: { dir: 'ne' } },
  ]);
  const hits = await c.search([1, 0.1], { k: 2, includeMetadata: true });
  assert.deepEqual(hits.map((h) => h.id), ['east', 'ne']);
  assert.ok(hits[0].score > hits[1].score);
  assert.ok(Math.abs(hits[0].score - 1 / Math.hypot(1, 0.1)) < 1e-5, 'cosine similarity');
  assert.deepEqual(hits[0].metadata, { dir: 'e' });
  const filtered = await c.search([1, 0], { k: 3, filter: { must: [{ key: 'dir', match: 'n' }] } });
  assert.deepEqual(filtered.map((h) => h.id), ['north']);
  assert.equal(filtered[0].metadata, undefined, 'no metadata unless asked');
});

test('bad input is rejected with codes and writes nothing', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await rejectsWith(db.createCollection('', { dimension: 3 }), 'INVALID_ARGUMENT', /empty/);
  await rejectsWith(db.createCollection('a/b', { dimension: 3 }), 'INVALID_ARGUMENT', /'\/'/);
  await rejectsWith(db.createCollection('x'.repeat(129), { dimension: 3 }), 'INVALID_ARGUMENT', /129 bytes/);
  await rejectsWith(db.createCollection('ok', { dimension: 0 }), 'INVALID_ARGUMENT', /dimension/);
  await rejectsWith(db.createCollection('ok', { dimension: 4097 }), 'INVALID_ARGUMENT', /4097/);
  await rejectsWith(db.createCollection('ok', { dimension: 3, distance: 'manhattan' }), 'INVALID_ARGUMENT', /manhattan/);
  await db.createCollection('ok', { dimension: 3 });
  await rejectsWith(db.createCollection('ok', { dimension: 3 }), 'ALREADY_EXISTS');
  const c = await db.collection('ok');
  await rejectsWith(c.upsert([{ id: 'a', vector: [1, 2] }]), 'INVALID_ARGUMENT', /dimension 2/);
  await rejectsWith(c.upsert([{ id: 'a', vector: [1, NaN, 2] }]), 'INVALID_ARGUMENT', /NaN/);
  await rejectsWith(c.upsert([{ id: 'a', vector: [1, Infinity, 2] }]), 'INVALID_ARGUMENT', /inf/);
  await rejectsWith(c.upsert([]), 'INVALID_ARGUMENT', /empty/);
  await rejectsWith(c.upsert([{ id: 'a', vector: [1, 1, 1] }, { id: 'a', vector: [1, 1, 1] }]), 'INVALID_ARGUMENT', /duplicate id/);
  await rejectsWith(c.upsert([{ id: 7, vector: [1, 1, 1] }]), 'INVALID_ARGUMENT', /records\[0\]\.id/);
  await rejectsWith(c.upsert([{ id: 'a', vector: 'nope' }]), 'INVALID_ARGUMENT', /records\[0\]\.vector/);
  await rejectsWith(c.upsert('nope'), 'INVALID_ARGUMENT', /array/);
  await rejectsWith(c.seal('not-a-uuid'), 'INVALID_ARGUMENT', /UUID/);
  await rejectsWith(c.seal('00000000-0000-0000-0000-000000000000'), 'NOT_FOUND');
  await rejectsWith(c.search([1, 2], { k: 1 }), 'INVALID_ARGUMENT', /dimension/);
  await rejectsWith(c.search([1, 2, 3], { k: 0 }), 'INVALID_ARGUMENT', /k must be/);
  await rejectsWith(c.search([1, 2, 3], { k: 1, filter: { mustt: [] } }), 'INVALID_ARGUMENT', /mustt/);
  await rejectsWith(AkiDB.open({ store: 'floppy' }), 'INVALID_ARGUMENT', /floppy/);
  const m = await c.manifest();
  assert.equal(m.version, 1, 'nothing was committed');
  assert.equal(m.segments.length, 0);
});

test('eight concurrent writers on a shared store lose nothing and retry', async () => {
  const name = `shared-${process.pid}-${Date.now()}`;
  const opts = { store: 'memory', name, simulatedLatencyMs: 2, retry: { maxRetries: 100, maxBackoffMs: 50 } };
  const setup = await AkiDB.open(opts);
  await setup.createCollection('c', { dimension: 8, distance: 'dot' });
  const writers = await Promise.all(Array.from({ length: 8 }, () => AkiDB.open(opts)));
  const acks = await Promise.all(
    writers.map(async (db, w) => {
      const c = await db.collection('c');
      const out = [];
      for (let i = 0; i < 5; i++) {
        const vector = Array.from({ length: 8 }, (_, j) => Math.sin(w * 31 + i * 7 + j));
        out.push((await c.upsert([{ id: `w${w}-${i}`, vector }])).segmentId);
      }
      return out;
    }),
  );
  const c = await setup.collection('c');
  const m = await c.manifest();
  const listed = new Set(m.segments.map((s) => s.id));
  assert.equal(m.segments.length, 40);
  assert.equal(listed.size, 40, 'no duplicates');
  for (const id of acks.flat()) assert.ok(listed.has(id), `acknowledged segment ${id} is listed`);
  assert.equal(m.version, 41);
  assert.equal(await c.count(), 40);
  const retries = writers.reduce((n, db) => n + db.metrics().manifestConflictRetriesTotal, 0);
  assert.ok(retries > 0, 'interleaved writers conflicted and retried');
  const text = writers[0].metricsText();
  assert.match(text, /# TYPE manifest_conflict_retries_total counter/);
  assert.match(text, /manifest_persist_duration_seconds_count \d+/);
});

test('CommonJS entry works and shares the ESM instance', async () => {
  const cjs = require('../../pkg/node.cjs');
  assert.equal(cjs.AkiDB, AkiDB);
  const db = await cjs.AkiDB.open({ store: 'memory' });
  await db.createCollection('x', { dimension: 2 });
  assert.equal((await db.listCollections()).length, 1);
});

test('retry options are validated', async () => {
  await rejectsWith(AkiDB.open({ retry: { jitter: 'sometimes' } }), 'INVALID_ARGUMENT', /jitter/);
  await rejectsWith(AkiDB.open({ retry: { maxRetries: -1 } }), 'INVALID_ARGUMENT', /maxRetries/);
  await rejectsWith(AkiDB.open({ retry: { multiplier: 0.5 } }), 'INVALID_ARGUMENT', /multiplier/);
});

test('group commit: concurrent upserts on one handle share commits', async () => {
  const run = async (groupCommit) => {
    const db = await AkiDB.open({ store: 'memory', simulatedLatencyMs: 1, groupCommit });
    await db.createCollection('g', { dimension: 4, distance: 'l2' });
    const c = await db.collection('g');
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => c.upsert([{ id: `r${i}`, vector: [i, 1, 2, 3] }])),
    );
    assert.equal(await c.count(), 30, 'every acknowledged record is searchable');
    const m = await c.manifest();
    for (const a of acks) assert.ok(m.segments.some((s) => s.id === a.segmentId));
    return db.metrics().manifestCommitsTotal;
  };
  const grouped = await run(true);
  const single = await run(false);
  assert.equal(single, 30);
  assert.ok(grouped <= 5, `30 concurrent upserts took ${grouped} commits with group commit`);
  await rejectsWith(AkiDB.open({ groupCommit: 'yes' }), 'INVALID_ARGUMENT', /groupCommit/);
});
