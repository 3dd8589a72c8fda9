// Reading records back in Node: `collection.get(ids, options)` and `collection.scan(options)` on
// the memory and fs stores — order and nulls, bit-exact Float32Array vectors, newest write wins,
// deletes hidden, strict options, a scan that keeps its snapshot while a writer commits, `break`
// ending a scan; and a scan's wasm memory in a fresh process bounded by 2x one segment (with the
// warm handle, which loads the whole snapshot, as the control that shows the bound can fail).
// Requires pkg/ to be built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

import { AkiDB } from '../../pkg/node.mjs';

const here = new URL('.', import.meta.url).pathname;

function vec(i, dim) {
  const v = new Float32Array(dim);
  for (let j = 0; j < dim; j++) v[j] = Math.sin(i * 0.37 + j * 1.7) * (1 + (i % 5));
  v[0] = i % 11 === 0 ? -0 : v[0];
  return v;
}

const bits = (v) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

async function collect(it) {
  const out = new Map();
  for await (const batch of it) {
    assert.ok(Array.isArray(batch), 'each item is an array of records');
    for (const r of batch) {
      assert.ok(!out.has(r.id), `scan returned ${r.id} twice`);
      out.set(r.id, r);
    }
  }
  return out;
}

for (const store of ['memory', 'fs']) {
  test(`get and scan on the ${store} store: order, nulls, bit-exact vectors, newest wins, deletes hidden`, async () => {
    const dir = store === 'fs' ? mkdtempSync(join(tmpdir(), 'akidb-records-')) : null;
    try {
      const db = await AkiDB.open(store === 'fs' ? { store, path: dir } : { store, name: `records-${Date.now()}` });
      await db.createCollection('c', { dimension: 16, distance: 'l2' });
      const c = await db.collection('c');
      const model = new Map();
      for (let s = 0; s < 5; s++) {
        const recs = Array.from({ length: 300 }, (_, k) => {
          const i = s * 200 + k; // overlapping ids: later segments replace earlier ones
          return { id: `r${i}`, vector: vec(i * 7 + s, 16), metadata: k % 4 ? { s, k, tag: k % 3 } : undefined };
        });
        await c.upsert(recs);
        for (const r of recs) model.set(r.id, r);
      }
      const gone = ['r5', 'r250', 'r999'];
      await c.delete(gone);
      for (const id of gone) model.delete(id);

      const ids = ['r1', 'nope', 'r5', 'r250', 'r1', 'r1099', 'r400'];
      const got = await c.get(ids);
      assert.equal(got.length, ids.length);
      ids.forEach((id, n) => {
        const want = model.get(id);
        if (!want) return assert.equal(got[n], null, `${id} should be null`);
        assert.equal(got[n].id, id);
        assert.ok(got[n].vector instanceof Float32Array);
        assert.deepEqual(bits(got[n].vector), bits(want.vector), `vector of ${id}`);
        assert.deepEqual(got[n].metadata, want.metadata ?? null);
      });
      const lean = await c.get(['r1'], { includeVectors: false, includeMetadata: false });
      assert.deepEqual(Object.keys(lean[0]), ['id']);

      const all = await collect(c.scan({ batchSize: 64 }));
      assert.equal(all.size, model.size);
      for (const [id, want] of model) {
        const r = all.get(id);
        assert.ok(r, `scan misses ${id}`);
        assert.deepEqual(bits(r.vector), bits(want.vector));
        assert.deepEqual(r.metadata, want.metadata ?? null);
      }
      let batches = 0;
      for await (const b of c.scan({ batchSize: 64 })) {
        assert.ok(b.length >= 1 && b.length <= 64);
        batches++;
      }
      assert.ok(batches >= model.size / 64);

      const tagged = await collect(c.scan({ filter: { must: [{ key: 'tag', match: 2 }] }, includeVectors: false }));
      const want = [...model.values()].filter((r) => r.metadata?.tag === 2).map((r) => r.id).sort();
      assert.deepEqual([...tagged.keys()].sort(), want);
      assert.ok([...tagged.values()].every((r) => r.vector === undefined));

      // Options are strict; bad ids are coded errors.
      await assert.rejects(c.get(['r1'], { withVectors: true }), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(c.get('r1'), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(c.get(['']), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(c.get(Array.from({ length: 10_001 }, (_, i) => `x${i}`)), { code: 'INVALID_ARGUMENT' });
      assert.throws(() => c.scan({ batch: 10 }), { code: 'INVALID_ARGUMENT' });
      assert.throws(() => c.scan({ batchSize: 0 }), { code: 'INVALID_ARGUMENT' });
      assert.throws(() => c.scan({ filter: { must: 3 } }), { code: 'INVALID_ARGUMENT' });
      db.close?.();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a scan keeps its snapshot while a writer commits, and break ends it', async () => {
  const db = await AkiDB.open({ store: 'memory', name: `scan-snap-${Date.now()}`, autoCompact: false });
  await db.createCollection('c', { dimension: 8, distance: 'dot' });
  const c = await db.collection('c');
  for (let s = 0; s < 4; s++) {
    await c.upsert(Array.from({ length: 100 }, (_, k) => ({ id: `s${s}-${k}`, vector: vec(s * 100 + k, 8) })));
  }
  const before = await collect(c.scan());
  const it = c.scan({ batchSize: 10 });
  assert.equal(it.version, c.version);
  const first = await it.next();
  assert.equal(first.done, false);
  const writer = await db.collection('c');
  await writer.delete(['s0-1', 's1-1']);
  await writer.upsert([{ id: 's0-2', vector: vec(9999, 8) }, { id: 'new', vector: vec(1, 8) }]);
  await writer.compact({ full: true });
  const seen = new Map(first.value.map((r) => [r.id, r]));
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    for (const rec of r.value) seen.set(rec.id, rec);
  }
  assert.deepEqual([...seen.keys()].sort(), [...before.keys()].sort());
  assert.deepEqual(bits(seen.get('s0-2').vector), bits(before.get('s0-2').vector));
  const after = await collect(writer.scan());
  assert.ok(!after.has('s0-1') && after.has('new'));

  const early = c.scan({ batchSize: 5 });
  let n = 0;
  for await (const b of early) {
    n += b.length;
    break;
  }
  assert.equal(n, 5);
  assert.deepEqual(await early.next(), { done: true, value: undefined }, 'break ended the scan');
});

test('scan of 100k x 128 on the fs store: wasm memory within 2x one segment + the ids passed; the warm control is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'akidb-scanmem-'));
  try {
    const run = (mode) => {
      const r = spawnSync(process.execPath, [join(here, 'lib/scan_memory.mjs'), mode, dir], { encoding: 'utf8', timeout: 600_000 });
      assert.equal(r.status, 0, `${mode}: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    };
    const ingest = run('ingest');
    assert.ok(ingest.segments >= 2, `expected several segments, got ${ingest.segments}`);
    const stream = run('scan');
    assert.equal(stream.records, 100_000, 'every record, and none the writer committed after the scan began');
    assert.ok(stream.writerCommits >= 3, 'a writer committed during the scan');
    // One segment object read whole and its decoded columns (2x the largest), plus the ids
    // already passed (to hide the older rows they shadow): <= 80 B per record at this id length.
    const bound = 2 * stream.largestSegmentBytes + 80 * stream.records;
    assert.ok(stream.growth <= bound, `scan grew wasm memory by ${stream.growth} B, bound ${bound} B`);
    console.log(`# scan of 100k x 128 (segments of ${stream.largestSegmentBytes} B): wasm memory +${stream.growth} B`);
    const warmRun = run('warm');
    assert.ok(warmRun.growth > bound, `control: a warm handle holds the snapshot (${warmRun.growth} B > ${bound} B)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
