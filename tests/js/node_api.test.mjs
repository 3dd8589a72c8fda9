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
  // autoCompact off: the test counts one segment per commit.
  const opts = { store: 'memory', name, simulatedLatencyMs: 2, retry: { maxRetries: 100, maxBackoffMs: 50 }, autoCompact: false };
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
  assert.match(text, /# TYPE akidb_manifest_conflict_retries_total counter/);
  assert.match(text, /akidb_manifest_persist_duration_seconds_count \d+/);
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
    const db = await AkiDB.open({ store: 'memory', simulatedLatencyMs: 1, groupCommit, autoCompact: false });
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

test('operationStatus: a bogus token is INVALID_ARGUMENT (no operationId); well-formed tokens are looked up', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('ops', { dimension: 2 });
  const c = await db.collection('ops');
  for (const bogus of ['', 'nope', 'a.b.c.d', `${'ab'.repeat(16)}.1.9.7`]) {
    await assert.rejects(c.operationStatus(bogus), (e) => {
      assert.equal(e.code, 'INVALID_ARGUMENT', `${JSON.stringify(bogus)}: ${e.message}`);
      assert.equal(e.operationId, undefined, 'only OUTCOME_UNKNOWN carries an operationId');
      return true;
    });
  }
  await rejectsWith(c.operationStatus(42), 'INVALID_ARGUMENT', /operationId must be a string/);
  // Tokens are opaque to users; these follow the layout of src/storage/ops.rs
  // (`{op}.{incarnation}.{lo}.{hi}`) to check each answer without injecting faults.
  const r = await c.upsert([{ id: 'a', vector: [1, 0] }]);
  const m = await c.manifest();
  const op = m.history.ops[m.history.ops.length - 1];
  assert.deepEqual(await c.operationStatus(`${op}.${m.incarnation}.-.-`), { status: 'committed', version: r.version });
  const never = 'cd'.repeat(16);
  assert.deepEqual(await c.operationStatus(`${never}.${m.incarnation}.-.-`), { status: 'unknown' }, 'no range: nothing provable');
  assert.deepEqual(
    await c.operationStatus(`${never}.${m.incarnation}.1.1`),
    { status: 'not_committed' },
    'the manifest moved past version 1 and remembers every version since',
  );
  assert.deepEqual(await c.operationStatus(`${never}.${m.incarnation}.${m.version}.${m.version}`), { status: 'unknown' }, 'could still land');
  assert.deepEqual(await c.operationStatus(`${op}.${m.incarnation + 1}.-.-`), { status: 'unknown' }, 'another incarnation');
});

test('collectGarbage: one commit on a fresh collection, nothing to delete; NOT_FOUND and bad names', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('g', { dimension: 2 });
  const c = await db.collection('g');
  const report = await db.collectGarbage('g');
  assert.deepEqual(report, { generation: 2, deleted: [], keptRecent: 0, keptUnknown: 0 });
  const m = await c.manifest();
  assert.deepEqual([m.version, m.gc_gen], [2, 2], 'raising the fence is one commit');
  await c.upsert([{ id: 'a', vector: [1, 0] }]);
  assert.deepEqual(await db.collectGarbage('g'), { generation: 3, deleted: [], keptRecent: 0, keptUnknown: 0 });
  assert.deepEqual((await c.search([1, 0])).map((h) => h.id), ['a'], 'a listed segment is never collected');
  await rejectsWith(db.collectGarbage('missing'), 'NOT_FOUND');
  await rejectsWith(db.collectGarbage('a/b'), 'INVALID_ARGUMENT');
  await rejectsWith(db.collectGarbage(7), 'INVALID_ARGUMENT', /name must be a string/);
});

test('drop + re-create + upsert: search works, a new incarnation, stale handles cannot touch it', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('d', { dimension: 2, distance: 'l2' });
  const stale = await db.collection('d');
  await stale.upsert([{ id: 'old', vector: [1, 0] }]);
  const before = await stale.manifest();
  await db.dropCollection('d');
  await rejectsWith(db.collection('d'), 'NOT_FOUND');
  await rejectsWith(stale.upsert([{ id: 'late', vector: [1, 1] }]), 'NOT_FOUND');
  assert.deepEqual(await db.listCollections(), [], 'a dropped collection is not listed');

  const info = await db.createCollection('d', { dimension: 3, distance: 'dot' });
  assert.deepEqual(info, { name: 'd', dimension: 3, distance: 'dot', totalVectors: 0, version: 1 });
  const d = await db.collection('d');
  const r = await d.upsert([
    { id: 'old', vector: [0, 0, 1] },
    { id: 'new', vector: [1, 0, 0] },
  ]);
  assert.equal(r.version, 2);
  assert.deepEqual((await d.search([1, 0, 0], { k: 5 })).map((h) => h.id), ['new', 'old']);
  // A handle on the dropped incarnation must not delete from the new one.
  await rejectsWith(stale.delete(['old']), 'NOT_FOUND', /re-created/);
  await rejectsWith(stale.upsert([{ id: 'late', vector: [1, 1] }]), 'NOT_FOUND');
  await d.refresh();
  assert.equal(await d.count(), 2);
  const m = await d.manifest();
  assert.equal(m.incarnation, before.incarnation + 1, 're-creating starts the next incarnation');
  assert.equal(m.version, 2);
  assert.equal(m.dropped_at_ms, undefined);
  assert.deepEqual(m.tombstones, []);
  // The dropped incarnation's leftovers (the stale handle's orphan segments) go at the first pass.
  const gc = await db.collectGarbage('d');
  assert.ok(gc.deleted.length > 0, 'the stale upserts wrote their segment objects before failing');
  assert.ok(gc.deleted.every((k) => k.startsWith(`collections/d/${before.incarnation}/`)), JSON.stringify(gc));
  assert.equal(await d.count(), 2);
});

test('manifest shape: format 2, incarnation, GC generation, operation history, segment generations', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('s', { dimension: 2 });
  const c = await db.collection('s');
  let m = await c.manifest();
  assert.equal(m.format, 2);
  assert.equal(m.incarnation, 1);
  assert.equal(m.gc_gen, 1);
  assert.equal(m.version, 1);
  assert.equal(m.history.from, 1);
  assert.equal(m.history.ops.length, 1, 'the create is the operation of version 1');
  assert.ok(!('recent_commits' in m), 'recent_commits is gone');
  assert.ok(!('dropped_at_ms' in m), 'only a dropped collection has dropped_at_ms');
  const r = await c.upsert([{ id: 'a', vector: [1, 0] }]);
  await c.delete(['a']);
  await c.seal(r.segmentId);
  m = await c.manifest();
  assert.equal(m.version, 4);
  assert.equal(m.history.from, 1);
  assert.equal(m.history.ops.length, m.version - m.history.from + 1, 'one operation per version');
  for (const op of m.history.ops) assert.match(op, /^[0-9a-f]{32}$/);
  assert.equal(new Set(m.history.ops).size, m.history.ops.length, 'every version by its own operation');
  assert.deepEqual(
    m.segments.map((s) => [s.id, s.state, s.gen, s.seq, s.record_count]),
    [[r.segmentId, 'Sealed', 1, 1, 1]],
  );
  assert.deepEqual(m.tombstones, [{ id: 'a', seq: 2 }]);
  assert.match(m.commit_id, /^[0-9a-f-]{36}$/);
});

test('duration options are bounded; groupCommit.leaderLeaseMs must be > 0', async () => {
  for (const bad of [0, -1, NaN, Infinity, 1e300, 2 ** 31, '100']) {
    await rejectsWith(AkiDB.open({ groupCommit: { leaderLeaseMs: bad } }), 'INVALID_ARGUMENT', /leaderLeaseMs/);
  }
  await rejectsWith(AkiDB.open({ groupCommit: { pollIntervalMs: 1e300 } }), 'INVALID_ARGUMENT', /pollIntervalMs/);
  for (const key of ['initialBackoffMs', 'maxBackoffMs', 'maxElapsedMs']) {
    await rejectsWith(AkiDB.open({ retry: { [key]: 1e300 } }), 'INVALID_ARGUMENT', new RegExp(key));
  }
  const db = await AkiDB.open({ store: 'memory', groupCommit: { leaderLeaseMs: 2 ** 31 - 1, pollIntervalMs: 5 } });
  await db.createCollection('l', { dimension: 2 });
  const c = await db.collection('l');
  const acks = await Promise.all([0, 1, 2].map((i) => c.upsert([{ id: `r${i}`, vector: [i + 1, 1] }])));
  assert.equal(await c.count(), 3);
  assert.ok(acks.every((a) => a.version >= 2));
});

// --- Compaction (issue 11): the JS surface on the memory store.

/** Every live record as `id → { score of its own vector, metadata }`, by full listing and by exact search. */
async function everything(c, vectors) {
  const hits = await c.search(vectors.probe, { k: 10000, includeMetadata: true });
  const listed = Object.fromEntries(hits.map((h) => [h.id, h.metadata]));
  const own = {};
  for (const [id, v] of Object.entries(vectors.byId)) {
    const [top] = await c.search(v, { k: 1, includeMetadata: true });
    own[id] = top && top.score === 0 ? [top.id, top.metadata] : null;
  }
  return { listed, own, count: await c.count() };
}

test('compact: every record shape survives exactly (metadata shapes, overwrites, deletes, re-upserts, unknown-id deletes); receipts', async () => {
  const db = await AkiDB.open({ store: 'memory', autoCompact: false });
  await db.createCollection('k', { dimension: 3, distance: 'l2' });
  const c = await db.collection('k');
  const v = (i) => [i, (i * 7) % 5, -i / 3];
  const byId = {};
  const put = async (records, opts) => {
    for (const r of records) byId[r.id] = r.vector;
    return c.upsert(records, opts);
  };
  const shapes = [
    null,
    { s: 'ünïcödé ✓', n: -1.5e-7, b: false },
    { nested: { deep: { list: [1, 'two', { three: 3 }], empty: {} } }, arr: [] },
    { big: 2 ** 53 - 1, neg: -0, tags: ['a', 'b'] },
    { '': 'empty key', 'dotted.key': 1 },
  ];
  // Segment 1: ten records of every shape; one batch split into 3 segments.
  await put(Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, vector: v(i), metadata: shapes[i % shapes.length] })));
  await put(Array.from({ length: 7 }, (_, i) => ({ id: `b${i}`, vector: v(100 + i), metadata: { batch: i } })), { segmentSize: 3 });
  // Overwrites (r1 three times), deletes, a delete of an id that never existed, a re-upsert after a delete.
  await put([{ id: 'r1', vector: v(201), metadata: { gen: 2 } }]);
  await put([{ id: 'r1', vector: v(202), metadata: { gen: 3 } }, { id: 'r2', vector: v(203) }]);
  await c.delete(['r3', 'b0', 'never-was', 'r4']);
  for (const id of ['r3', 'b0', 'r4']) delete byId[id];
  await put([{ id: 'r4', vector: v(204), metadata: { back: true } }]);
  await c.delete(['ghost-1', 'ghost-2']);
  const probe = [0, 0, 0];
  const before = await everything(c, { probe, byId });
  const m0 = await c.manifest();
  assert.equal(m0.segments.length, 7);
  assert.equal(m0.tombstones.length, 6);
  const rows = m0.segments.reduce((n, s) => n + s.record_count, 0);
  assert.equal(before.count, 10 + 7 - 3 + 1, 'sanity: live records before');
  assert.equal(Object.keys(before.own).length, before.count);
  assert.ok(Object.values(before.own).every((x) => x !== null), 'every live record is found by its own vector before');

  const r = await c.compact({ full: true });
  assert.deepEqual(Object.keys(r).sort(), ['bytesRead', 'bytesWritten', 'commits', 'merges', 'recordsDropped', 'segmentsAfter', 'segmentsBefore', 'superseded', 'tombstonesRetired', 'version'].sort());
  assert.equal(r.merges, 1);
  assert.equal(r.commits, 1, 'the merge retired every tombstone: no second commit');
  assert.equal(r.superseded, 0);
  assert.equal(r.segmentsBefore, 7);
  assert.equal(r.segmentsAfter, 1);
  assert.equal(r.version, m0.version + 1, 'one merge is one commit');
  assert.equal(r.recordsDropped, rows - before.count, 'shadowed and deleted rows dropped');
  assert.equal(r.tombstonesRetired, 6, 'nothing older is left for a tombstone to hide');
  assert.equal(r.bytesRead, m0.segments.reduce((n, s) => n + s.size_bytes, 0));
  assert.ok(r.bytesWritten > 0 && r.bytesWritten < r.bytesRead, JSON.stringify(r));
  assert.equal(r.gc, undefined, 'no GC pass unless asked');

  const after = await everything(c, { probe, byId });
  assert.deepEqual(after, before, 'every record, its metadata and its newest version are exactly as before');
  const m1 = await c.manifest();
  assert.equal(m1.version, r.version);
  assert.deepEqual(m1.tombstones, []);
  assert.equal(m1.total_vectors, before.count, 'total_vectors counts only what is left');
  assert.equal(m1.segments[0].state, 'Sealed');
  assert.equal(m1.retired.length, 7, 'the inputs are retired, not deleted');
  for (const [i, s] of m0.segments.entries()) assert.equal(m1.retired[i].split(':')[2], s.id.replaceAll('-', ''));
  assert.ok(m1.retired.every((x) => /^1:1:[0-9a-f]{32}$/.test(x)), JSON.stringify(m1.retired));
  // A fresh handle sees the same.
  assert.deepEqual(await everything(await db.collection('k'), { probe, byId }), before);

  // Nothing left to do: no commit, the same version.
  const again = await c.compact({ full: true, gc: true });
  assert.deepEqual([again.merges, again.commits, again.segmentsBefore, again.segmentsAfter, again.version, again.gc], [0, 0, 1, 1, r.version, undefined]);
  // Deleted ids stay deleted after more writes and a policy compaction.
  await put([{ id: 'z', vector: v(300) }]);
  await c.delete(['r1']);
  delete byId.r1;
  const r2 = await c.compact({ full: true, gc: true });
  assert.equal(r2.merges, 1);
  assert.equal(r2.recordsDropped, 1);
  assert.equal(r2.tombstonesRetired, 1);
  assert.deepEqual(r2.gc, { generation: 2, deleted: [], keptRecent: 0, keptUnknown: 0 }, 'the retired inputs wait two GC passes');
  assert.equal((await c.manifest()).version, r2.version + 1, 'the GC pass is one more commit');
  const final = await everything(c, { probe, byId });
  assert.equal(final.listed.r1, undefined);
  assert.equal(final.count, before.count);
  // The second GC pass: both compactions retired their inputs at generation 1 (7 segments, then
  // the first output and 'z'), so they go when the fence reaches 3.
  const g3 = await db.collectGarbage('k');
  assert.equal(g3.generation, 3);
  assert.equal(g3.deleted.length, 9, JSON.stringify(g3));
  assert.equal((await c.manifest()).retired, undefined, 'nothing retired is left');
  assert.deepEqual(await everything(c, { probe, byId }), final, 'GC of retired segments changes nothing visible');
});

test('compact: bad options are INVALID_ARGUMENT and commit nothing', async () => {
  const db = await AkiDB.open({ store: 'memory', autoCompact: false });
  await db.createCollection('o', { dimension: 2 });
  const c = await db.collection('o');
  await c.upsert([{ id: 'a', vector: [1, 0] }]);
  await c.upsert([{ id: 'b', vector: [0, 1] }]);
  const bad = [
    ['maxInputBytes', 0],
    ['maxInputBytes', -1],
    ['maxInputBytes', 1.5],
    ['maxInputBytes', NaN],
    ['maxInputBytes', Infinity],
    ['maxInputBytes', 2 ** 32 + 1],
    ['maxInputBytes', 1e300],
    ['maxInputBytes', '100'],
    ['maxRounds', 0],
    ['maxRounds', -3],
    ['maxRounds', 2.5],
    ['maxRounds', NaN],
    ['maxRounds', 1001],
    ['maxRounds', 2 ** 32],
    ['maxRounds', true],
    ['full', 'yes'],
    ['full', 1],
    ['auto', 0],
    ['gc', 'true'],
  ];
  for (const [key, value] of bad) {
    await rejectsWith(c.compact({ [key]: value }), 'INVALID_ARGUMENT', new RegExp(`options\\.${key}`));
  }
  for (const notAnObject of ['full', 3, true]) await rejectsWith(c.compact(notAnObject), 'INVALID_ARGUMENT', /options must be an object/);
  assert.equal((await c.manifest()).version, 3, 'nothing committed');
  await rejectsWith(AkiDB.open({ autoCompact: 'yes' }), 'INVALID_ARGUMENT', /autoCompact/);
  await rejectsWith(AkiDB.open({ autoCompact: 1 }), 'INVALID_ARGUMENT', /autoCompact/);
  // The bounds themselves are fine; null and undefined mean "default".
  const ok = await c.compact({ maxInputBytes: 2 ** 32, maxRounds: 1000, full: null, gc: undefined });
  assert.equal(ok.merges, 1);
  assert.equal((await c.compact(null)).merges, 0);
  // auto: 2 segments is below the threshold.
  await c.upsert([{ id: 'c', vector: [1, 1] }]);
  assert.equal(c.needsCompaction(), false);
  assert.equal((await c.compact({ auto: true })).merges, 0);
});

async function settleBackground(c, { timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    await c.refresh();
    if (!c.needsCompaction() || Date.now() > deadline) return c.manifest();
  }
}

test('autoCompact (default on): 50 small upserts keep the segment count bounded; off: 50 segments', async () => {
  const run = async (autoCompact) => {
    // A little store latency, as on a real store: a write then yields to timers, so a compaction
    // scheduled by one upsert runs while the next ones are written.
    const db = await AkiDB.open({ store: 'memory', simulatedLatencyMs: 1, ...(autoCompact === undefined ? {} : { autoCompact }) });
    await db.createCollection('a', { dimension: 4, distance: 'l2' });
    const c = await db.collection('a');
    const trace = [];
    for (let i = 0; i < 50; i++) {
      await c.upsert([{ id: `r${i % 40}`, vector: [i, 1, 2, 3], metadata: { i } }]);
      if (i % 7 === 6) await c.delete([`r${i - 3}`, `nobody-${i}`]);
      trace.push((await c.manifest()).segments.length);
    }
    const m = await settleBackground(c);
    const hits = await c.search([0, 0, 0, 0], { k: 100, includeMetadata: true });
    const drops = trace.filter((n, i) => i > 0 && n < trace[i - 1]).length;
    return { db, c, m, most: Math.max(...trace), drops, hits };
  };
  const on = await run(undefined);
  const off = await run(false);
  assert.equal(off.m.segments.length, 50, 'without compaction every upsert leaves a segment');
  assert.equal(off.c.needsCompaction(), true);
  // Compaction ran while the upserts went on (the count fell several times), and once the writes
  // stop the handle compacts until the policy is satisfied: below the automatic threshold of 8.
  // (The peak depends on how often the background commit loses its CAS to the writer: 10-36
  // segments in runs on a 2-core machine.)
  console.log(`autoCompact: ${on.m.segments.length} segments after settling, peak ${on.most}, ${on.drops} drops during 50 upserts`);
  assert.ok(on.drops >= 2, `compactions ran during the writes: ${on.drops} drops, peak ${on.most}`);
  assert.ok(on.most < 50);
  assert.ok(on.m.segments.length < 8, `after settling: ${on.m.segments.length} segments`);
  assert.equal(on.m.gc_gen, 2, 'a GC pass after the first automatic compaction, then at most one per 30 s');
  assert.ok(on.m.retired.length > 0, 'replaced segments wait in retired for two GC passes');
  // Exactly the same records, newest versions and deletes as without compaction.
  const view = (hits) => hits.map((h) => [h.id, h.score, h.metadata]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepEqual(view(on.hits), view(off.hits));
  assert.equal(await on.c.count(), await off.c.count());
});

test('autoCompact uses requestIdleCallback where it exists (browsers); a freed database does not break it', async () => {
  const calls = [];
  globalThis.requestIdleCallback = (cb, opts) => {
    calls.push(opts);
    setTimeout(() => cb({ didTimeout: false, timeRemaining: () => 10 }), 0);
    return calls.length;
  };
  try {
    const db = await AkiDB.open({ store: 'memory' });
    await db.createCollection('i', { dimension: 2 });
    const c = await db.collection('i');
    db.free();
    for (let i = 0; i < 12; i++) await c.upsert([{ id: `r${i}`, vector: [i + 1, 1] }]);
    const m = await settleBackground(c);
    assert.ok(calls.length >= 1, 'scheduled through requestIdleCallback');
    assert.ok(calls.every((o) => o.timeout > 0), 'with a timeout, so a busy tab still compacts');
    assert.ok(m.segments.length < 8, `${m.segments.length} segments`);
    assert.equal(await c.count(), 12);
  } finally {
    delete globalThis.requestIdleCallback;
  }
});

test('db.operationStatus settles without a collection handle (create, dropped, never existed); bad input INVALID_ARGUMENT', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('s', { dimension: 2 });
  const c = await db.collection('s');
  const r = await c.upsert([{ id: 'a', vector: [1, 0] }]);
  let m = await c.manifest();
  const [createOp, upsertOp] = m.history.ops;
  assert.deepEqual(await db.operationStatus('s', `${upsertOp}.${m.incarnation}.-.-`), { status: 'committed', version: r.version });
  assert.deepEqual(await db.operationStatus('s', `${createOp}.${m.incarnation}.0.0`), { status: 'committed', version: 1 });
  const never = 'cd'.repeat(16);
  assert.deepEqual(await db.operationStatus('s', `${never}.${m.incarnation}.1.1`), { status: 'not_committed' });
  // An uncertain create of a collection that does not exist: it could still land.
  await rejectsWith(db.collection('nothing'), 'NOT_FOUND');
  assert.deepEqual(await db.operationStatus('nothing', `${never}.-.0.0`), { status: 'unknown' });
  await rejectsWith(db.operationStatus('nothing', `${never}.-.-.-`), 'NOT_FOUND');
  // Dropped: no handle can be opened, the operation can still be looked up.
  await db.dropCollection('s');
  await rejectsWith(db.collection('s'), 'NOT_FOUND');
  const status = await db.operationStatus('s', `${upsertOp}.${m.incarnation}.-.-`);
  assert.ok(['committed', 'unknown'].includes(status.status), JSON.stringify(status));
  m = null;
  for (const bogus of ['', 'nope', 'a.b.c.d']) await rejectsWith(db.operationStatus('s', bogus), 'INVALID_ARGUMENT');
  await rejectsWith(db.operationStatus('s', 42), 'INVALID_ARGUMENT', /operationId must be a string/);
  await rejectsWith(db.operationStatus(7, `${never}.-.-.-`), 'INVALID_ARGUMENT', /name must be a string/);
  await rejectsWith(db.operationStatus('a/b', `${never}.-.-.-`), 'INVALID_ARGUMENT');
});
