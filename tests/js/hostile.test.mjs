// The bad-input battery through the JS API (memory store): every hostile call gets its documented
// code, the collection's state is unchanged (version, search results, names), and the instance
// still answers a normal search afterwards. Nothing here may crash the process: deep and circular
// values, sparse arrays and huge numbers used to overflow the wasm stack or panic.
// Requires pkg/ to be built (scripts/build-pkg.sh; scripts/test.sh does it).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { AkiDB } from '../../pkg/node.mjs';

function nest(levels, leaf, wrap) {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = wrap(v);
  return v;
}

async function state(db, c) {
  const m = await c.manifest();
  const hits = await c.search([1, 0, 0, 0], { k: 10, includeMetadata: true });
  const names = (await db.listCollections()).map((x) => x.name);
  return { version: m.version, segments: m.segments.length, tombstones: m.tombstones.length, hits, names };
}

test('hostile calls get INVALID_ARGUMENT, change nothing, and the instance keeps serving', async () => {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('c', { dimension: 4, distance: 'cosine' });
  const c = await db.collection('c');
  await c.upsert([
    { id: 'a', vector: [1, 0, 0, 0], metadata: { tag: 'x' } },
    { id: 'b', vector: [0, 1, 0, 0], metadata: { tag: 'y' } },
  ]);
  const before = await state(db, c);
  const circular = { a: 1 };
  circular.self = circular;
  const deepFilter = nest(100_000, { key: 'tag', match: 'x' }, (f) => ({ must: [f] }));
  const calls = {
    'metadata nested 200 levels (the old poison)': () =>
      c.upsert([{ id: 'p', vector: [1, 1, 0, 0], metadata: nest(200, 1, (v) => ({ v })) }]),
    'metadata nested 100,000 levels': () =>
      c.upsert([{ id: 'p', vector: [1, 1, 0, 0], metadata: nest(100_000, 1, (v) => [v]) }]),
    'circular metadata': () => c.upsert([{ id: 'p', vector: [1, 1, 0, 0], metadata: circular }]),
    'metadata over 64 KiB': () => c.upsert([{ id: 'p', vector: [1, 1, 0, 0], metadata: { s: 'x'.repeat(70_000) } }]),
    'metadata with NaN': () => c.upsert([{ id: 'p', vector: [1, 1, 0, 0], metadata: { n: NaN } }]),
    'metadata with a function': () => c.upsert([{ id: 'p', vector: [1, 1, 0, 0], metadata: { f() {} } }]),
    'metadata with a bigint': () => c.upsert([{ id: 'p', vector: [1, 1, 0, 0], metadata: { n: 10n } }]),
    'zero vector under cosine': () => c.upsert([{ id: 'p', vector: [0, 0, 0, 0] }]),
    'sparse 2^31 vector': () => c.upsert([{ id: 'p', vector: new Array(2 ** 31) }]),
    'sparse 2^31 records': () => c.upsert(new Array(2 ** 31)),
    'sparse 2^31 query': () => c.search(new Array(2 ** 31), { k: 1 }),
    'huge Float32Array query': () => c.search(new Float32Array(1 << 20), { k: 1 }),
    'filter nested 100,000 levels': () => c.search([1, 0, 0, 0], { k: 1, filter: deepFilter }),
    'filter with a million conditions': () =>
      c.search([1, 0, 0, 0], { k: 1, filter: { must: new Array(1_000_000).fill({ key: 'tag', match: 'x' }) } }),
    'filter any list of 5,000': () =>
      c.search([1, 0, 0, 0], { k: 1, filter: { must: [{ key: 'tag', match: { any: [...Array(5000).keys()] } }] } }),
    'circular filter': () => {
      const f = { must: [] };
      f.must.push(f);
      return c.search([1, 0, 0, 0], { k: 1, filter: f });
    },
    'k = 0': () => c.search([1, 0, 0, 0], { k: 0 }),
    'k = 1e9': () => c.search([1, 0, 0, 0], { k: 1e9 }),
    'k = NaN': () => c.search([1, 0, 0, 0], { k: NaN }),
    'probes = 0': () => c.search([1, 0, 0, 0], { k: 1, mode: 'ann', probes: 0 }),
    "prune = 'yes'": () => c.search([1, 0, 0, 0], { k: 1, mode: 'ann', prune: 'yes' }),
    'delete of 200,000 ids': () => c.delete([...Array(200_000).keys()].map(String)),
    'id with a control character': () => c.upsert([{ id: 'a\u0000b', vector: [1, 0, 0, 0] }]),
    "collection named '.'": () => db.createCollection('.', { dimension: 4 }),
    'dimension 0': () => db.createCollection('z', { dimension: 0 }),
    'retry maxBackoffMs 1e300': () => AkiDB.open({ store: 'memory', retry: { maxBackoffMs: 1e300 } }),
    'simulatedLatencyMs 1e300': () => AkiDB.open({ store: 'memory', simulatedLatencyMs: 1e300 }),
    's3 requestTimeoutMs 1e300': () =>
      AkiDB.open({
        store: 's3', endpoint: 'http://127.0.0.1:9', bucket: 'b', accessKeyId: 'k', secretAccessKey: 's',
        requestTimeoutMs: 1e300,
      }),
  };
  for (const [name, call] of Object.entries(calls)) {
    let error;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    assert.ok(error, `${name}: rejected`);
    assert.equal(error.code, 'INVALID_ARGUMENT', `${name}: ${error.message}`);
    assert.deepEqual(await state(db, c), before, `${name}: nothing changed`);
  }
  const hits = await c.search([1, 0, 0, 0], { k: 2, filter: { must: [{ key: 'tag', match: 'x' }] } });
  assert.deepEqual(hits.map((h) => h.id), ['a'], 'a normal search still works');
});
