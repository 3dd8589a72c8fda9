// Types of `akidb/langchain`: a LangChain.js VectorStore over an AkiDB collection (see langchain.js).
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { DocumentInterface } from '@langchain/core/documents';
import { VectorStore } from '@langchain/core/vectorstores';
import type { AkiDB, Collection, Distance, Filter, Scalar } from './index.js';

/** A field's condition in a LangChain-style filter. */
export type LangChainCondition =
  | Scalar
  | { $eq?: Scalar; $ne?: Scalar; $in?: Scalar[]; $nin?: Scalar[]; $gt?: number; $gte?: number; $lt?: number; $lte?: number; $exists?: boolean };

/** `{ field: value | { $op: value } }` on document metadata, or a native AkiDB `Filter` (keys `metadata.<field>`). */
export type AkiDBLangChainFilter = Record<string, LangChainCondition> | Filter;

/** Where `open` / `fromTexts` / `fromDocuments` keep the documents. */
export interface AkiDBVectorStoreConfig {
  /** An open database; default a new memory database. */
  db?: AkiDB;
  /** Collection name (created if missing, same spec required if present). Default 'langchain'. */
  collectionName?: string;
  /** Default: the embeddings' length. */
  dimension?: number;
  /** Default 'cosine'. */
  distance?: Distance;
  /** `fromTexts` / `fromDocuments`: ids of the documents, in order. */
  ids?: string[];
}

/** Translates a LangChain filter to AkiDB's metadata filter (throws INVALID_ARGUMENT naming a bad key). */
export declare function filterFromLangChain(filter?: AkiDBLangChainFilter | null): Filter | undefined;

/** A LangChain VectorStore whose documents are records of an AkiDB collection. */
export declare class AkiDBVectorStore extends VectorStore {
  FilterType: AkiDBLangChainFilter;
  /** The collection holding the documents. */
  collection: Collection;
  constructor(embeddings: EmbeddingsInterface, args: { collection: Collection });
  _vectorstoreType(): string;
  static open(embeddings: EmbeddingsInterface, config?: AkiDBVectorStoreConfig): Promise<AkiDBVectorStore>;
  addVectors(vectors: number[][], documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]>;
  addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]>;
  similaritySearchVectorWithScore(query: number[], k: number, filter?: AkiDBLangChainFilter): Promise<[DocumentInterface, number][]>;
  delete(params: { ids: string[] }): Promise<void>;
  static fromTexts(texts: string[], metadatas: object[] | object, embeddings: EmbeddingsInterface, dbConfig?: AkiDBVectorStoreConfig): Promise<AkiDBVectorStore>;
  static fromDocuments(docs: DocumentInterface[], embeddings: EmbeddingsInterface, dbConfig?: AkiDBVectorStoreConfig): Promise<AkiDBVectorStore>;
}

declare const _default: { AkiDBVectorStore: typeof AkiDBVectorStore; filterFromLangChain: typeof filterFromLangChain };
export default _default;
