// Persistence: write a collection into IndexedDB, close the browser, start it again on the same
// profile directory: the collection, its manifest and its search results are intact. In Chromium
// and in Firefox.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BROWSERS, blankPage, withBrowser } from './lib.mjs';

/** Runs in the page: deterministic data, so both browser runs can build the same query. */
async function write() {
  const { AkiDB } = await import('/pkg/index.js');
  const vec = (i) => Array.from({ length: 16 }, (_, j) => Math.sin(i * 16 + j) + (j === i % 16 ? 2 : 0));
  const db = await AkiDB.open({ store: 'indexeddb', name: 'persist', logLevel: 'error' });
  await db.createCollection('docs', { dimension: 16, distance: 'cosine' });
  const docs = await db.collection('docs');
  const records = Array.from({ length: 3000 }, (_, i) => ({ id: `r${i}`, vector: vec(i), metadata: { group: i % 7 } }));
  const progress = [];
  const r = await docs.upsert(records, { segmentSize: 1000, onProgress: (done, total) => progress.push([done, total]) });
  await docs.seal(r.segmentIds[1]);
  await docs.delete(['r5', 'r6']);
  await docs.upsert([{ id: 'r7', vector: vec(7000), metadata: { group: 99 } }]);
  await db.close();
  return { progress, segmentIds: r.segmentIds };
}

async function read() {
  const { AkiDB } = await import('/pkg/index.js');
  const vec = (i) => Array.from({ length: 16 }, (_, j) => Math.sin(i * 16 + j) + (j === i % 16 ? 2 : 0));
  const db = await AkiDB.open({ store: 'indexeddb', name: 'persist', logLevel: 'error' });
  const docs = await db.collection('docs');
  const out = {
    collections: await db.listCollections(),
    manifest: await docs.manifest(),
    count: await docs.count(),
    hits: await docs.search(vec(1234), { k: 5, includeMetadata: true }),
    filtered: await docs.search(vec(0), { k: 3, filter: { must: [{ key: 'group', match: 99 }] } }),
    deleted: (await docs.search(vec(5), { k: 1 }))[0].id,
    databases: (await indexedDB.databases()).map((d) => d.name),
  };
  await db.close();
  return out;
}

for (const browser of BROWSERS) {
  test(`${browser}: a collection survives closing and restarting the browser`, { timeout: 180_000 }, () =>
    withBrowser(async ({ server, launchBrowser }) => {
      let ctx = await launchBrowser();
      const written = await (await blankPage(ctx, server, 'first')).evaluate(write);
      assert.deepEqual(written.progress, [[1000, 3000], [2000, 3000], [3000, 3000]]);
      const before = await (await blankPage(ctx, server, 'first')).evaluate(read);
      await ctx.close();

      ctx = await launchBrowser();
      const after = await (await blankPage(ctx, server, 'second')).evaluate(read);
      assert.deepEqual(after, before, 'everything reads back identically after a restart');

      assert.ok(after.databases.includes('akidb:persist'));
      assert.deepEqual(after.collections, [{ name: 'docs', dimension: 16, distance: 'cosine', totalVectors: 3001, version: 5 }]);
      assert.equal(after.count, 2998, '3000 - 2 deleted (r7 replaced, not added)');
      assert.deepEqual(after.manifest.segments.map((s) => s.state), ['Active', 'Sealed', 'Active', 'Active']);
      assert.equal(after.manifest.segments[1].id, written.segmentIds[1]);
      assert.equal(after.hits[0].id, 'r1234');
      assert.ok(Math.abs(after.hits[0].score - 1) < 1e-4);
      assert.deepEqual(after.filtered.map((h) => h.id), ['r7'], 'the replaced record kept its new metadata');
      assert.notEqual(after.deleted, 'r5', 'deleted records stay deleted');
    }, { browser }),
  );
}
