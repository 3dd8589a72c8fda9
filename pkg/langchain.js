// `akidb/langchain`: a LangChain.js VectorStore (@langchain/core 1.x, a peer dependency) over an
// AkiDB collection, on any store and runtime the collection runs on.
//
//   import { AkiDBVectorStore } from 'akidb/langchain';
//   const store = await AkiDBVectorStore.fromTexts(texts, metadatas, embeddings, { collectionName: 'docs' });
//   const hits = await store.similaritySearch('query', 4, { source: 'manual' });
//
// A document is one record: id = the document's id (or a generated UUID), vector = its
// embedding, metadata = { text: pageContent, metadata: document.metadata }. Filters are
// translated to AkiDB's metadata filter (filterFromLangChain below); a native AkiDB filter
// ({ must, should, must_not }) is passed through as is.
import { VectorStore } from '@langchain/core/vectorstores';
import { Document } from '@langchain/core/documents';
import { AkiDB } from 'akidb';

const NATIVE = new Set(['must', 'should', 'must_not']);
const OPS = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists']);

function invalid(message) {
  const err = new Error(`INVALID_ARGUMENT: ${message}`);
  err.name = 'AkiDBError';
  err.code = 'INVALID_ARGUMENT';
  return err;
}

/**
 * A LangChain filter -> an AkiDB filter. `{ field: value }` is equality on the document's
 * metadata field (dotted paths reach nested fields); `{ field: { $eq | $ne | $in | $nin | $gt |
 * $gte | $lt | $lte | $exists } }` the usual operators; several fields all hold. An object with
 * only `must` / `should` / `must_not` is already an AkiDB filter (its keys address the stored
 * record: `metadata.<field>`). Anything else is INVALID_ARGUMENT naming the key.
 */
export function filterFromLangChain(filter) {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw invalid('a filter is an object of metadata fields');
  const keys = Object.keys(filter);
  if (keys.length > 0 && keys.every((k) => NATIVE.has(k))) return filter;
  const must = [];
  const mustNot = [];
  for (const [field, cond] of Object.entries(filter)) {
    if (field.startsWith('$')) throw invalid(`filter key '${field}': operators go inside a field, e.g. { year: { $gte: 2020 } }`);
    const key = `metadata.${field}`;
    if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) {
      if (Array.isArray(cond)) throw invalid(`filter.${field}: use { $in: [...] } to match any of several values`);
      must.push({ key, match: cond });
      continue;
    }
    const range = {};
    for (const [op, v] of Object.entries(cond)) {
      if (!OPS.has(op)) throw invalid(`filter.${field}: unknown operator '${op}' (known: ${[...OPS].join(', ')})`);
      if (op === '$eq') must.push({ key, match: v });
      else if (op === '$ne') mustNot.push({ key, match: v });
      else if (op === '$in') must.push({ key, match: { any: v } });
      else if (op === '$nin') mustNot.push({ key, match: { any: v } });
      else if (op === '$exists') must.push({ key, exists: Boolean(v) });
      else range[op.slice(1)] = v;
    }
    if (Object.keys(range).length) must.push({ key, range });
  }
  const out = {};
  if (must.length) out.must = must;
  if (mustNot.length) out.must_not = mustNot;
  return out;
}

const newId = () => globalThis.crypto.randomUUID();

/** A LangChain VectorStore whose documents live in an AkiDB collection. */
export class AkiDBVectorStore extends VectorStore {
  /**
   * `args.collection`: an open AkiDB `Collection` (its dimension must match the embeddings).
   * Use `AkiDBVectorStore.open` / `fromTexts` / `fromDocuments` to create one by name.
   */
  constructor(embeddings, args) {
    super(embeddings, args);
    if (!args?.collection) throw invalid("AkiDBVectorStore needs { collection }: an open AkiDB Collection (or use AkiDBVectorStore.open)");
    this.collection = args.collection;
  }

  _vectorstoreType() {
    return 'akidb';
  }

  /**
   * Opens (get-or-create) the collection `collectionName` in `db` (default: a new memory
   * database), with `dimension` (default: the length of `embeddings.embedQuery('dimension')`)
   * and `distance` (default 'cosine').
   */
  static async open(embeddings, { db, collectionName = 'langchain', dimension, distance } = {}) {
    const database = db ?? (await AkiDB.open());
    const dim = dimension ?? (await embeddings.embedQuery('dimension')).length;
    const spec = distance ? { dimension: dim, distance } : { dimension: dim };
    await database.createCollection(collectionName, spec, { ifNotExists: true });
    return new AkiDBVectorStore(embeddings, { collection: await database.collection(collectionName) });
  }

  /** Upserts one record per document (one commit); returns the ids (options.ids, document ids, or new UUIDs). */
  async addVectors(vectors, documents, options = {}) {
    if (vectors.length !== documents.length) throw invalid(`addVectors: ${vectors.length} vectors for ${documents.length} documents`);
    if (options.ids && options.ids.length !== documents.length) throw invalid(`addVectors: ${options.ids.length} ids for ${documents.length} documents`);
    const ids = documents.map((d, i) => options.ids?.[i] ?? d.id ?? newId());
    if (documents.length === 0) return [];
    const records = documents.map((d, i) => ({
      id: String(ids[i]),
      vector: vectors[i],
      metadata: { text: d.pageContent, metadata: d.metadata ?? {} },
    }));
    await this.collection.upsert(records);
    return ids.map(String);
  }

  /** Embeds the documents' text and adds them. */
  async addDocuments(documents, options) {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /** The `k` nearest documents with their scores (higher is closer), optionally filtered. */
  async similaritySearchVectorWithScore(query, k, filter) {
    const hits = await this.collection.search(query, { k, filter: filterFromLangChain(filter), includeMetadata: true });
    return hits.map((h) => [
      new Document({ id: h.id, pageContent: h.metadata?.text ?? '', metadata: h.metadata?.metadata ?? {} }),
      h.score,
    ]);
  }

  /** Deletes documents by id (`{ ids: [...] }`; one commit). */
  async delete(params = {}) {
    const ids = params.ids;
    if (!Array.isArray(ids)) throw invalid('delete takes { ids: [...] }');
    if (ids.length) await this.collection.delete(ids.map(String));
  }

  /** A store over `dbConfig` (see `open`) holding `texts` with `metadatas` (one object, or one per text). */
  static async fromTexts(texts, metadatas, embeddings, dbConfig = {}) {
    const docs = texts.map(
      (t, i) => new Document({ pageContent: t, metadata: Array.isArray(metadatas) ? (metadatas[i] ?? {}) : (metadatas ?? {}) }),
    );
    return AkiDBVectorStore.fromDocuments(docs, embeddings, dbConfig);
  }

  /** A store over `dbConfig` (see `open`) holding `docs`. */
  static async fromDocuments(docs, embeddings, dbConfig = {}) {
    const store = await AkiDBVectorStore.open(embeddings, dbConfig);
    await store.addDocuments(docs, dbConfig.ids ? { ids: dbConfig.ids } : undefined);
    return store;
  }
}

export default { AkiDBVectorStore, filterFromLangChain };
