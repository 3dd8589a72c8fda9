// The package smoke script: the same code runs in Node (ESM and CommonJS), in Chromium and in
// workerd, each time with the AkiDB class that runtime's entry of the package exports.
export async function smoke(AkiDB, openOptions = { store: 'memory' }) {
  const db = await AkiDB.open({ logLevel: 'error', ...openOptions });
  await db.createCollection('smoke', { dimension: 4, distance: 'cosine' });
  const docs = await db.collection('smoke');
  const receipt = await docs.upsert([
    { id: 'a', vector: [1, 0, 0, 0], metadata: { kind: 'x' } },
    { id: 'b', vector: new Float32Array([0, 1, 0, 0]), metadata: { kind: 'y' } },
    { id: 'c', vector: [0.9, 0.1, 0, 0] },
  ]);
  const hits = await docs.search([1, 0, 0, 0], { k: 2, includeMetadata: true });
  const filtered = await docs.search([1, 0, 0, 0], { k: 3, filter: { must: [{ key: 'kind', match: 'y' }] } });
  let error = null;
  try {
    await db.createCollection('smoke', { dimension: 4 });
  } catch (e) {
    error = { isError: e instanceof Error, code: e.code };
  }
  const result = {
    version: receipt.version,
    ids: hits.map((h) => h.id),
    topScore: Math.round(hits[0].score * 1e4) / 1e4,
    metadata: hits[0].metadata,
    filtered: filtered.map((h) => h.id),
    count: await docs.count(),
    error,
  };
  await db.close();
  return result;
}

/** What every runtime must produce. */
export const EXPECTED = {
  version: 2,
  ids: ['a', 'c'],
  topScore: 1,
  metadata: { kind: 'x' },
  filtered: ['b'],
  count: 3,
  error: { isError: true, code: 'ALREADY_EXISTS' },
};
