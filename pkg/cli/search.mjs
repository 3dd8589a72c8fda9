// `akidb search`: collection.search with a query vector given as JSON or taken from a stored
// record (collection.get).
import { choice, CliError, JSON_OUT, jsonValue, number, wholeNumber } from './args.mjs';
import { openCollection, openStore } from './stores.mjs';
import { out, outJson, table } from './ui.mjs';

export const search = {
  name: 'search',
  brief: 'nearest neighbours of --vector JSON or --id ID',
  usage: 'search STORE COLLECTION (--vector JSON | --id ID) [-k 10] [--filter JSON] [--mode exact|flat|ann|int8] [--json]',
  summary: 'Nearest neighbours of a query vector (a JSON array) or of a stored record\'s vector (--id; the record itself is among the hits), best first.',
  details: 'Scores: cosine similarity, dot product, or negative squared L2 distance; higher is better.',
  positionals: ['STORE', 'COLLECTION'],
  options: {
    vector: { type: 'string', value: 'JSON', describe: 'the query, e.g. [0.1,0.2,0.3]' },
    id: { type: 'string', value: 'ID', describe: 'use the vector of the stored record ID as the query' },
    k: { type: 'string', short: 'k', value: 'N', default: '10', describe: 'number of hits, 1..10000' },
    filter: { type: 'string', value: 'JSON', describe: 'metadata filter, e.g. {"must":[{"key":"lang","match":"en"}]}' },
    mode: { type: 'string', value: 'MODE', describe: "'exact' (default), 'flat', 'ann' or 'int8'" },
    recall: { type: 'string', value: 'R', describe: "with --mode ann: the recall@10 to aim for, in (0, 1]" },
    'no-metadata': { type: 'boolean', describe: 'leave the hits\' metadata out' },
    ...JSON_OUT,
  },
  examples: ['akidb search file:./data docs --vector "[0.1,0.2,0.3]" -k 5', 'akidb search file:./data docs --id doc-42 --filter \'{"must":[{"key":"lang","match":"en"}]}\''],
  async run({ values, positionals }) {
    if ((values.vector === undefined) === (values.id === undefined)) throw new CliError('search needs exactly one of --vector JSON or --id ID');
    const k = wholeNumber(values.k, 'k', 1, 10000);
    const filter = jsonValue(values.filter, 'filter', 'a filter object');
    const mode = choice(values.mode, 'mode', ['exact', 'flat', 'ann', 'int8']);
    const recall = number(values.recall, 'recall', (r) => r > 0 && r <= 1, 'a number in (0, 1]');
    let query;
    if (values.vector !== undefined) {
      const v = jsonValue(values.vector, 'vector', 'an array of numbers');
      if (!Array.isArray(v) || !v.length || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        throw new CliError('--vector must be a non-empty JSON array of finite numbers');
      }
      query = Float32Array.from(v);
    }
    const { db, store } = await openStore(positionals.store, { mustExist: true });
    const c = await openCollection(db, store, positionals.collection);
    if (query === undefined) {
      const [rec] = await c.get([values.id], { includeVectors: true, includeMetadata: false });
      if (!rec) throw new CliError(`record '${values.id}' not found in collection '${positionals.collection}'`);
      query = rec.vector;
    }
    const includeMetadata = !values.noMetadata;
    const opts = { k, includeMetadata, ...(filter !== undefined ? { filter } : {}), ...(mode ? { mode } : {}), ...(recall !== undefined ? { recall } : {}) };
    const hits = await c.search(query, opts);
    if (values.json) return outJson(hits);
    if (!hits.length) return out('no hits\n');
    const rows = hits.map((h, i) => {
      const row = [i + 1, h.id, h.score.toPrecision(6)];
      if (includeMetadata) row.push(h.metadata == null ? '' : truncate(JSON.stringify(h.metadata), 80));
      return row;
    });
    await out(table(['RANK', 'ID', 'SCORE', ...(includeMetadata ? ['METADATA'] : [])], rows, { right: [2] }));
  },
};

function truncate(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
