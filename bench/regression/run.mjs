// Old-versus-new benchmark: the same search workload on the npm package built from a base
// commit and on the working tree's pkg/, alternating child processes (base, head, base,
// head...) so both see the same machine state, and prints one table of QPS and recall with
// the head/base ratio per row. It guards "no benchmark slower by more than 3 %" across
// refactors; bench/search and bench/ann remain the benchmarks against the peers.
//
//   scripts/build-pkg.sh && node bench/regression/run.mjs [--base=14f0170] [--rounds=2] [--quick]
//     [--head=<commit>]   compare two commits (both built in worktrees) instead of base vs pkg/
//     [--only=<text>]     only the rows whose "dataset | call" contains <text> (e.g. --only=ann)
//
// The calls, per dataset (memory store, cosine, upserts of 10,000 records, one segment each):
//   exact:   collection.search(q, { k: 10, mode: 'exact' })
//   int8:    collection.search(q, { k: 10, mode: 'int8' })
//   lean:    collection.searchIdsSync(q, 10)                        (after collection.load())
// and on the Debian set after collection.compact({ full: true, maxInputBytes: 1 GiB }) + load():
//   ann 64:  collection.searchIdsSync(q, { k: 10, mode: 'ann', probes: 64 })
//   ann:     collection.search(q, { k: 10, mode: 'ann' })           (default probes)
// The base package is built once into a git worktree under the system temp directory.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { measure } from '../search/lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEBIAN = path.resolve(ROOT, '../shared/datasets/debian-minilm-384');
const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const quick = process.argv.includes('--quick');
const now = () => performance.now();

// ---------------------------------------------------------------------------------------------
// Child: one package, every row, JSON on stdout.

function gauss(n, dim, seed) {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

function exactTruth(base, n, queries, dim, k) {
  const nq = queries.length / dim;
  const gt = new Int32Array(nq * k);
  const norm = (v, o) => Math.hypot(...v.subarray(o, o + dim)) || 1;
  const norms = Float32Array.from({ length: n }, (_, i) => norm(base, i * dim));
  for (let q = 0; q < nq; q++) {
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += queries[q * dim + j] * base[i * dim + j];
      scores[i] = s / norms[i];
    }
    const idx = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]).slice(0, k);
    gt.set(idx, q * k);
  }
  return gt;
}

function datasets() {
  const out = [];
  const n = quick ? 20000 : 100000;
  const base = gauss(n, 128, 7);
  const queries = gauss(quick ? 50 : 200, 128, 11);
  out.push({ name: `gauss${n / 1000}k x 128`, base, n, dim: 128, queries, gt: exactTruth(base, n, queries, 128, 10), gtK: 10 });
  if (fs.existsSync(path.join(DEBIAN, 'base.f32'))) {
    const f32 = (f) => { const b = fs.readFileSync(path.join(DEBIAN, f)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
    const i32 = (f) => { const b = fs.readFileSync(path.join(DEBIAN, f)); return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
    const b = f32('base.f32');
    out.push({ name: 'debian 59k x 384', base: b, n: b.length / 384, dim: 384, queries: f32('queries.f32'), gt: i32('gt.i32'), gtK: 100, ann: true });
  }
  return out;
}

async function child(pkgDir) {
  const { AkiDB } = await import(pathToFileURL(path.join(pkgDir, 'node.mjs')).href);
  const budgets = quick ? { warmupMs: 200, budgetMs: 1500, passes: 1 } : { warmupMs: 500, budgetMs: 4000, passes: 2 };
  const rows = {};
  for (const d of datasets()) {
    const db = await AkiDB.open({ store: 'memory' });
    await db.createCollection('bench', { dimension: d.dim, distance: 'cosine' });
    const c = await db.collection('bench');
    for (let s = 0; s < d.n; s += 10000) {
      const recs = [];
      for (let i = s; i < Math.min(d.n, s + 10000); i++) recs.push({ id: String(i), vector: d.base.subarray(i * d.dim, (i + 1) * d.dim) });
      await c.upsert(recs);
    }
    const only = arg('only', null);
    if (only && !d.name.includes(only) && !(d.ann && only.includes('ann'))) continue;
    const run = async (label, search) => {
      if (only && !`${d.name} | ${label}`.includes(only)) return;
      const r = await measure({ queries: d.queries, dim: d.dim, gt: d.gt, gtK: d.gtK, now, ...budgets, search });
      rows[`${d.name} | ${label}`] = { qps: r.qps, recall: r.recall };
    };
    const ids = (hits) => hits.map((h) => Number(h.id));
    await c.search(d.queries.subarray(0, d.dim), { k: 10, mode: 'int8' }); // builds the int8 codes
    await run('exact search()', async (q) => ids(await c.search(q, { k: 10, mode: 'exact' })));
    await run('int8 search()', async (q) => ids(await c.search(q, { k: 10, mode: 'int8' })));
    await c.load();
    await run('exact searchIdsSync()', (q) => c.searchIdsSync(q, 10).ids.map(Number));
    if (d.ann) {
      await c.compact({ full: true, maxInputBytes: 1 << 30 });
      await c.load();
      await run('ann probes 64 searchIdsSync()', (q) => c.searchIdsSync(q, { k: 10, mode: 'ann', probes: 64 }).ids.map(Number));
      await run('ann default search()', async (q) => ids(await c.search(q, { k: 10, mode: 'ann' })));
    }
    await db.close();
  }
  process.stdout.write(JSON.stringify(rows));
}

// ---------------------------------------------------------------------------------------------
// Parent: build the base package, alternate children, print the table.

function basePackage(commit) {
  const sha = execFileSync('git', ['rev-parse', '--short', commit], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = path.join(os.tmpdir(), `akidb-base-${sha}`);
  if (!fs.existsSync(path.join(dir, 'pkg/wasm-node/akidb.js'))) {
    if (!fs.existsSync(dir)) execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: ROOT, stdio: 'inherit' });
    // The build's tools (wasm-opt) come from the root's npm install: share it.
    const modules = path.join(dir, 'node_modules');
    if (!fs.existsSync(modules)) fs.symlinkSync(path.join(ROOT, 'node_modules'), modules);
    console.error(`building the base package at ${sha} in ${dir} (once)...`);
    execFileSync('bash', ['scripts/build-pkg.sh'], {
      cwd: dir,
      // Its own target/ in the worktree: older build scripts read the wasm from there.
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CARGO_TARGET_DIR: path.join(dir, 'target') },
    });
  }
  return { sha, dir: path.join(dir, 'pkg') };
}

function runChild(pkgDir) {
  return new Promise((resolve, reject) => {
    const pass = process.argv.filter((a) => a === '--quick' || a.startsWith('--only='));
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), `--child=${pkgDir}`, ...pass], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child for ${pkgDir} exited ${code}`))));
  });
}

function wasmSize(pkgDir) {
  const b = fs.readFileSync(path.join(pkgDir, fs.existsSync(path.join(pkgDir, 'wasm-node/akidb_bg.wasm')) ? 'wasm-node/akidb_bg.wasm' : 'wasm/akidb_bg.wasm'));
  return { raw: b.length, gz: zlib.gzipSync(b, { level: 9 }).length };
}

async function parent() {
  const base = basePackage(arg('base', '14f0170'));
  const headArg = arg('head', null);
  const head = headArg
    ? basePackage(headArg)
    : { sha: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() + '+tree', dir: path.join(ROOT, 'pkg') };
  const rounds = Number(arg('rounds', quick ? 1 : 2));
  const results = { base: [], head: [] };
  for (let r = 0; r < rounds; r++) {
    for (const side of ['base', 'head']) {
      console.error(`round ${r + 1}/${rounds}: ${side}`);
      results[side].push(await runChild((side === 'base' ? base : head).dir));
    }
  }
  // Best of the rounds per row (the least disturbed run), as the peers' benchmarks do.
  const best = (side, row) => results[side].map((x) => x[row]).reduce((a, b) => (b && b.qps > a.qps ? b : a));
  const lines = [
    `Old vs new, ${rounds} alternating round(s), best QPS per row (node ${process.version}, ${os.cpus().length} cores): base ${base.sha}, head ${head.sha}`,
    '',
    '| dataset | call | base QPS | head QPS | head/base | base recall@10 | head recall@10 |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of Object.keys(results.head[0])) {
    const [ds, call] = row.split(' | ');
    const b = best('base', row);
    const h = best('head', row);
    if (!b) continue;
    lines.push(`| ${ds} | ${call} | ${b.qps.toFixed(0)} | ${h.qps.toFixed(0)} | ${(h.qps / b.qps).toFixed(3)} | ${b.recall.toFixed(3)} | ${h.recall.toFixed(3)} |`);
  }
  const bs = wasmSize(base.dir);
  const hs = wasmSize(head.dir);
  lines.push('', '| wasm | base | head | head/base |', '|---|---:|---:|---:|');
  lines.push(`| raw bytes | ${bs.raw} | ${hs.raw} | ${(hs.raw / bs.raw).toFixed(3)} |`);
  lines.push(`| gzip -9 bytes | ${bs.gz} | ${hs.gz} | ${(hs.gz / bs.gz).toFixed(3)} |`);
  console.log(lines.join('\n'));
}

const childArg = arg('child', null);
if (childArg) await child(childArg);
else await parent();
