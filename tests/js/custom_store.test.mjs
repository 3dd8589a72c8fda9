// `AkiDB.open({ store: 'custom', kv })` and `runConformance` in Node: the conformance suite on
// a Map-backed store with random async delays, 8 handles x 25 upserts through it (nothing lost
// or applied twice, versions dense), ambiguous puts settled exactly once, and negative controls:
// stores that break atomicity or versioning must fail the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { AkiDB, runConformance } from '../../pkg/node.mjs';
import { mapStore } from './lib/map_store.mjs';

const vec = (i) => [Math.cos(i), Math.sin(i), 1, (i % 7) / 7];
const NO_GROUPING = { logLevel: 'error', groupCommit: false, autoCompact: false, retry: { maxRetries: 200, maxBackoffMs: 50, maxElapsedMs: 120000 } };

test('the conformance suite passes on an atomic Map-backed store with random delays', async () => {
  const kv = mapStore({ maxDelayMs: 3 });
  const r = await runConformance({ store: 'custom', kv, tokens: 'unique', concurrency: 8 });
  assert.equal(r.ok, true, r.failure);
  assert.ok(r.checks.includes('concurrent_conditional_puts'), r.checks.join());
  assert.equal(kv.data.size, 0, 'the suite cleans up after itself');
});

test('negative control: a store that checks, awaits, then writes fails the atomicity check', async () => {
  const r = await runConformance({ store: 'custom', kv: mapStore({ maxDelayMs: 2, atomic: false }) });
  assert.equal(r.ok, false);
  assert.match(r.failure, /^concurrent_conditional_puts: .*(both succeeded|lost updates)/);
  // The same store passes when nothing races: only the atomicity check tells them apart.
  const seq = await runConformance({ store: 'custom', kv: mapStore({ maxDelayMs: 2, atomic: false }), concurrency: 0 });
  assert.equal(seq.ok, true, seq.failure);
});

test('negative control: a store that ignores ifMatch or reuses versions fails the suite', async () => {
  const ignores = mapStore({ maxDelayMs: 0 });
  const put = ignores.put;
  ignores.put = (k, v, o) => put(k, v, { ifAbsent: o.ifAbsent });
  const r1 = await runConformance({ store: 'custom', kv: ignores });
  assert.equal(r1.ok, false);
  assert.match(r1.failure, /^if_version: /);

  const constant = mapStore({ maxDelayMs: 0 });
  const put2 = constant.put;
  constant.put = async (k, v, o) => ((await put2(k, v, o)) ? { version: 'same' } : null);
  constant.get = async (k) => {
    const e = constant.data.get(k);
    return e ? { value: e.value, version: 'same' } : null;
  };
  const r2 = await runConformance({ store: 'custom', kv: constant });
  assert.equal(r2.ok, false);
  assert.match(r2.failure, /^get_put_round_trip: overwrite kept the same version token/);
});

test('8 handles x 25 upserts on one Map-backed store: 200 records, version 201, every version once', async () => {
  const kv = mapStore({ maxDelayMs: 2 });
  const admin = await AkiDB.open({ store: 'custom', kv, ...NO_GROUPING });
  await admin.createCollection('docs', { dimension: 4, distance: 'l2' });
  const handles = await Promise.all(
    Array.from({ length: 8 }, async () => (await AkiDB.open({ store: 'custom', kv, ...NO_GROUPING })).collection('docs')),
  );
  const versions = [];
  await Promise.all(
    handles.map(async (c, w) => {
      for (let i = 0; i < 25; i++) {
        const r = await c.upsert([{ id: `w${w}-${i}`, vector: vec(w * 25 + i), metadata: { w, i } }]);
        versions.push(r.version);
      }
    }),
  );
  versions.sort((a, b) => a - b);
  assert.deepEqual(versions, Array.from({ length: 200 }, (_, i) => i + 2), 'each upsert got its own version, none skipped');
  const docs = await admin.collection('docs');
  const m = await docs.manifest();
  assert.equal(m.version, 201);
  assert.equal(await docs.count(), 200);
  const hits = await docs.search(vec(0), { k: 200 });
  assert.equal(new Set(hits.map((h) => h.id)).size, 200);
});

test('puts that apply and then throw are settled exactly once (ambiguous outcomes)', async () => {
  // Only manifest puts throw: those are the ones whose ambiguity the commit loop must settle.
  const kv = mapStore({ maxDelayMs: 1, failAfterPut: 0.4, failOn: (k) => k.endsWith('manifest.json') });
  const db = await AkiDB.open({ store: 'custom', kv, ...NO_GROUPING });
  kv.failAfterPut = 0;
  await db.createCollection('amb', { dimension: 4 });
  kv.failAfterPut = 0.4;
  const c = await db.collection('amb');
  for (let i = 0; i < 20; i++) {
    const r = await c.upsert([{ id: `r${i}`, vector: vec(i) }]);
    assert.equal(r.version, i + 2, 'a landed-but-thrown put is recognised, not applied again');
  }
  assert.ok(kv.stats.thrownAfterPut > 0, 'the fault was injected');
  kv.failAfterPut = 0;
  assert.equal(await c.count(), 20);
  assert.equal((await c.manifest()).version, 21);
});

test('reads that throw are retried; a store that keeps failing gives STORAGE; bad stores are INVALID_ARGUMENT', async () => {
  const kv = mapStore({ maxDelayMs: 0 });
  const db = await AkiDB.open({ store: 'custom', kv });
  await db.createCollection('r', { dimension: 2 });
  const get = kv.get;
  let failures = 2;
  kv.get = async (k) => (failures-- > 0 ? Promise.reject(new Error('blip')) : get(k));
  assert.equal((await (await db.collection('r')).manifest()).version, 1);
  kv.get = async () => {
    throw new Error('backend down');
  };
  await assert.rejects(db.collection('r'), (e) => e.code === 'STORAGE' && /backend down/.test(e.message));
  kv.get = async () => ({ value: 'not bytes', version: 'v' });
  await assert.rejects(db.collection('r'), (e) => e.code === 'STORAGE' && /custom store get returned no value/.test(e.message));

  await assert.rejects(AkiDB.open({ store: 'custom' }), (e) => e.code === 'INVALID_ARGUMENT' && /options.kv/.test(e.message));
  await assert.rejects(
    AkiDB.open({ store: 'custom', kv: { get() {}, put() {}, list() {} } }),
    (e) => e.code === 'INVALID_ARGUMENT' && /options.kv.delete must be a function/.test(e.message),
  );
  await assert.rejects(runConformance({ store: 'custom', kv, tokens: 'sometimes' }), (e) => e.code === 'INVALID_ARGUMENT');
});

test("'akidb/conformance' resolves to the same runConformance (ESM and CommonJS)", async () => {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  // A package can import itself by name from inside its own directory (Node self-reference).
  const cwd = fileURLToPath(new URL('../../pkg/', import.meta.url));
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "import { runConformance } from 'akidb/conformance'; const r = await runConformance({ store: 'memory', tokens: 'unique' }); console.log(r.ok)"], { cwd });
  assert.equal(esm.toString().trim(), 'true');
  const cjs = execFileSync(process.execPath, ['-e', "console.log(typeof require('akidb/conformance').runConformance)"], { cwd });
  assert.equal(cjs.toString().trim(), 'function');
});
