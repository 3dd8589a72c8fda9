// akidb/langchain against the real @langchain/core (pinned in tests/apps/package.json) and its
// test embeddings (SyntheticEmbeddings: deterministic per text; FakeEmbeddings: one constant
// vector), through the packed package installed in a project under tests/apps/.work/ (so the
// optional peer @langchain/core resolves from tests/apps/node_modules): fromTexts/fromDocuments,
// addDocuments/addVectors with ids, similaritySearch(WithScore) with filters translated to
// AkiDB's, delete, a retriever, and a strict TypeScript check of langchain.d.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { Document } from '@langchain/core/documents';
import { FakeEmbeddings, SyntheticEmbeddings } from '@langchain/core/utils/testing';

import { here, installPackage, root, run } from './lib.mjs';

const proj = path.join(here, '.work', `langchain-${process.pid}`);
let lc; // akidb/langchain as installed
let akidb; // akidb as installed

before(async () => {
  await installPackage(proj, { type: 'module' });
  const dir = path.join(proj, 'node_modules/akidb');
  lc = await import(pathToFileURL(path.join(dir, 'langchain.js')).href);
  akidb = await import(pathToFileURL(path.join(dir, 'node.mjs')).href);
});

after(() => rmSync(proj, { recursive: true, force: true }));

const TEXTS = [
  'the quick brown fox jumps over the lazy dog',
  'a vector database for browsers and edge workers',
  'compare and swap of the collection manifest',
  'debian package descriptions embedded with minilm',
  'offline first sync between tabs and the edge',
];
const METAS = [
  { source: 'a', year: 2019, tags: ['animals'] },
  { source: 'b', year: 2021, tags: ['db'] },
  { source: 'b', year: 2022, tags: ['db', 'protocol'] },
  { source: 'c', year: 2023, tags: ['data'] },
  { source: 'a', year: 2024 },
];

test('fromTexts + similaritySearch: each text finds itself first, with its metadata and id', async () => {
  const emb = new SyntheticEmbeddings({ vectorSize: 32 });
  const store = await lc.AkiDBVectorStore.fromTexts(TEXTS, METAS, emb, { collectionName: 'docs' });
  assert.equal(store._vectorstoreType(), 'akidb');
  assert.equal(await store.collection.count(), TEXTS.length);
  for (const [i, t] of TEXTS.entries()) {
    const [[doc, score]] = await store.similaritySearchWithScore(t, 1);
    assert.equal(doc.pageContent, t);
    assert.deepEqual(doc.metadata, METAS[i]);
    assert.equal(typeof doc.id, 'string');
    assert.ok(Math.abs(score - 1) < 1e-5, `cosine of a text with itself: ${score}`);
  }
  const r = await store.asRetriever({ k: 2 }).invoke(TEXTS[2]);
  assert.equal(r.length, 2);
  assert.equal(r[0].pageContent, TEXTS[2]);
});

test('filters: equality, $in/$nin, $ne, ranges, $exists, several fields, native AkiDB filters; bad keys are coded errors', async () => {
  const emb = new SyntheticEmbeddings({ vectorSize: 32 });
  const store = await lc.AkiDBVectorStore.fromTexts(TEXTS, METAS, emb, { collectionName: 'filters' });
  const sources = async (filter) => (await store.similaritySearch(TEXTS[0], 10, filter)).map((d) => TEXTS.indexOf(d.pageContent)).sort();
  assert.deepEqual(await sources({ source: 'b' }), [1, 2]);
  assert.deepEqual(await sources({ source: { $in: ['a', 'c'] } }), [0, 3, 4]);
  assert.deepEqual(await sources({ source: { $nin: ['a', 'c'] } }), [1, 2]);
  assert.deepEqual(await sources({ source: { $ne: 'a' } }), [1, 2, 3]);
  assert.deepEqual(await sources({ year: { $gte: 2021, $lt: 2023 } }), [1, 2]);
  assert.deepEqual(await sources({ tags: { $exists: false } }), [4]);
  assert.deepEqual(await sources({ source: 'b', year: { $gt: 2021 } }), [2]);
  assert.deepEqual(await sources({ tags: 'db' }), [1, 2], 'arrays are looked through');
  assert.deepEqual(await sources({ must: [{ key: 'metadata.source', match: 'c' }] }), [3], 'native filter');
  assert.deepEqual(await sources(undefined), [0, 1, 2, 3, 4]);
  for (const bad of [{ year: { $regex: 'x' } }, { $or: [] }, { source: ['a', 'b'] }]) {
    const e = await store.similaritySearch(TEXTS[0], 3, bad).catch((e) => e);
    assert.equal(e.code, 'INVALID_ARGUMENT', JSON.stringify(bad));
    assert.equal(e.name, 'AkiDBError');
  }
  assert.deepEqual(lc.filterFromLangChain({ a: 1, b: { $in: [1, 2] } }), {
    must: [{ key: 'metadata.a', match: 1 }, { key: 'metadata.b', match: { any: [1, 2] } }],
  });
});

test('addDocuments with ids (and document ids), upsert by id, delete, an existing collection of a database', async () => {
  const emb = new SyntheticEmbeddings({ vectorSize: 16 });
  const db = await akidb.AkiDB.open({ store: 'memory' });
  const store = await lc.AkiDBVectorStore.open(emb, { db, collectionName: 'notes' });
  const ids = await store.addDocuments([new Document({ pageContent: TEXTS[0] })], { ids: ['x'] });
  assert.deepEqual(ids, ['x']);
  const gen = await store.addDocuments([new Document({ pageContent: TEXTS[2] }), new Document({ pageContent: TEXTS[1], id: 'doc-1' })]);
  assert.match(gen[0], /^[0-9a-f-]{36}$/, 'a UUID when no id is given');
  assert.equal(gen[1], 'doc-1', "the document's own id");
  const short = await store.addDocuments([new Document({ pageContent: 'a' }), new Document({ pageContent: 'b' })], { ids: ['y'] }).catch((e) => e);
  assert.equal(short.code, 'INVALID_ARGUMENT', 'one id per document');
  await store.addDocuments([new Document({ pageContent: TEXTS[3], metadata: { v: 2 } })], { ids: ['x'] });
  assert.equal(await store.collection.count(), 3, 'same id replaces');
  const [top] = await store.similaritySearch(TEXTS[3], 1);
  assert.deepEqual([top.id, top.metadata], ['x', { v: 2 }]);
  await store.delete({ ids: ['x', 'doc-1'] });
  assert.equal(await store.collection.count(), 1);
  assert.deepEqual((await store.similaritySearch(TEXTS[0], 5)).map((d) => d.id), [gen[0]]);
  // The same collection through another handle of the database: it is an ordinary collection.
  const again = await lc.AkiDBVectorStore.open(emb, { db, collectionName: 'notes' });
  assert.equal(await again.collection.count(), 1);
  // A dimension that differs from the collection's is ALREADY_EXISTS naming the difference.
  const e = await lc.AkiDBVectorStore.open(new SyntheticEmbeddings({ vectorSize: 8 }), { db, collectionName: 'notes' }).catch((e) => e);
  assert.equal(e.code, 'ALREADY_EXISTS');
  assert.match(e.message, /dimension 16/);
  assert.equal((await store.addVectors([], [])).length, 0);
  const bad = await store.addVectors([[1]], []).catch((e) => e);
  assert.equal(bad.code, 'INVALID_ARGUMENT');
});

test('FakeEmbeddings (one constant vector): k documents, all at score 1', async () => {
  const store = await lc.AkiDBVectorStore.fromDocuments(
    TEXTS.map((t) => new Document({ pageContent: t })),
    new FakeEmbeddings(),
    { ids: TEXTS.map((_, i) => `d${i}`) },
  );
  const hits = await store.similaritySearchVectorWithScore([0.1, 0.2, 0.3, 0.4], 3);
  assert.equal(hits.length, 3);
  for (const [doc, score] of hits) {
    assert.ok(TEXTS.includes(doc.pageContent));
    assert.ok(Math.abs(score - 1) < 1e-5);
  }
});

test('langchain.d.ts type-checks real usage and rejects misuse (tsc --strict)', { timeout: 120_000 }, async () => {
  const tsc = path.join(root, 'node_modules/.bin/tsc');
  writeFileSync(
    path.join(proj, 'use.mts'),
    `import { AkiDBVectorStore } from 'akidb/langchain';
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
const store = await AkiDBVectorStore.fromTexts(['a b c'], [{ source: 'x' }], new SyntheticEmbeddings({ vectorSize: 8 }), { collectionName: 'c' });
const docs = await store.similaritySearch('a', 2, { source: { $in: ['x'] } });
const text: string = docs[0].pageContent;
const ids: string[] = await store.addDocuments([{ pageContent: text, metadata: {} }]);
await store.delete({ ids });
export {};
`,
  );
  writeFileSync(path.join(proj, 'bad.mts'), `import { AkiDBVectorStore } from 'akidb/langchain';\nexport async function f(s: AkiDBVectorStore) { await s.similaritySearch('a', 2, { year: { $regex: 'x' } }); }\n`);
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom'];
  const ok = await run(tsc, [...args, 'use.mts'], { cwd: proj }).catch((e) => e);
  assert.equal(ok.code ?? 0, 0, `${ok.stdout}${ok.stderr}`);
  const bad = await run(tsc, [...args, 'bad.mts'], { cwd: proj }).catch((e) => e);
  assert.notEqual(bad.code ?? 0, 0, 'an unknown operator is a type error');
  assert.match(`${bad.stdout}`, /\$regex/);
});
