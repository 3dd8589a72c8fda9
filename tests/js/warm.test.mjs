// Warm by default: on the stores that live in the runtime's memory or disk, a handle keeps its
// snapshot in memory from the first search on, so the README's `search(q, { mode: 'ann' })`
// without `load()` is not the cold range-read path; `snapshotBudgetBytes: 0` (the S3/R2
// default) is the control: the same calls stay cold. Requires pkg/ to be built.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { AkiDB } from '../../pkg/node.mjs';

const DIM = 8;
const N = 9000; // above the partition index threshold (8,192 rows)

function vec(i) {
  const v = new Float32Array(DIM);
  for (let j = 0; j < DIM; j++) v[j] = Math.sin(i * 0.7 + j * 1.3) + (i % 17) * 0.05;
  return v;
}

async function indexed(name) {
  const db = await AkiDB.open({ store: 'memory', name, autoCompact: false });
  await db.createCollection('c', { dimension: DIM }, { ifNotExists: true });
  const c = await db.collection('c');
  const recs = Array.from({ length: N }, (_, i) => ({ id: `r${i}`, vector: vec(i) }));
  await c.upsert(recs, { segmentSize: 3000 });
  const r = await c.compact({ full: true }); // three segments into one, indexed
  assert.equal(r.merges, 1);
  const m = await c.manifest();
  assert.equal(m.segments.length, 1);
  // (That the segment carries a partition index is shown by the control below: only an
  // indexed segment can be searched cold, so only then does searchIdsSync say NOT_LOADED.)
  await db.close();
}

async function opened(name, extra) {
  const db = await AkiDB.open({ store: 'memory', name, autoCompact: false, ...extra });
  return { db, c: await db.collection('c') };
}

test('the first ANN search loads the snapshot: searchIdsSync works without load()', async () => {
  await indexed('warm-default');
  const { db, c } = await opened('warm-default', {});
  const hits = await c.search(vec(3), { k: 5, mode: 'ann' });
  assert.equal(hits[0].id, 'r3');
  const lean = c.searchIdsSync(vec(42), { k: 5, mode: 'ann' });
  assert.equal(lean.ids[0], 'r42');
  await db.close();
});

test('control: snapshotBudgetBytes 0 keeps the handle cold (NOT_LOADED until load())', async () => {
  await indexed('warm-control');
  const { db, c } = await opened('warm-control', { snapshotBudgetBytes: 0 });
  const hits = await c.search(vec(3), { k: 5, mode: 'ann' });
  assert.equal(hits[0].id, 'r3');
  assert.throws(() => c.searchIdsSync(vec(42), { k: 5, mode: 'ann' }), (e) => e.code === 'NOT_LOADED');
  await c.load();
  assert.equal(c.searchIdsSync(vec(42), { k: 5, mode: 'ann' }).ids[0], 'r42');
  await db.close();
});

test('a budget smaller than the collection keeps it cold; a bad budget is INVALID_ARGUMENT', async () => {
  await indexed('warm-small');
  const { db, c } = await opened('warm-small', { snapshotBudgetBytes: 1000 });
  await c.search(vec(3), { k: 5, mode: 'ann' });
  assert.throws(() => c.searchIdsSync(vec(42), 5), (e) => e.code === 'NOT_LOADED');
  await db.close();
  for (const bad of [-1, 1.5, 'big']) {
    await assert.rejects(AkiDB.open({ store: 'memory', snapshotBudgetBytes: bad }), (e) => e.code === 'INVALID_ARGUMENT');
  }
});

test("compact({ full: true }) on the README's path merges 15 MB segments (256 MiB budget; S3/R2 keep 24 MiB)", async () => {
  const dim = 384;
  const open = async () => {
    const db = await AkiDB.open({ store: 'memory', autoCompact: false });
    await db.createCollection('big', { dimension: dim });
    const c = await db.collection('big');
    // Two upsert segments of 10,000 × 384 (~15 MB each): together over 24 MiB.
    const recs = Array.from({ length: 20000 }, (_, i) => {
      const v = new Float32Array(dim);
      for (let j = 0; j < dim; j++) v[j] = Math.sin(i * 0.37 + j * 0.11);
      return { id: `r${i}`, vector: v };
    });
    await c.upsert(recs);
    assert.equal((await c.manifest()).segments.length, 2);
    return { db, c };
  };
  const a = await open();
  const r = await a.c.compact({ full: true });
  assert.equal(r.merges, 1);
  assert.equal(r.segmentsAfter, 1);
  await a.db.close();
  // Control: the edge stores' budget, asked for explicitly, leaves both segments alone.
  const b = await open();
  const e = await b.c.compact({ full: true, maxInputBytes: 24 * 2 ** 20 });
  assert.equal(e.merges, 0);
  assert.equal(e.segmentsAfter, 2);
  await b.db.close();
});
