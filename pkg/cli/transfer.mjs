// `akidb export`, `akidb import`, `akidb copy`: records out of a collection as JSON lines
// (streamed from collection.scan, one snapshot), into one in batched upserts applied exactly once
// (./upload.mjs), and from one store to another.
import fs from 'node:fs';
import path from 'node:path';

import { choice, CliError, JSON_OUT, jsonValue, PROGRESS, wholeNumber } from './args.mjs';
import { decodeRecord, encodeRecord, readLines, recordsOf } from './records.mjs';
import { openCollection, openStore } from './stores.mjs';
import { int, note, outJson, Progress, wantProgress } from './ui.mjs';
import { Batcher, upsertOnce } from './upload.mjs';

const BATCH = { 'batch-size': { type: 'string', value: 'N', default: '5000', describe: 'records per batch (per upsert: one segment and one commit)' } };
const DISTANCES = ['cosine', 'l2', 'dot'];

/** A writable sink for lines: stdout or a file written beside its name and renamed at the end. */
class Sink {
  constructor(file) {
    this.file = file;
    if (file === undefined || file === '-') {
      this.stream = process.stdout;
    } else {
      this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}`);
      this.stream = fs.createWriteStream(this.tmp, { flags: 'wx' });
      // Interrupted: no partial file left behind.
      this.onSignal = () => {
        fs.rmSync(this.tmp, { force: true });
        process.exit(130);
      };
      process.once('SIGINT', this.onSignal);
      process.once('SIGTERM', this.onSignal);
    }
    this.failed = null;
    this.stream.on('error', (e) => (this.failed = e));
  }

  async write(text) {
    if (this.failed) throw this.failed;
    if (!this.stream.write(text)) {
      await new Promise((resolve, reject) => {
        const done = (e) => (this.stream.off('drain', done), this.stream.off('error', done), e ? reject(e) : resolve());
        this.stream.once('drain', done);
        this.stream.once('error', done);
      });
    }
  }

  /** Flushes; a file appears under its name only now, whole. */
  async close() {
    if (this.stream === process.stdout) {
      await new Promise((resolve, reject) => process.stdout.write('', (e) => (e ? reject(e) : resolve())));
      return;
    }
    await new Promise((resolve, reject) => this.stream.end((e) => (e ? reject(e) : resolve())));
    if (this.failed) throw this.failed;
    fs.renameSync(this.tmp, this.file);
    this.unhook();
  }

  unhook() {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  abort() {
    if (this.tmp) {
      this.unhook();
      this.stream.destroy();
      fs.rmSync(this.tmp, { force: true });
    }
  }
}

export const exportCmd = {
  name: 'export',
  brief: 'records as JSON lines to stdout or a file, streaming',
  usage: 'export STORE COLLECTION [--format jsonl] [-o FILE] [--filter JSON] [--batch-size N]',
  summary: 'Write every live record of a collection (one snapshot: the newest version of each id, deleted ones left out) as JSON lines {"id","vector","metadata"} to stdout or a file, streaming.',
  details: `Vectors are written with enough digits to read back bit for bit. A file is written under a
temporary name and renamed when complete, so a failed export never leaves a partial FILE.
Cosine collections store normalised vectors; that is what is exported.`,
  positionals: ['STORE', 'COLLECTION'],
  options: {
    format: { type: 'string', value: 'jsonl', default: 'jsonl', describe: 'output format (only jsonl)' },
    output: { type: 'string', short: 'o', value: 'FILE', describe: 'write to FILE instead of stdout' },
    filter: { type: 'string', value: 'JSON', describe: 'only records whose metadata match this filter' },
    'batch-size': { type: 'string', value: 'N', default: '1000', describe: 'records per scan batch (memory held at once)' },
    ...PROGRESS,
  },
  examples: ['akidb export file:./data docs -o docs.jsonl', 'akidb export file:./data docs | gzip > docs.jsonl.gz'],
  async run({ values, positionals }) {
    choice(values.format, 'format', ['jsonl']);
    const batchSize = wholeNumber(values.batchSize, 'batch-size', 1, 100000);
    const filter = jsonValue(values.filter, 'filter', 'a filter object');
    const toStdout = values.output === undefined || values.output === '-';
    if (!toStdout && fs.existsSync(values.output)) throw new CliError(`${values.output} exists; remove it or choose another -o FILE`);
    const { db, store } = await openStore(positionals.store, { mustExist: true });
    const c = await openCollection(db, store, positionals.collection);
    const m = await c.manifest();
    const bar = new Progress(`export ${positionals.collection}`, m.total_vectors, wantProgress(values, { stdoutIsData: toStdout }));
    const sink = new Sink(values.output);
    let n = 0;
    try {
      const opts = { batchSize, includeVectors: true, includeMetadata: true, ...(filter !== undefined ? { filter } : {}) };
      for await (const item of c.scan(opts)) {
        const lines = [];
        for (const r of recordsOf(item)) lines.push(encodeRecord(r));
        n += lines.length;
        await sink.write(lines.join(''));
        bar.update(n);
      }
      await sink.close();
    } catch (e) {
      sink.abort();
      throw e;
    }
    bar.total = n;
    bar.finish();
    if (!toStdout && !values.quiet) note(`exported ${int(n)} records of ${positionals.collection} (version ${m.version}) to ${values.output}`);
  },
};

export const importCmd = {
  name: 'import',
  brief: 'upsert a JSON lines file in batches, exactly once (--create)',
  usage: 'import STORE COLLECTION FILE [--create] [--distance cosine|l2|dot] [--batch-size N] [--json]',
  summary: 'Upsert the records of a JSON lines file ({"id","vector","metadata"} per line; - for stdin) into a collection in batches, each applied exactly once however its attempts fail.',
  details: `With --create a missing collection is created first: dimension from the first record,
distance from --distance (default cosine). An existing collection must match them.
A batch that fails with OUTCOME_UNKNOWN is settled by operationStatus before it is retried;
CONFLICT and STORAGE failures (nothing committed) are retried with backoff.`,
  positionals: ['STORE', 'COLLECTION', 'FILE'],
  options: {
    create: { type: 'boolean', describe: 'create the collection if it does not exist' },
    distance: { type: 'string', value: 'cosine|l2|dot', describe: 'distance of a collection --create makes (default cosine)' },
    ...BATCH,
    ...JSON_OUT,
    ...PROGRESS,
  },
  examples: ['akidb import file:./restored docs docs.jsonl --create --distance l2', 'zcat docs.jsonl.gz | akidb import file:./data docs - --create'],
  async run({ values, positionals }) {
    const batchSize = wholeNumber(values.batchSize, 'batch-size', 1, 100000);
    const distance = choice(values.distance, 'distance', DISTANCES);
    if (distance && !values.create) throw new CliError('--distance only applies with --create');
    const file = positionals.file;
    const lines = readLines(file);
    const { db, store } = await openStore(positionals.store, { mustExist: !values.create });
    let c = null;
    try {
      c = await db.collection(positionals.collection);
    } catch (e) {
      if (e?.code !== 'NOT_FOUND') throw e;
      if (!values.create) {
        throw new CliError(`collection '${positionals.collection}' not found in ${store.label}`, {
          hint: 'pass --create to create it (dimension from the data, --distance cosine|l2|dot)',
        });
      }
    }
    if (c && distance) {
      const have = (await c.manifest()).distance;
      if (have !== distance) throw new CliError(`collection '${positionals.collection}' exists with distance ${have}, not ${distance}`);
    }
    let created = false;
    const ensure = async (first) => {
      if (c) return c;
      await db.createCollection(positionals.collection, { dimension: first.vector.length, distance: distance ?? 'cosine' }, { ifNotExists: true });
      created = true;
      c = await db.collection(positionals.collection);
      return c;
    };
    const bar = new Progress(`import ${positionals.collection}`, 0, wantProgress(values));
    const stats = { records: 0, batches: 0, retries: 0, settled: 0, fences: 0, unknown: 0, version: c?.version ?? 0 };
    const batcher = new Batcher(batchSize);
    let first = 0;
    let last = 0;
    const send = async (batch) => {
      if (!batch.length) return;
      const coll = await ensure(batch[0]);
      const r = await upsertOnce(coll, batch, { what: `${file} lines ${first}-${last}`, fence: () => db.collectGarbage(positionals.collection) });
      stats.records += batch.length;
      stats.batches++;
      stats.retries += r.retries;
      stats.settled += r.settled ? 1 : 0;
      stats.fences += r.fences;
      stats.unknown += r.unknown;
      stats.version = r.version;
      bar.update(stats.records);
      first = 0;
    };
    for await (const { line, number } of lines) {
      const rec = decodeRecord(line, `${file}:${number}`);
      if (!first) first = number;
      last = number;
      await send(batch(batcher.add(rec)));
    }
    await send(batcher.take());
    bar.finish();
    const result = { collection: positionals.collection, created, ...stats };
    if (values.json) return outJson(result);
    if (!values.quiet) {
      note(`imported ${int(stats.records)} records into ${positionals.collection} in ${stats.batches} batches (version ${stats.version}${created ? ', collection created' : ''}${stats.retries ? `, ${stats.retries} retries` : ''})`);
    }
  },
};

const batch = (b) => b ?? [];

export const copy = {
  name: 'copy',
  brief: 'copy a collection between any two stores',
  usage: 'copy SRC DST COLLECTION [--to NAME] [--batch-size N] [--json]',
  summary: 'Copy every live record of a collection from one store to another (any two stores), creating it in DST with the same dimension and distance; batches are applied exactly once.',
  details: 'An existing collection in DST must have the same spec; copied records replace records with the same id there.',
  positionals: ['SRC', 'DST', 'COLLECTION'],
  options: {
    to: { type: 'string', value: 'NAME', describe: 'name of the collection in DST (default: the same)' },
    ...BATCH,
    ...JSON_OUT,
    ...PROGRESS,
  },
  examples: ['akidb copy file:./data "s3://backups/akidb?endpoint=http://127.0.0.1:9000" docs'],
  async run({ values, positionals }) {
    const batchSize = wholeNumber(values.batchSize, 'batch-size', 1, 100000);
    const { db: from, store: src } = await openStore(positionals.src, { mustExist: true });
    const source = await openCollection(from, src, positionals.collection);
    const m = await source.manifest();
    const { db: to } = await openStore(positionals.dst);
    const name = values.to ?? positionals.collection;
    const info = await to.createCollection(name, { dimension: m.dimension, distance: m.distance }, { ifNotExists: true });
    const dest = await to.collection(name);
    const bar = new Progress(`copy ${positionals.collection}`, m.total_vectors, wantProgress(values));
    const stats = { records: 0, batches: 0, retries: 0, settled: 0, fences: 0, unknown: 0, version: info.version };
    const batcher = new Batcher(batchSize);
    const send = async (b) => {
      if (!b.length) return;
      const r = await upsertOnce(dest, b, { what: `records ${stats.records + 1}-${stats.records + b.length}`, fence: () => to.collectGarbage(name) });
      stats.records += b.length;
      stats.batches++;
      stats.retries += r.retries;
      stats.settled += r.settled ? 1 : 0;
      stats.fences += r.fences;
      stats.unknown += r.unknown;
      stats.version = r.version;
      bar.update(stats.records);
    };
    for await (const item of source.scan({ batchSize, includeVectors: true, includeMetadata: true })) {
      for (const r of recordsOf(item)) await send(batch(batcher.add(r)));
    }
    await send(batcher.take());
    bar.total = stats.records;
    bar.finish();
    const result = { collection: name, sourceVersion: m.version, ...stats };
    if (values.json) return outJson(result);
    if (!values.quiet) note(`copied ${int(stats.records)} records of ${positionals.collection} (version ${m.version}) to ${name} in ${stats.batches} batches (version ${stats.version})`);
  },
};
