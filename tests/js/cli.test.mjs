// The akidb command (pkg/cli.mjs) as a child process on the fs store: --help on every command,
// unknown flags, commands and store schemes, missing credentials and collections (exit 2);
// ls / inspect / compact / gc / search output and --json; export of a 10,000-record collection ->
// import into another store -> the same records (get of every id bit-exact, equal metadata) and
// the same exact top-10 for 100 queries; copy between stores; import from stdin, bad lines,
// duplicate ids; verify exit 0 on a clean collection and 1 naming the key after one byte of a
// segment object is flipped or the object deleted. Requires pkg/ to be built.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { AkiDB } from '../../pkg/node.mjs';
import { assertSameRecords, fillCollection, fsKeyDir, fsObjectFile, runCli } from './lib/cli.mjs';

const OPTS = { logLevel: 'error', autoCompact: false };
const made = [];
const fresh = (what = 'cli') => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `akidb-${what}-`));
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

const COMMANDS = ['ls', 'inspect', 'verify', 'compact', 'gc', 'export', 'import', 'copy', 'search'];

/** A small fs store with collection `c` (l2, dimension 4) of `n` records in two segments. */
async function small(n = 40) {
  const dir = fresh();
  const db = await AkiDB.open({ store: 'fs', path: dir, ...OPTS });
  await db.createCollection('c', { dimension: 4, distance: 'l2' });
  const c = await db.collection('c');
  const recs = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, vector: [i, i % 3, -i / 7, 1], metadata: { i, even: i % 2 === 0 } }));
  await c.upsert(recs.slice(0, n / 2));
  await c.upsert(recs.slice(n / 2));
  return { dir, db, c, url: `file:${dir}` };
}

describe('help, arguments and errors', () => {
  test('akidb --help lists every command; each command has --help (exit 0)', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'), c);
    for (const c of COMMANDS) {
      const r = await runCli([c, '--help']);
      assert.equal(r.code, 0, `${c} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: akidb ${c} `), c);
      assert.match(r.stdout, /--help/);
    }
    assert.equal((await runCli(['help', 'verify'])).stdout, (await runCli(['verify', '-h'])).stdout);
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /usage: akidb COMMAND/);
  });

  test('unknown flags, commands and argument counts are errors (exit 2) naming what to fix', async () => {
    const { url } = await small();
    let r = await runCli(['ls', url, '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --bogus/);
    r = await runCli(['ls', url, '--jsn']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /did you mean --json\?/);
    r = await runCli(['lss', url]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'lss'; did you mean 'ls'\?/);
    r = await runCli(['inspect', url]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /inspect: expected 2 arguments \(STORE COLLECTION\), got 1/);
    r = await runCli(['search', url, 'c', '-k', 'ten', '--vector', '[1,2,3,4]']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--k must be a whole number/);
    r = await runCli(['search', url, 'c']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly one of --vector JSON or --id ID/);
  });

  test('unknown store schemes, bare paths, missing stores, credentials and collections (exit 2)', async () => {
    const { url } = await small();
    let r = await runCli(['ls', 'ftp://x/y']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown store scheme 'ftp:'.*file:PATH, s3:\/\/bucket\/prefix\?endpoint=URL or memory:/);
    r = await runCli(['ls', './data']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /for a directory write file:\.\/data/);
    const missing = path.join(fresh(), 'nothing-here');
    r = await runCli(['ls', `file:${missing}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does not exist/);
    assert.ok(!fs.existsSync(missing), 'a reading command creates no directory');
    r = await runCli(['ls', 's3://bucket/prefix?endpoint=http://127.0.0.1:9'], { cleanEnv: true });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing S3 credentials.*set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    r = await runCli(['ls', 's3://bucket/p?endpoint=http://127.0.0.1:9&regin=x'], { env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown S3 URL parameter 'regin'/);
    for (const args of [['inspect', url, 'nope'], ['verify', url, 'nope'], ['export', url, 'nope'], ['gc', url, 'nope'], ['compact', url, 'nope']]) {
      r = await runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /collection 'nope' not found in file:/, args.join(' '));
    }
    r = await runCli(['import', url, 'nope', path.join(fresh(), 'x.jsonl')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read .*x\.jsonl: no such file/);
  });
});

describe('reading and maintenance commands', () => {
  let s;
  before(async () => {
    s = await small();
  });

  test('ls: a row per collection; --json with version, records, segments, bytes, index', async () => {
    await s.db.createCollection('empty', { dimension: 8 });
    const r = await runCli(['ls', s.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME +DIM +DISTANCE +VERSION +RECORDS +SEGMENTS +BYTES +INDEX$/m);
    assert.match(r.stdout, /^c +4 +l2 +3 +40 +2 +[\d.]+ \w?i?B +none$/m);
    const j = JSON.parse((await runCli(['ls', s.url, '--json'])).stdout);
    const m = await s.c.manifest();
    assert.deepEqual(j.find((x) => x.name === 'c'), {
      name: 'c',
      dimension: 4,
      distance: 'l2',
      version: m.version,
      records: 40,
      segments: 2,
      bytes: m.segments.reduce((a, d) => a + d.size_bytes, 0),
      tombstones: 0,
      indexedSegments: 0,
      index: 'none',
    });
    assert.equal(j.find((x) => x.name === 'empty').segments, 0);
    await s.db.dropCollection('empty');
  });

  test('inspect: segments, tombstones and recent commits; --json is the raw manifest', async () => {
    await s.c.delete(['r1']);
    const m = await s.c.manifest();
    const r = await runCli(['inspect', s.url, 'c']);
    assert.equal(r.code, 0, r.stderr);
    for (const d of m.segments) assert.match(r.stdout, new RegExp(`^${d.id} +Active +20 +.* +${d.seq} +${d.gen} +1 +none$`, 'm'));
    assert.match(r.stdout, /^tombstones +1$/m);
    assert.match(r.stdout, new RegExp(`^ +${m.version} +${m.history.ops.at(-1)}$`, 'm'), 'the latest commit first');
    const j = JSON.parse((await runCli(['inspect', s.url, 'c', '--json'])).stdout);
    assert.deepEqual(j, m);
  });

  test('search by --vector and --id, with -k, --filter and --json', async () => {
    let r = await runCli(['search', s.url, 'c', '--vector', '[10,1,-1.4,1]', '-k', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const hits = JSON.parse(r.stdout);
    assert.deepEqual(hits.map((h) => h.id), ['r10', 'r9', 'r11']);
    assert.deepEqual(hits[0].metadata, { i: 10, even: true });
    assert.deepEqual(hits, await s.c.search([10, 1, -1.4, 1], { k: 3, includeMetadata: true }));
    r = await runCli(['search', s.url, 'c', '--id', 'r7', '-k', '2', '--filter', '{"must":[{"key":"even","match":true}]}', '--json']);
    assert.deepEqual(JSON.parse(r.stdout).map((h) => h.id).sort(), ['r6', 'r8'], 'the two even neighbours (equally far)');
    r = await runCli(['search', s.url, 'c', '--id', 'r7', '-k', '2']);
    assert.match(r.stdout, /^RANK +ID +SCORE +METADATA\n +1 +r7 +/);
    r = await runCli(['search', s.url, 'c', '--id', 'missing']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /record 'missing' not found/);
    r = await runCli(['search', s.url, 'c', '--vector', '[1,2]']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /INVALID_ARGUMENT: .*dimension 2/);
  });

  test('compact and gc print their receipts (text and --json)', async () => {
    let r = await runCli(['compact', s.url, 'c', '--full', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const receipt = JSON.parse(r.stdout);
    assert.equal(receipt.segmentsBefore, 2);
    assert.equal(receipt.segmentsAfter, 1);
    assert.equal(receipt.recordsDropped, 1, 'the deleted r1');
    r = await runCli(['verify', s.url, 'c', '--json']);
    assert.equal(JSON.parse(r.stdout).collections[0].retired, 2, 'the replaced segments are retired, not problems');
    r = await runCli(['gc', s.url, 'c']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^gc c: generation \d+, 0 deleted/m);
    r = await runCli(['gc', s.url, '--json']);
    const reports = JSON.parse(r.stdout);
    assert.equal(reports[0].collection, 'c');
    assert.equal(reports[0].deleted.length, 2, 'the second pass deletes both retired segments');
    assert.ok(reports[0].deleted.every((k) => k.startsWith('collections/c/1/segments/')));
    r = await runCli(['compact', s.url, 'c']);
    assert.match(r.stdout, /^compacted c: 1 -> 1 segments in 0 merges/m);
  });
});

describe('verify', () => {
  test('exit 0 on a clean collection and 1 naming the key after one byte of a segment object is flipped', async () => {
    const s = await small();
    let r = await runCli(['verify', s.url]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^c in file:.*: version 3, 2 segments, 40 records/m);
    assert.match(r.stdout, /^ +OK \(0 orphaned objects, 0 retired segments\)$/m);
    const m = await s.c.manifest();
    const key = `collections/c/${m.incarnation}/segments/${m.segments[1].gen}-${m.segments[1].id}.seg`;
    const file = fsObjectFile(s.dir, key);
    const b = fs.readFileSync(file);
    b[1 + Math.floor((b.length - 1) / 2)] ^= 0x10; // byte 0 is the fs store's slot header
    fs.writeFileSync(file, b);
    r = await runCli(['verify', s.url, 'c']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ +PROBLEM ${key}: checksum_mismatch: `, 'm'));
    assert.match(r.stdout, /^ +1 PROBLEM /m);
    const j = await runCli(['verify', s.url, 'c', '--json']);
    assert.equal(j.code, 1);
    const report = JSON.parse(j.stdout);
    assert.equal(report.ok, false);
    assert.deepEqual(report.collections[0].problems.map((p) => [p.key, p.kind]), [[key, 'checksum_mismatch']]);
    // Headers only reads the first bytes: the flip in the records is not seen (exit 0).
    assert.equal((await runCli(['verify', s.url, 'c', '--headers-only'])).code, 0);
  });

  test('exit 1 naming the key after one segment object is deleted; other collections still verified', async () => {
    const s = await small();
    await s.db.createCollection('other', { dimension: 2 });
    await (await s.db.collection('other')).upsert([{ id: 'x', vector: [1, 2] }]);
    const m = await s.c.manifest();
    const key = `collections/c/${m.incarnation}/segments/${m.segments[0].gen}-${m.segments[0].id}.seg`;
    fs.rmSync(fsKeyDir(s.dir, key), { recursive: true });
    const r = await runCli(['verify', s.url]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ +PROBLEM ${key}: missing: `, 'm'));
    assert.match(r.stdout, /^other in .*\n +OK/m);
    assert.match(r.stdout, /^1 of 2 collections have problems$/m);
    const h = await runCli(['verify', s.url, 'c', '--headers-only', '--json']);
    assert.equal(h.code, 1);
    assert.equal(JSON.parse(h.stdout).collections[0].problems[0].key, key);
  });

  test('a manifest that does not parse is a problem naming its key (exit 1), not a failure to run', async () => {
    const s = await small();
    const key = 'collections/c/manifest.json';
    fs.writeFileSync(fsObjectFile(s.dir, key), Buffer.from('\x01{ not json'));
    let r = await runCli(['verify', s.url, 'c']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`PROBLEM ${key}: manifest_corrupt: `));
    r = await runCli(['verify', s.url]);
    assert.equal(r.code, 2, 'the store cannot be listed');
    assert.match(r.stderr, /verify the collections by name/);
  });

  test('an orphaned object is counted, not a problem; --progress draws on stderr', async () => {
    const s = await small();
    const m = await s.c.manifest();
    const d = m.segments[0];
    const src = fsObjectFile(s.dir, `collections/c/1/segments/${d.gen}-${d.id}.seg`);
    const orphan = `collections/c/1/segments/${d.gen}-00000000-0000-4000-8000-00000000000a.seg`;
    const dst = path.join(fsKeyDir(s.dir, orphan), '%v', '0', '1');
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(src, dst);
    const r = await runCli(['verify', s.url, 'c', '--progress']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /OK \(1 orphaned object, 0 retired segments\)/);
    assert.match(r.stderr, /verify c \[#+\] 100%  2\/2 segments/);
    const quiet = await runCli(['verify', s.url, 'c']);
    assert.equal(quiet.stderr, '', 'no progress when stdout is not a terminal');
  });
});

describe('export, import, copy', () => {
  test('10,000 records: export -> import into another store -> the same records and the same exact top-10 for 100 queries', { timeout: 600_000 }, async () => {
    const srcDir = fresh('src');
    const src = await AkiDB.open({ store: 'fs', path: srcDir, ...OPTS });
    const deleted = await fillCollection(src, 'docs', { live: 10_000, dim: 16, distance: 'cosine' });
    const a = await src.collection('docs');
    assert.equal(await a.count(), 10_000);
    const file = path.join(fresh('dump'), 'docs.jsonl');
    let r = await runCli(['export', `file:${srcDir}`, 'docs', '-o', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /exported 10,000 records of docs/);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 10_000);
    const first = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(first), ['id', 'vector', 'metadata']);
    assert.equal(first.vector.length, 16);
    assert.ok(lines.some((l) => l.includes('"vector":[-0,')), '-0 is written as -0');
    assert.ok(lines.some((l) => l.endsWith('"metadata":null}')), 'records without metadata');
    assert.equal(fs.readdirSync(path.dirname(file)).length, 1, 'no temporary file left');
    r = await runCli(['export', `file:${srcDir}`, 'docs', '-o', file]);
    assert.equal(r.code, 2, 'an existing file is not overwritten');

    const dstDir = fresh('dst');
    r = await runCli(['import', `file:${dstDir}`, 'restored', file, '--create', '--distance', 'cosine', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const receipt = JSON.parse(r.stdout);
    assert.deepEqual({ ...receipt, version: 0 }, { collection: 'restored', created: true, records: 10_000, batches: 2, retries: 0, settled: 0, fences: 0, unknown: 0, version: 0 });
    const dst = await AkiDB.open({ store: 'fs', path: dstDir, ...OPTS });
    const b = await dst.collection('restored');
    assert.equal(receipt.version, b.version);
    assert.equal(await assertSameRecords(a, b, { deleted, queries: 100 }), 10_000);
    r = await runCli(['verify', `file:${dstDir}`, 'restored']);
    assert.equal(r.code, 0, r.stdout + r.stderr);

    // Importing the same file again changes no record (upserts are idempotent).
    r = await runCli(['import', `file:${dstDir}`, 'restored', file, '--batch-size', '3000']);
    assert.equal(r.code, 0, r.stderr);
    await b.refresh();
    assert.equal(await b.count(), 10_000);

    // copy: from the fs store to another one, without a file.
    const cpDir = fresh('copy');
    r = await runCli(['copy', `file:${srcDir}`, `file:${cpDir}`, 'docs', '--to', 'copied', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).records, 10_000);
    const cp = await (await AkiDB.open({ store: 'fs', path: cpDir, ...OPTS })).collection('copied');
    assert.equal((await cp.manifest()).distance, 'cosine');
    await assertSameRecords(a, cp, { deleted, queries: 20, seed: 5 });
  });

  test('import: stdin, --create dimension from the data, later duplicates win, bad lines name FILE:LINE', async () => {
    const dir = fresh();
    const url = `file:${dir}`;
    const text = [
      '{"id":"a","vector":[1,0,0],"metadata":{"n":1}}',
      '',
      '{"id":"b","vector":[0,1,0]}',
      '{"id":"a","vector":[0,0,1],"metadata":{"n":2}}',
    ].join('\n');
    let r = await runCli(['import', url, 'c', '-', '--create', '--distance', 'l2'], { input: text });
    assert.equal(r.code, 0, r.stderr);
    const c = await (await AkiDB.open({ store: 'fs', path: dir, ...OPTS })).collection('c');
    const m = await c.manifest();
    assert.deepEqual([m.dimension, m.distance], [3, 'l2']);
    const [a, b] = await c.get(['a', 'b']);
    assert.deepEqual([Array.from(a.vector), a.metadata], [[0, 0, 1], { n: 2 }]);
    assert.equal(b.metadata, null);
    const bad = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(bad, '{"id":"x","vector":[1,2,3]}\n{"id":"y","vector":[1,"2",3]}\n');
    r = await runCli(['import', url, 'c', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.jsonl:2: vector\[1\] is "2", not a finite number/);
    fs.writeFileSync(bad, '{"id":"x","vector":[1,2]}\n');
    r = await runCli(['import', url, 'c', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.jsonl lines 1-1: .*dimension/);
    r = await runCli(['import', url, 'c', bad, '--create', '--distance', 'dot']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exists with distance l2, not dot/);
    r = await runCli(['import', url, 'new', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /collection 'new' not found.*\n.*pass --create/);
  });

  test('export to stdout streams JSON lines; --filter; --progress on stderr; an unknown --format', async () => {
    const s = await small(40);
    let r = await runCli(['export', s.url, 'c', '--filter', '{"must":[{"key":"even","match":true}]}']);
    assert.equal(r.code, 0, r.stderr);
    const recs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(recs.length, 20);
    assert.ok(recs.every((x) => x.metadata.even));
    assert.equal(r.stderr, '', 'quiet when stdout is not a terminal');
    r = await runCli(['export', s.url, 'c', '-o', path.join(s.dir, 'x.jsonl'), '--progress']);
    assert.match(r.stderr, /export c \[#+\] 100%  40\/40 records/);
    r = await runCli(['export', s.url, 'c', '--format', 'csv']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format must be one of jsonl/);
  });
});
