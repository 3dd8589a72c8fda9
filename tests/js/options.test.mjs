// Strict options: an option key a call does not take is INVALID_ARGUMENT naming the key (with
// a suggestion when one is close), never silently ignored; `search(q, 5)` means k = 5; every
// rejection is an instance of the exported AkiDBError class. Requires pkg/ to be built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { AkiDB, AkiDBError } from '../../pkg/node.mjs';

const require = createRequire(import.meta.url);

async function invalid(promiseOrFn, pattern) {
  const run = typeof promiseOrFn === 'function' ? promiseOrFn : () => promiseOrFn;
  await assert.rejects(async () => run(), (e) => {
    assert.ok(e instanceof AkiDBError, `an AkiDBError: ${e}`);
    assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

async function fixture() {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('docs', { dimension: 2 });
  const docs = await db.collection('docs');
  const records = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, vector: [Math.cos(i), Math.sin(i)] }));
  await docs.upsert(records);
  return { db, docs };
}

test('unknown search options are errors that suggest the right key', async () => {
  const { docs } = await fixture();
  const q = [1, 0];
  await invalid(docs.search(q, { topK: 5 }), /unknown option options\.topK; did you mean 'k'\?/);
  await invalid(docs.search(q, { limit: 5 }), /options\.limit; did you mean 'k'/);
  await invalid(docs.searchIds(q, { k: 3, filtr: {} }), /options\.filtr; did you mean 'filter'/);
  await invalid(() => docs.searchIdsSync(q, { k: 3, nprobe: 4 }), /options\.nprobe; did you mean 'probes'/);
  await invalid(docs.search(q, { k: 3, whatever: 1 }), /unknown option options\.whatever \(known: k, filter/);
  // A known key set to undefined is fine (spread patterns produce them).
  assert.equal((await docs.search(q, { k: 3, filter: undefined })).length, 3);
  await invalid(docs.search(q, 'five'), /options must be an object .* or a number/);
});

test('recall is a number in (0, 1] for mode ann only', async () => {
  const { docs } = await fixture();
  const q = [1, 0];
  const ann = await docs.search(q, { k: 3, mode: 'ann', recall: 0.9 });
  assert.deepEqual(ann.map((h) => h.id), (await docs.search(q, 3)).map((h) => h.id), 'a fresh segment is scanned exactly');
  assert.equal((await docs.searchIds(q, { k: 3, mode: 'ann', recall: 1 })).ids.length, 3);
  await invalid(docs.search(q, { mode: 'ann', recall: 1.5 }), /options\.recall must be a number in \(0, 1\]/);
  await invalid(docs.search(q, { mode: 'ann', recall: 0 }), /options\.recall must be a number in \(0, 1\]/);
  await invalid(docs.search(q, { mode: 'ann', recall: '0.9' }), /options\.recall/);
  await invalid(docs.search(q, { recall: 0.9 }), /options\.recall applies to mode: 'ann' only/);
  await invalid(() => docs.searchIdsSync(q, { mode: 'int8', recall: 0.9 }), /options\.recall applies to mode: 'ann' only/);
  await invalid(docs.search(q, { mode: 'ann', recal: 0.9 }), /options\.recal; did you mean 'recall'/);
});

test('search(q, 5) means k = 5 on every search call', async () => {
  const { docs } = await fixture();
  assert.equal((await docs.search([1, 0], 5)).length, 5);
  assert.equal((await docs.searchIds([1, 0], 5)).ids.length, 5);
  assert.equal(docs.searchIdsSync([1, 0], 5).ids.length, 5);
  await invalid(docs.search([1, 0], 2.5), /options\.k must be a whole number/);
});

test('unknown keys of open, create, upsert, compact and subscribe are errors', async () => {
  await invalid(AkiDB.open({ store: 'memory', groupcommit: false }), /options\.groupcommit; did you mean 'groupCommit'/);
  await invalid(AkiDB.open({ store: 'memory', endpoint: 'http://x' }), /options\.endpoint is for store 's3' \(this is store 'memory'\)/);
  await invalid(AkiDB.open({ store: 'memory', kv: {} }), /options\.kv is for store 'custom'/);
  await invalid(AkiDB.open({ store: 'memory', retry: { maxRetry: 3 } }), /options\.retry\.maxRetry; did you mean 'maxRetries'/);
  await invalid(AkiDB.open({ store: 'memory', groupCommit: { maxRecs: 3 } }), /options\.groupCommit\.maxRecs/);
  await invalid(AkiDB.open({ store: 'memory', logLevel: 'verbose' }), /options\.logLevel must be one of 'error', 'warn', 'info', 'debug'/);
  await invalid(AkiDB.open({ store: 'nope' }), /options\.store must be/);
  const { db, docs } = await fixture();
  await invalid(db.createCollection('x', { dim: 4 }), /options\.dim; did you mean 'dimension'/);
  await invalid(db.createCollection('x', { dimension: 4, metric: 'l2' }), /options\.metric; did you mean 'distance'/);
  assert.deepEqual((await db.listCollections()).map((c) => c.name), ['docs'], 'nothing was created');
  await invalid(docs.upsert([{ id: 'z', vector: [0, 1] }], { batchSize: 10 }), /options\.batchSize/);
  assert.equal(await docs.count(), 20, 'nothing was written');
  await invalid(docs.compact({ fulll: true }), /options\.fulll; did you mean 'full'/);
  assert.throws(() => docs.subscribe(() => {}, { interval: 5 }), (e) => e.code === 'INVALID_ARGUMENT' && /options\.interval/.test(e.message));
  // The Node entry takes the browser loader's `wasm` option and ignores it.
  await (await AkiDB.open({ store: 'memory', wasm: 'ignored.wasm' })).close();
});

test('AkiDBError is a real class in ESM and CommonJS, matching every engine error', async () => {
  const cjs = require('../../pkg/node.cjs');
  assert.equal(typeof AkiDBError, 'function');
  assert.equal(cjs.AkiDBError, AkiDBError, 'one class for both entries');
  const e = new AkiDBError('NOT_FOUND', 'gone');
  assert.ok(e instanceof Error && e instanceof AkiDBError);
  assert.equal(e.name, 'AkiDBError');
  assert.equal(e.code, 'NOT_FOUND');
  const db = await AkiDB.open({ store: 'memory' });
  const err = await db.collection('missing').catch((x) => x);
  assert.ok(err instanceof AkiDBError, 'an engine rejection is an AkiDBError');
  assert.equal(err.code, 'NOT_FOUND');
  assert.ok(!(new Error('plain') instanceof AkiDBError), 'a plain Error is not');
  assert.ok(!(new TypeError('x') instanceof AkiDBError));
});
