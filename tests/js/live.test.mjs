// Live updates, the lean search path and the storage manager, in Node (pkg/ must be built).
// Two handles on one named memory store stand in for two tabs: Node has BroadcastChannel, so
// the same announcement path as in a browser runs (each test uses its own store name).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { AkiDB } from '../../pkg/node.mjs';

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Resolves when `pred()` holds (checked every 5 ms), or fails after `ms`. */
async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

let n = 0;
/** Two databases on one fresh named memory store; collection 'c' (4-d) opened on both. */
async function pair() {
  const name = `live-${process.pid}-${++n}`;
  const a = await AkiDB.open({ store: 'memory', name, logLevel: 'error', autoCompact: false });
  const b = await AkiDB.open({ store: 'memory', name, logLevel: 'error', autoCompact: false });
  await a.createCollection('c', { dimension: 4, distance: 'dot' });
  const ca = await a.collection('c');
  const cb = await b.collection('c');
  return { a, b, ca, cb, close: () => Promise.all([a.close(), b.close()]) };
}

const rec = (id, x = 1) => ({ id, vector: [x, 0, 0, 0] });

test("another handle's commit reaches a listener, after the handle's snapshot moved", async () => {
  const { ca, cb, close } = await pair();
  const calls = [];
  const unsubscribe = cb.subscribe(async (v) => {
    calls.push({ v, handle: cb.version });
  });
  assert.equal(cb.version, 1);
  const r = await ca.upsert([rec('a')]);
  await until(() => calls.length === 1, 2000, 'the first call');
  assert.deepEqual(calls[0], { v: r.version, handle: r.version }, 'snapshot refreshed before the call');
  assert.equal(await cb.count(), 1, 'and it holds the record');
  // A burst: never an older or repeated version, and the last one arrives.
  for (let i = 0; i < 10; i++) await ca.upsert([rec(`b${i}`)]);
  await until(() => calls.at(-1).v === r.version + 10, 2000, 'the last version');
  const vs = calls.map((c) => c.v);
  assert.deepEqual(vs, [...new Set(vs)].sort((x, y) => x - y), `increasing, no repeats: ${vs}`);
  unsubscribe();
  unsubscribe(); // idempotent
  const before = calls.length;
  await ca.upsert([rec('z')]);
  await sleep(150);
  assert.equal(calls.length, before, 'no calls after unsubscribe');
  await close();
});

test("a handle's own commits are reported too, once per version", async () => {
  const { ca, close } = await pair();
  const vs = [];
  const un = ca.subscribe((v) => vs.push(v));
  await ca.upsert([rec('a')]);
  await until(() => vs.at(-1) === 2, 2000, 'version 2');
  await ca.delete(['a']);
  await until(() => vs.at(-1) === 3, 2000, 'version 3');
  await sleep(50);
  assert.deepEqual(vs, [2, 3]);
  un();
  await close();
});

test('without BroadcastChannel: polling finds the commit; with polling off nothing does (control)', async () => {
  const saved = globalThis.BroadcastChannel;
  globalThis.BroadcastChannel = undefined;
  try {
    const { ca, cb, close } = await pair();
    const polled = [];
    const un1 = cb.subscribe((v) => polled.push(v), { pollIntervalMs: 25 });
    await ca.upsert([rec('a')]);
    await until(() => polled.length === 1, 2000, 'the polling subscription');
    await sleep(200);
    assert.deepEqual(polled, [2]);
    un1();
    const other = await pair();
    const missed = [];
    const un3 = other.cb.subscribe((v) => missed.push(v), { pollIntervalMs: 0 });
    await other.ca.upsert([rec('a')]);
    await sleep(300);
    assert.deepEqual(missed, [], 'no BroadcastChannel and no polling: the update is missed');
    assert.equal(other.cb.version, 1, 'and the handle was not refreshed');
    un3();
    await close();
    await other.close();
  } finally {
    globalThis.BroadcastChannel = saved;
  }
});

test('subscribe rejects bad arguments; onError gets a failed re-read', async () => {
  const { a, cb, close } = await pair();
  assert.throws(() => cb.subscribe(42), (e) => e.code === 'INVALID_ARGUMENT');
  assert.throws(() => cb.subscribe(() => {}, { pollIntervalMs: -1 }), (e) => e.code === 'INVALID_ARGUMENT');
  assert.throws(() => cb.subscribe(() => {}, { onError: 'x' }), (e) => e.code === 'INVALID_ARGUMENT');
  const errors = [];
  const un = cb.subscribe(() => {}, { onError: (e) => errors.push(e.code) });
  await a.dropCollection('c');
  await until(() => errors.length > 0, 2000, 'onError');
  assert.equal(errors[0], 'NOT_FOUND');
  un();
  await close();
});

test('searchIds / searchIdsSync: the same hits as search, as ids + Float32Array', async () => {
  const { ca, cb, close } = await pair();
  const recs = Array.from({ length: 200 }, (_, i) => ({
    id: `r${i}`,
    vector: [Math.sin(i), Math.cos(i), Math.sin(2 * i), 1],
    metadata: { even: i % 2 === 0 },
  }));
  await ca.upsert(recs);
  const q = new Float32Array([0.3, -0.2, 0.9, 0.1]);
  const rich = await ca.search(q, { k: 7 });
  const lean = await ca.searchIds(q, 7);
  assert.ok(lean.scores instanceof Float32Array);
  assert.deepEqual(lean.ids, rich.map((h) => h.id));
  assert.deepEqual([...lean.scores], rich.map((h) => Math.fround(h.score)));
  const sync = ca.searchIdsSync(q, { k: 7 });
  assert.deepEqual(sync.ids, lean.ids);
  const filtered = ca.searchIdsSync(q, { k: 5, filter: { must: [{ key: 'even', match: true }] } });
  assert.deepEqual(filtered.ids, (await ca.search(q, { k: 5, filter: { must: [{ key: 'even', match: true }] } })).map((h) => h.id));
  assert.ok(filtered.ids.every((id) => Number(id.slice(1)) % 2 === 0));
  // Defaults: k = 10.
  assert.equal(ca.searchIdsSync(q).ids.length, 10);
  // Not loaded: NOT_LOADED until load(); a refresh to a new version unloads it again.
  assert.throws(() => cb.searchIdsSync(q, 3), (e) => e.code === 'NOT_LOADED' && /load\(\)/.test(e.message));
  await cb.refresh();
  assert.equal(await cb.load(), 2);
  assert.deepEqual(cb.searchIdsSync(q, 3).ids, lean.ids.slice(0, 3));
  await ca.upsert([{ id: 'top', vector: [30, -20, 90, 10] }]);
  assert.equal(await cb.refresh(), true);
  assert.throws(() => cb.searchIdsSync(q, 3), (e) => e.code === 'NOT_LOADED');
  await cb.load();
  assert.equal(cb.searchIdsSync(q, 1).ids[0], 'top');
  // Bad input is INVALID_ARGUMENT, as for search.
  assert.throws(() => cb.searchIdsSync('x', 3), (e) => e.code === 'INVALID_ARGUMENT');
  assert.throws(() => cb.searchIdsSync(q, { k: 1.5 }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(cb.searchIds([1, 2], 3), (e) => e.code === 'INVALID_ARGUMENT');
  await close();
});

test('persist() and storageEstimate() without a storage manager; durability and persist options', async () => {
  const db = await AkiDB.open({ store: 'memory', persist: true });
  assert.equal(await db.persist(), false);
  assert.equal(await db.storageEstimate(), null);
  await db.close();
  await assert.rejects(AkiDB.open({ store: 'memory', persist: 'yes' }), (e) => e.code === 'INVALID_ARGUMENT');
  await import('fake-indexeddb/auto');
  await assert.rejects(
    AkiDB.open({ store: 'indexeddb', name: 'dur', durability: 'fsync' }),
    (e) => e.code === 'INVALID_ARGUMENT' && /durability/.test(e.message),
  );
  for (const durability of ['strict', 'relaxed', 'default']) {
    const idb = await AkiDB.open({ store: 'indexeddb', name: `dur-${durability}`, durability, logLevel: 'error' });
    await idb.createCollection('c', { dimension: 2 });
    const c = await idb.collection('c');
    assert.equal((await c.upsert([{ id: 'a', vector: [1, 0] }])).version, 2);
    await idb.close();
  }
});
