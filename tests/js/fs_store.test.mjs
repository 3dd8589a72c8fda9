// `AkiDB.open({ store: 'fs', path })` in Node: the conformance suite on a real directory; 8 Node
// processes x 50 upserts on one directory -> 400/400 records and dense versions, against a
// negative control (a rename-based unconditional swap under the same schedule loses writes);
// writers killed with SIGKILL mid-commit -> no torn manifest and every acknowledged record
// present after restart; a full disk and a read-only directory -> a coded STORAGE error and
// nothing committed (tmpfs mounts, when the test may mount them: root on Linux).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AkiDB, runConformance } from '../../pkg/node.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WRITER = path.join(HERE, 'lib/fs_writer.mjs');
const OPTS = { logLevel: 'error', groupCommit: false, autoCompact: false };

const made = [];
const fresh = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'akidb-fs-'));
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

async function createC(dir) {
  const db = await AkiDB.open({ store: 'fs', path: dir, ...OPTS });
  await db.createCollection('c', { dimension: 3, distance: 'l2' });
  return db;
}

/** Runs `n` writer processes of `count` upserts each; resolves with every acknowledged id. */
function writers(dir, n, count, mode, { killAfterMs } = {}) {
  return Promise.all(
    Array.from({ length: n }, (_, w) => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [WRITER, dir, String(w), String(count), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs + w * 37);
      const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(guard);
        const acked = out.split('\n').filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
        if (code === 0 || signal === 'SIGKILL') resolve({ acked, code, signal });
        else reject(new Error(`writer ${w} exited ${code}: ${err}`));
      });
    })),
  );
}

async function liveIds(dir) {
  const db = await AkiDB.open({ store: 'fs', path: dir, ...OPTS });
  const c = await db.collection('c');
  const n = await c.count();
  const hits = n ? await c.search([0, 0, 0], { k: Math.min(n, 10_000) }) : [];
  return { ids: new Set(hits.map((h) => h.id)), manifest: await c.manifest(), count: n };
}

test('the conformance suite passes on a real directory', async () => {
  const dir = fresh();
  const r = await runConformance({ store: 'fs', path: dir, tokens: 'unique', concurrency: 8, manyKeys: 300 });
  assert.equal(r.ok, true, r.failure);
  assert.ok(r.checks.includes('concurrent_conditional_puts'), r.checks.join());
});

test('open needs a path, and the store works under a prefix like any other', async () => {
  await assert.rejects(AkiDB.open({ store: 'fs' }), /path/);
  const dir = fresh();
  const db = await AkiDB.open({ store: 'fs', path: dir, prefix: 'tenant-a/', ...OPTS });
  await db.createCollection('docs', { dimension: 3 });
  const docs = await db.collection('docs');
  await docs.upsert([{ id: 'a', vector: [1, 0, 0], metadata: { n: 1 } }]);
  // Reopened from disk by a new handle: the same record.
  const again = await (await AkiDB.open({ store: 'fs', path: dir, prefix: 'tenant-a/', ...OPTS })).collection('docs');
  const [hit] = await again.search([1, 0, 0], { k: 1, includeMetadata: true });
  assert.deepEqual([hit.id, hit.metadata], ['a', { n: 1 }]);
  assert.ok(fs.existsSync(path.join(dir, 'tenant-a', 'collections', 'docs')), 'keys are directories under the path');
});

test('8 processes x 50 upserts on one directory: 400/400 records, dense versions', { timeout: 300_000 }, async () => {
  const dir = fresh();
  await createC(dir);
  const runs = await writers(dir, 8, 50, 'slow');
  const acked = runs.flatMap((r) => r.acked);
  assert.equal(acked.length, 400);
  const { ids, manifest } = await liveIds(dir);
  assert.equal(ids.size, 400, `${400 - ids.size} acknowledged upserts lost`);
  for (const id of acked) assert.ok(ids.has(id), `${id} acknowledged but missing`);
  assert.equal(manifest.version, 401, 'create + one version per upsert, none skipped or reused');
});

test('negative control: a rename-based swap loses writes under the same schedule', { timeout: 300_000 }, async (t) => {
  const dir = fresh();
  await createC(dir);
  const runs = await writers(dir, 8, 50, 'rename');
  const acked = runs.flatMap((r) => r.acked);
  assert.equal(acked.length, 400, 'every writer believed every upsert succeeded');
  const { ids } = await liveIds(dir);
  t.diagnostic(`rename-based swap: ${ids.size}/400 acknowledged records survived`);
  assert.ok(ids.size < 400, `the unsafe swap lost nothing (${ids.size}/400): the schedule does not race`);
});

test('writers killed with SIGKILL mid-commit: no torn manifest, every acknowledged record there', { timeout: 300_000 }, async (t) => {
  const dir = fresh();
  await createC(dir);
  const runs = await writers(dir, 4, 1000, 'fs', { killAfterMs: 1500 });
  assert.ok(runs.every((r) => r.signal === 'SIGKILL'), 'the writers were killed, not finished');
  const acked = runs.flatMap((r) => r.acked);
  assert.ok(acked.length > 0, 'some upserts were acknowledged before the kill');
  const { ids, manifest, count } = await liveIds(dir); // a torn manifest would fail to parse here
  t.diagnostic(`killed writers: ${acked.length} acknowledged, ${count} present, version ${manifest.version}`);
  for (const id of acked) assert.ok(ids.has(id), `${id} acknowledged before the kill but missing`);
  assert.ok(count >= acked.length && count <= acked.length + 4, `${count} records for ${acked.length} acknowledged`);
  // And the collection takes writes again.
  const c = await (await AkiDB.open({ store: 'fs', path: dir, ...OPTS })).collection('c');
  const r = await c.upsert([{ id: 'after', vector: [1, 1, 1] }]);
  assert.equal(r.version, manifest.version + 1);
});

const canMount = process.platform === 'linux' && process.getuid?.() === 0
  && spawnSync('mount', ['--version']).status === 0;

function tmpfs(sizeKb) {
  const dir = fresh();
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
  if (r.status !== 0) return null;
  return dir;
}

test('a full disk: STORAGE, and nothing committed', { skip: !canMount && 'needs root to mount a small tmpfs' }, async (t) => {
  const dir = tmpfs(512);
  if (!dir) return t.skip('mount failed');
  try {
    const db = await createC(dir);
    const c = await db.collection('c');
    await c.upsert([{ id: 'small', vector: [1, 2, 3] }]);
    const big = Array.from({ length: 20_000 }, (_, i) => ({ id: `big-${i}`, vector: [i, 1, 2], metadata: { pad: 'x'.repeat(40) } }));
    await assert.rejects(c.upsert(big), (e) => e.code === 'STORAGE' && /ENOSPC/.test(e.message));
    const m = await c.manifest();
    assert.equal(m.version, 2, 'the failed upsert committed nothing');
    assert.equal(await c.count(), 1);
  } finally {
    spawnSync('umount', [dir]);
  }
});

test('a read-only directory: STORAGE, and nothing committed', { skip: !canMount && 'needs root to mount a read-only tmpfs' }, async (t) => {
  const dir = tmpfs(4096);
  if (!dir) return t.skip('mount failed');
  try {
    const db = await createC(dir);
    await (await db.collection('c')).upsert([{ id: 'before', vector: [1, 2, 3] }]);
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', dir]).status, 0);
    const c = await (await AkiDB.open({ store: 'fs', path: dir, ...OPTS })).collection('c');
    await assert.rejects(c.upsert([{ id: 'after', vector: [1, 2, 3] }]), (e) => e.code === 'STORAGE' && /EROFS/.test(e.message));
    assert.equal((await c.manifest()).version, 2);
    assert.deepEqual([...(await liveIds(dir)).ids], ['before']);
  } finally {
    spawnSync('umount', [dir]);
  }
});
