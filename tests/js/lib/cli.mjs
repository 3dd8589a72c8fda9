// Shared by the akidb command's tests (tests/js/cli.test.mjs on the fs store, tests/edge/cli.test.mjs
// on a real S3 server): running the CLI as a child process with a bounded time, the object files
// of the fs store's layout (pkg/fs-store.cjs), and a collection of known records with the checks
// that another collection holds exactly the same ones.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(ROOT, 'pkg/cli.mjs');

/**
 * Runs `node pkg/cli.mjs ...args` and resolves `{ code, stdout, stderr }`; killed (and rejected)
 * after `timeoutMs`. `input` is written to its stdin; `env` replaces the environment when
 * `cleanEnv`, else extends it.
 */
export function runCli(args, { input, env = {}, cleanEnv = false, timeoutMs = 120_000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const base = cleanEnv ? { PATH: process.env.PATH, HOME: process.env.HOME } : process.env;
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env }, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`akidb ${args.join(' ')} timed out after ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
    child.stdin.on('error', () => {});
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Encodes a key segment as pkg/fs-store.cjs does. */
function encodeSeg(seg) {
  if (seg === '') return '%e';
  if (seg === '.' || seg === '..') return seg.replaceAll('.', '%2E');
  return encodeURIComponent(seg);
}

/** The file holding the current value of `key` in the fs store at `root` (header byte 1, then the bytes). */
export function fsObjectFile(root, key) {
  const dir = path.join(root, ...key.split('/').map(encodeSeg), '%v');
  let best = null;
  for (const shard of fs.readdirSync(dir)) {
    for (const slot of fs.readdirSync(path.join(dir, shard))) {
      const n = Number(slot);
      if (Number.isInteger(n) && (!best || n > best.n)) best = { n, file: path.join(dir, shard, slot) };
    }
  }
  assert.ok(best, `no slot for ${key}`);
  return best.file;
}

/** The directory of `key` in the fs store at `root` (removing it deletes the object). */
export function fsKeyDir(root, key) {
  return path.join(root, ...key.split('/').map(encodeSeg));
}

/** A deterministic PRNG in [0, 1). */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/**
 * Fills collection `name` of `db` with `live` live records of dimension `dim`: upserts
 * `live + extra` ids in several segments, overwrites some in a later one (newest wins) and deletes
 * `extra` (hidden). Metadata of every shape (none, nested, unicode, numbers); some vectors carry
 * -0 and extreme values. Resolves the ids deleted.
 */
export async function fillCollection(db, name, { live = 10_000, dim = 16, distance = 'cosine', extra = 200, segments = 4, seed = 7 } = {}) {
  await db.createCollection(name, { dimension: dim, distance });
  const c = await db.collection(name);
  const r = rng(seed);
  const total = live + extra;
  const rec = (i, version) => {
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = (r() * 2 - 1) * (j === 1 && i % 97 === 0 ? 1e30 : 1);
    if (i % 13 === 0) v[0] = -0;
    const m = i % 5 === 0 ? undefined : { i, version, tag: ['a', 'b', 'c'][i % 3], nested: { list: [i % 7, 'x'], ok: i % 2 === 0 }, s: 'ünï ✓', big: 2 ** 40 + i };
    return { id: `id-${i}`, vector: v, metadata: m };
  };
  const per = Math.ceil(total / segments);
  for (let s = 0; s < segments; s++) {
    const batch = [];
    for (let i = s * per; i < Math.min(total, (s + 1) * per); i++) batch.push(rec(i, 1));
    await c.upsert(batch);
  }
  // A later segment replaces 500 of them (newest wins).
  await c.upsert(Array.from({ length: 500 }, (_, k) => rec(k * 3, 2)));
  const deleted = Array.from({ length: extra }, (_, k) => `id-${total - 1 - k * 2}`);
  await c.delete(deleted);
  return deleted;
}

/**
 * Asserts collection `b` holds exactly the live records of `a`: the same ids (scan of both), get
 * of every id with bit-exact vectors and equal metadata, `deleted` absent, and the same exact
 * top-10 (ids and scores) for `queries` random queries.
 */
export async function assertSameRecords(a, b, { deleted = [], queries = 100, seed = 99 } = {}) {
  const ids = [];
  for await (const batch of a.scan({ includeVectors: false, includeMetadata: false })) for (const r of batch) ids.push(r.id);
  const idsB = [];
  for await (const batch of b.scan({ includeVectors: false, includeMetadata: false })) for (const r of batch) idsB.push(r.id);
  assert.deepEqual([...idsB].sort(), [...ids].sort(), 'the same ids');
  const bits = (v) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
  for (let i = 0; i < ids.length; i += 5000) {
    const chunk = ids.slice(i, i + 5000);
    const [ra, rb] = await Promise.all([a.get(chunk), b.get(chunk)]);
    for (let k = 0; k < chunk.length; k++) {
      assert.ok(rb[k], `${chunk[k]} is in the copy`);
      assert.equal(rb[k].id, ra[k].id);
      assert.deepEqual(bits(rb[k].vector), bits(ra[k].vector), `vector of ${chunk[k]} bit-exact`);
      assert.deepEqual(rb[k].metadata, ra[k].metadata, `metadata of ${chunk[k]}`);
    }
  }
  if (deleted.length) assert.deepEqual(await b.get(deleted), deleted.map(() => null), 'deleted ids stay deleted');
  const dim = (await a.manifest()).dimension;
  const r = rng(seed);
  for (let q = 0; q < queries; q++) {
    const v = Float32Array.from({ length: dim }, () => r() * 2 - 1);
    const [ha, hb] = await Promise.all([a.search(v, { k: 10, mode: 'exact' }), b.search(v, { k: 10, mode: 'exact' })]);
    assert.equal(ha.length, 10);
    assert.deepEqual(hb, ha, `query ${q}: the same exact top-10`);
  }
  return ids.length;
}
