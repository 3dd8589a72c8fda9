// `akidb compact` and `akidb gc`: the library's collection.compact and db.collectGarbage, with
// their receipts printed.
import { JSON_OUT, wholeNumber } from './args.mjs';
import { openCollection, openStore } from './stores.mjs';
import { bytes, int, out, outJson } from './ui.mjs';

export const compact = {
  name: 'compact',
  brief: 'merge segments (collection.compact), print the receipt',
  usage: 'compact STORE COLLECTION [--full] [--auto] [--gc] [--max-rounds N] [--max-input-bytes N] [--json]',
  summary: 'Merge a collection\'s segments (collection.compact): drops replaced and deleted records; 8,192 or more records get a partition index. Prints the compaction receipt.',
  positionals: ['STORE', 'COLLECTION'],
  options: {
    full: { type: 'boolean', describe: 'rewrite every segment that fits the budget, not just what the size-tiered policy asks for' },
    auto: { type: 'boolean', describe: 'only when the collection needs it (what automatic compaction does)' },
    gc: { type: 'boolean', describe: 'run one garbage-collection pass after a compaction that merged something' },
    'max-rounds': { type: 'string', value: 'N', describe: 'most merges (each one commit), 1..1000' },
    'max-input-bytes': { type: 'string', value: 'N', describe: 'most bytes of input segments one merge reads' },
    ...JSON_OUT,
  },
  examples: ['akidb compact file:./data docs --full --gc'],
  async run({ values, positionals }) {
    const opts = {};
    if (values.full) opts.full = true;
    if (values.auto) opts.auto = true;
    if (values.gc) opts.gc = true;
    const rounds = wholeNumber(values.maxRounds, 'max-rounds', 1, 1000);
    if (rounds !== undefined) opts.maxRounds = rounds;
    const budget = wholeNumber(values.maxInputBytes, 'max-input-bytes', 1, 4294967296);
    if (budget !== undefined) opts.maxInputBytes = budget;
    const { db, store } = await openStore(positionals.store, { mustExist: true });
    const c = await openCollection(db, store, positionals.collection);
    const r = await c.compact(opts);
    if (values.json) return outJson(r);
    const lines = [
      `compacted ${positionals.collection}: ${r.segmentsBefore} -> ${r.segmentsAfter} segments in ${r.merges} merge${r.merges === 1 ? '' : 's'} (${r.commits} commit${r.commits === 1 ? '' : 's'}), version ${r.version}`,
      `  records dropped ${int(r.recordsDropped)}, tombstones retired ${int(r.tombstonesRetired)}`,
      `  read ${bytes(r.bytesRead)}, wrote ${bytes(r.bytesWritten)}${r.superseded ? `, ${r.superseded} merges superseded` : ''}`,
    ];
    if (r.gc) lines.push(`  gc: generation ${r.gc.generation}, ${r.gc.deleted.length} objects deleted, ${r.gc.keptRecent} kept (recent)`);
    if (r.gcError) lines.push(`  gc failed: ${r.gcError.code}: ${r.gcError.message}`);
    await out(lines.join('\n') + '\n');
  },
};

export const gc = {
  name: 'gc',
  brief: 'one garbage-collection pass, print the report',
  usage: 'gc STORE [COLLECTION] [--json]',
  summary: 'One garbage-collection pass (db.collectGarbage) over a collection, or every collection of the store: deletes unlisted segment objects no commit can list any more and objects of dropped incarnations. Prints each report.',
  details: 'Safe beside writers: an orphan is deleted by the second pass after it was written.',
  positionals: ['STORE', 'COLLECTION?'],
  options: { ...JSON_OUT },
  examples: ['akidb gc file:./data', 'akidb gc file:./data docs --json'],
  async run({ values, positionals }) {
    const { db, store } = await openStore(positionals.store, { mustExist: true });
    let names;
    if (positionals.collection !== undefined) {
      await openCollection(db, store, positionals.collection);
      names = [positionals.collection];
    } else {
      names = (await db.listCollections()).map((c) => c.name);
    }
    const reports = [];
    for (const name of names) {
      const r = await db.collectGarbage(name);
      reports.push({ collection: name, ...r });
      if (!values.json) {
        const lines = [`gc ${name}: generation ${r.generation}, ${r.deleted.length} deleted, ${r.keptRecent} kept (recent), ${r.keptUnknown} kept (unknown layout)`];
        for (const k of r.deleted) lines.push(`  deleted ${k}`);
        await out(lines.join('\n') + '\n');
      }
    }
    if (values.json) return outJson(positionals.collection !== undefined ? reports[0] : reports);
    if (!names.length) await out(`no collections in ${store.label}\n`);
  },
};
