// `akidb ls` and `akidb inspect`: what a store holds, from the manifests (and, for the index
// column, each segment's header read by range through db.verify({ headersOnly: true })).
import { JSON_OUT, wholeNumber } from './args.mjs';
import { openCollection, openStore } from './stores.mjs';
import { bytes, int, out, outJson, table, time } from './ui.mjs';

export const ls = {
  name: 'ls',
  brief: 'list collections: version, records, segments, bytes, index state',
  usage: 'ls STORE [--json]',
  summary: 'List the collections of a store: version, records, segments, bytes and index state.',
  details: `RECORDS counts the records stored across listed segments (records replaced by a newer
upsert or deleted count until compaction drops them). INDEX: "none", "indexed" (every segment has a
partition index) or "K/N indexed".`,
  positionals: ['STORE'],
  options: { ...JSON_OUT },
  examples: ['akidb ls file:./data', 'akidb ls "s3://my-bucket/akidb?endpoint=https://s3.eu-west-1.amazonaws.com&region=eu-west-1"'],
  async run({ values, positionals }) {
    const { db, store } = await openStore(positionals.store, { mustExist: true });
    const rows = [];
    for (const info of await db.listCollections()) {
      const c = await db.collection(info.name);
      const m = await c.manifest();
      const headers = await segmentHeaders(db, info.name);
      const indexed = m.segments.filter((s) => headers.get(s.id)?.partitions != null).length;
      rows.push({
        name: info.name,
        dimension: m.dimension,
        distance: m.distance,
        version: m.version,
        records: m.total_vectors,
        segments: m.segments.length,
        bytes: m.segments.reduce((a, s) => a + s.size_bytes, 0),
        tombstones: m.tombstones.length,
        indexedSegments: indexed,
        index: indexState(indexed, m.segments.length),
      });
    }
    if (values.json) return outJson(rows);
    if (!rows.length) return out(`no collections in ${store.label}\n`);
    await out(
      table(
        ['NAME', 'DIM', 'DISTANCE', 'VERSION', 'RECORDS', 'SEGMENTS', 'BYTES', 'INDEX'],
        rows.map((r) => [r.name, r.dimension, r.distance, r.version, int(r.records), r.segments, bytes(r.bytes), r.index]),
        { right: [4, 6] },
      ),
    );
  },
};

function indexState(indexed, total) {
  if (indexed === 0) return 'none';
  return indexed === total ? 'indexed' : `${indexed}/${total} indexed`;
}

/** Segment id -> { format, partitions, ok } from the headers (an empty map if that failed). */
async function segmentHeaders(db, name) {
  try {
    const r = await db.verify(name, { headersOnly: true });
    return new Map(r.segments.map((s) => [s.id, s]));
  } catch {
    return new Map();
  }
}

export const inspect = {
  name: 'inspect',
  brief: "a collection's manifest: segments, tombstones, recent commits (--json: raw)",
  usage: 'inspect STORE COLLECTION [--json] [--commits N]',
  summary: 'Summarise a collection\'s manifest: its segments (state, size, records, generation, index), tombstones, and the recent commits of its operation history.',
  details: '--json prints the raw committed manifest (the JSON object stored at collections/NAME/manifest.json).',
  positionals: ['STORE', 'COLLECTION'],
  options: {
    ...JSON_OUT,
    commits: { type: 'string', value: 'N', default: '10', describe: 'how many recent commits to show' },
  },
  examples: ['akidb inspect file:./data docs', 'akidb inspect file:./data docs --json | jq .segments'],
  async run({ values, positionals }) {
    const commits = wholeNumber(values.commits, 'commits', 0, 256);
    const { db, store } = await openStore(positionals.store, { mustExist: true });
    const c = await openCollection(db, store, positionals.collection);
    const m = await c.manifest();
    if (values.json) return outJson(m);
    const headers = await segmentHeaders(db, m.collection);
    const total = m.segments.reduce((a, s) => a + s.size_bytes, 0);
    const retired = m.retired?.length ?? 0;
    const lines = [
      `collection  ${m.collection} in ${store.label} (incarnation ${m.incarnation}, manifest format ${m.format})`,
      `vectors     dimension ${m.dimension}, ${m.distance}`,
      `version     ${m.version}, updated ${time(m.updated_at_ms)}, created ${time(m.created_at_ms)}`,
      `records     ${int(m.total_vectors)} in ${m.segments.length} segment${m.segments.length === 1 ? '' : 's'} (${bytes(total)})`,
      `tombstones  ${int(m.tombstones.length)}`,
      `gc          generation ${m.gc_gen}; ${retired} retired segment${retired === 1 ? '' : 's'} kept for older snapshots`,
      '',
    ];
    await out(lines.join('\n'));
    if (m.segments.length) {
      const rows = m.segments.map((s) => {
        const h = headers.get(s.id);
        const index = !h ? '?' : !h.ok && h.format == null ? 'unreadable' : h.partitions != null ? `${h.partitions} partitions` : 'none';
        return [s.id, s.state, int(s.record_count), bytes(s.size_bytes), s.seq, s.gen, h?.format ?? '?', index];
      });
      await out(table(['SEGMENT', 'STATE', 'RECORDS', 'BYTES', 'SEQ', 'GEN', 'FORMAT', 'INDEX'], rows, { right: [2, 3] }) + '\n');
    }
    const { from, ops } = m.history;
    const shown = ops.slice(Math.max(0, ops.length - commits)).map((op, i, a) => [from + ops.length - a.length + i, op]);
    if (commits > 0 && shown.length) {
      await out(`recent commits (the history remembers versions ${from}..${from + ops.length - 1}):\n`);
      await out(table(['VERSION', 'OPERATION'], shown.reverse()));
    }
  },
};
