#!/usr/bin/env node
// Search benchmark: AkiDB (exact f32 scores; int8 + re-rank) against a plain JS loop,
// hnswlib-wasm (brute force and HNSW), voy-search and edgevec, in Node, plus AkiDB and the JS
// loop in headless Chromium and headless Firefox (same run, same page; AKIDB_BROWSERS=chromium
// or =firefox narrows it). One command, prints Markdown tables.
//
//   node bench/search/run.mjs             # full run (~10-15 min on 2 cores)
//   node bench/search/run.mjs --quick     # 10k x 128 only, shorter budgets (~2 min)
//   options: --no-browser  --datasets=gauss10k,gauss100k,debian,debian-filtered
//            --engines=akidb-exact,akidb-lean,akidb-int8,js-loop,hnswlib-bf,hnswlib-hnsw,voy,edgevec
//
// Needs the npm package built (scripts/build-pkg.sh) and the root devDependencies installed.
// Every (engine, dataset) pair runs in its own Node process, so memory and JIT state do not
// leak between engines. Bytes/vector: the engine's wasm linear memory after the build (all
// of its memories, found by wrapping WebAssembly.Instance/instantiate) divided by the number
// of vectors: what it keeps, its allocator's high-water mark and its fixed initial memory
// (hnswlib-wasm starts with 16 MiB); the JS loop: its Float32Array.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { K, akidbEngine, jsLoopEngine, measure, watchWasmMemories } from './lib.mjs';
import { browserRun } from './browser.mjs';
import { BROWSERS } from '../../tests/support/browsers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const DEBIAN = path.resolve(ROOT, '../shared/datasets/debian-minilm-384');
const FILTER_SECTION = 'libs';
const now = () => performance.now();

// ---------------------------------------------------------------------------------------------
// Engines (Node). build(ctx) → { search(q, i) → row numbers }, or throws Skip.

class Skip extends Error {}

const ENGINES = {
  'akidb-exact': { label: 'akidb exact (f32 scores)', filter: true, build: (ctx) => akidb(ctx, 'exact') },
  'akidb-lean': { label: 'akidb exact, lean call (searchIdsSync)', filter: true, build: (ctx) => akidb(ctx, 'lean') },
  'akidb-int8': { label: 'akidb int8 + f32 re-rank', filter: true, build: (ctx) => akidb(ctx, 'int8') },
  'js-loop': { label: 'plain JS loop (Float32Array)', filter: true, build: jsLoop },
  'hnswlib-bf': { label: 'hnswlib-wasm BruteforceSearch', filter: true, build: (ctx) => hnswlib(ctx, false) },
  'hnswlib-hnsw': { label: 'hnswlib-wasm HNSW M16 efC200 ef200', filter: true, build: (ctx) => hnswlib(ctx, true) },
  voy: { label: 'voy-search (k-d tree)', filter: false, build: voy },
  edgevec: { label: 'edgevec HNSW ef200', filter: false, build: edgevec },
};

async function akidb(ctx, mode) {
  const { AkiDB } = await import(pathToFileURL(path.join(ROOT, 'pkg/node.mjs')).href);
  const e = await akidbEngine(AkiDB, ctx.base, ctx.n, ctx.dim, { sections: ctx.sections });
  const filter = ctx.filtered ? { must: [{ key: 'section', match: FILTER_SECTION }] } : undefined;
  // One search builds the int8 codes of every segment (once per segment, cached): part of the build.
  await e.search(ctx.queries.subarray(0, ctx.dim), mode === 'lean' ? 'exact' : mode, filter);
  if (mode === 'lean') return { search: (q) => e.searchLean(q, filter) };
  return { search: (q) => e.search(q, mode, filter) };
}

function jsLoop(ctx) {
  const e = jsLoopEngine(ctx.base, ctx.n, ctx.dim);
  ctx.extraBytes = ctx.n * ctx.dim * 4;
  return { search: (q) => e.search(q, ctx.mask) };
}

async function hnswlib(ctx, hnsw) {
  await import('fake-indexeddb/auto');
  globalThis.window = globalThis;
  const { loadHnswlib } = await import('hnswlib-wasm/dist/hnswlib.js');
  const lib = await loadHnswlib();
  const { n, dim, base } = ctx;
  let index;
  if (hnsw) {
    index = new lib.HierarchicalNSW('cosine', dim, '');
    index.initIndex(n, 16, 200, 100);
    index.setEfSearch(200);
  } else {
    index = new lib.BruteforceSearch('cosine', dim);
    index.initIndex(n);
  }
  const t0 = now();
  for (let i = 0; i < n; i++) {
    if (hnsw) index.addPoint(base.subarray(i * dim, (i + 1) * dim), i, false);
    else index.addPoint(base.subarray(i * dim, (i + 1) * dim), i);
    if (i % 1000 === 999) ctx.checkBuild(i + 1, now() - t0);
  }
  const mask = ctx.mask;
  const filter = mask ? (label) => mask[label] === 1 : undefined;
  return { search: (q) => Array.from(index.searchKnn(q, K, filter).neighbors) };
}

async function voy(ctx) {
  const bg = await import('voy-search/voy_search_bg.js');
  const bytes = fs.readFileSync(path.join(ROOT, 'node_modules/voy-search/voy_search_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './voy_search_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  const { n, dim, base } = ctx;
  const embeddings = [];
  for (let i = 0; i < n; i++) {
    embeddings.push({ id: String(i), title: '', url: '', embeddings: Array.from(base.subarray(i * dim, (i + 1) * dim)) });
  }
  const index = new bg.Voy({ embeddings });
  return { search: (q) => index.search(q, K).neighbors.map((x) => Number(x.id)) };
}

async function edgevec(ctx) {
  const ev = await import('edgevec/edgevec.js');
  await ev.default({ module_or_path: fs.readFileSync(path.join(ROOT, 'node_modules/edgevec/edgevec_bg.wasm')) });
  const { n, dim, base } = ctx;
  const cfg = new ev.EdgeVecConfig(dim);
  // Default metric (L2): same ranking as cosine on unit vectors. With metric 'cosine',
  // edgevec 0.9.0 returns raw dot products in ascending order (the worst matches first).
  cfg.m = 16;
  cfg.ef_construction = 200;
  cfg.ef_search = 200;
  const index = new ev.EdgeVec(cfg);
  const rowOf = new Map();
  const t0 = now();
  for (let i = 0; i < n; i++) {
    rowOf.set(index.insert(base.subarray(i * dim, (i + 1) * dim)), i);
    if (i % 500 === 499) ctx.checkBuild(i + 1, now() - t0);
  }
  return { search: (q) => index.search(q, K).map((h) => rowOf.get(h.id)) };
}

// ---------------------------------------------------------------------------------------------
// Datasets: written once per run to a temp dir as raw little-endian files.

function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` L2-normalised Gaussian vectors. */
function gaussian(rows, dim, seed) {
  const rnd = mulberry32(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < dim; j += 2) {
      const u = 1 - rnd();
      const v = rnd();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i * dim + j] = r * Math.cos(2 * Math.PI * v);
      if (j + 1 < dim) out[i * dim + j + 1] = r * Math.sin(2 * Math.PI * v);
    }
    for (let j = 0; j < dim; j++) s += out[i * dim + j] ** 2;
    s = Math.sqrt(s);
    for (let j = 0; j < dim; j++) out[i * dim + j] /= s;
  }
  return out;
}

/** Exact top-K row numbers by inner product (f64 sums), optionally among `mask` rows only. */
function groundTruth(base, n, dim, queries, mask) {
  const nq = queries.length / dim;
  const gt = new Int32Array(nq * K);
  for (let qi = 0; qi < nq; qi++) {
    const q = queries.subarray(qi * dim, (qi + 1) * dim);
    const best = new Float64Array(K).fill(-Infinity);
    const ids = new Int32Array(K).fill(-1);
    for (let i = 0; i < n; i++) {
      if (mask && !mask[i]) continue;
      let s = 0;
      for (let j = 0, o = i * dim; j < dim; j++) s += q[j] * base[o + j];
      if (s > best[K - 1] || (s === best[K - 1] && i < ids[K - 1])) {
        let p = K - 1;
        while (p > 0 && best[p - 1] < s) {
          best[p] = best[p - 1];
          ids[p] = ids[p - 1];
          p--;
        }
        best[p] = s;
        ids[p] = i;
      }
    }
    gt.set(ids, qi * K);
  }
  return gt;
}

function readF32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}
function readI32(file) {
  const b = fs.readFileSync(file);
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}
function writeArr(file, arr) {
  fs.writeFileSync(file, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
}

const DATASETS = {
  gauss10k: { label: '10k × 128 Gaussian', make: (dir) => synthetic(dir, 10000, 128, 200, 1) },
  gauss100k: { label: '100k × 128 Gaussian', make: (dir) => synthetic(dir, 100000, 128, 200, 2) },
  debian: { label: 'debian-minilm 59k × 384', make: (dir) => debian(dir, false) },
  'debian-filtered': { label: `debian-minilm 59k × 384, filter section=${FILTER_SECTION}`, make: (dir) => debian(dir, true) },
};

function synthetic(dir, n, dim, nq, seed) {
  const base = gaussian(n, dim, seed);
  const queries = gaussian(nq, dim, seed + 1000);
  writeArr(path.join(dir, 'base.f32'), base);
  writeArr(path.join(dir, 'queries.f32'), queries);
  writeArr(path.join(dir, 'gt.i32'), groundTruth(base, n, dim, queries));
  return { n, dim, nq, gtK: K };
}

function debian(dir, filtered) {
  if (!fs.existsSync(path.join(DEBIAN, 'base.f32'))) throw new Skip(`dataset not found at ${DEBIAN}`);
  const dim = 384;
  const base = readF32(path.join(DEBIAN, 'base.f32'));
  const queries = readF32(path.join(DEBIAN, 'queries.f32'));
  const n = base.length / dim;
  const nq = queries.length / dim;
  fs.symlinkSync(path.join(DEBIAN, 'base.f32'), path.join(dir, 'base.f32'));
  fs.symlinkSync(path.join(DEBIAN, 'queries.f32'), path.join(dir, 'queries.f32'));
  const sections = fs
    .readFileSync(path.join(DEBIAN, 'base.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l).source);
  if (sections.length !== n) throw new Error(`base.jsonl has ${sections.length} rows, base.f32 ${n}`);
  fs.writeFileSync(path.join(dir, 'sections.json'), JSON.stringify(sections));
  if (!filtered) {
    fs.symlinkSync(path.join(DEBIAN, 'gt.i32'), path.join(dir, 'gt.i32'));
    return { n, dim, nq, gtK: 100 };
  }
  const mask = new Uint8Array(n);
  sections.forEach((s, i) => (mask[i] = s === FILTER_SECTION ? 1 : 0));
  writeArr(path.join(dir, 'mask.u8'), mask);
  writeArr(path.join(dir, 'gt.i32'), groundTruth(base, n, dim, queries, mask));
  const matching = mask.reduce((a, b) => a + b, 0);
  return { n, dim, nq, gtK: K, filtered: true, matching };
}

// ---------------------------------------------------------------------------------------------
// Child: one engine on one dataset; prints one `@@RESULT {json}` line.

async function child(engineName, dir, budgets) {
  const wasmBytes = watchWasmMemories();
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'spec.json'), 'utf8'));
  const ctx = {
    ...spec,
    base: readF32(path.join(dir, 'base.f32')),
    queries: readF32(path.join(dir, 'queries.f32')),
    gt: readI32(path.join(dir, 'gt.i32')),
    sections: fs.existsSync(path.join(dir, 'sections.json'))
      ? JSON.parse(fs.readFileSync(path.join(dir, 'sections.json'), 'utf8'))
      : undefined,
    mask: spec.filtered ? new Uint8Array(fs.readFileSync(path.join(dir, 'mask.u8'))) : undefined,
    extraBytes: 0,
    // Abort builds that would take far longer than the budget (edgevec, HNSW on big sets).
    checkBuild(done, ms) {
      const projected = (ms / done) * spec.n;
      if (projected > budgets.buildMs) {
        throw new Skip(`build skipped: ${done} vectors took ${(ms / 1000).toFixed(1)} s, all ${spec.n} projected ${(projected / 1000).toFixed(0)} s`);
      }
    },
  };
  const engine = ENGINES[engineName];
  let out;
  try {
    if (spec.filtered && !engine.filter) throw new Skip('no metadata filter');
    const t0 = now();
    const e = await engine.build(ctx);
    const buildS = (now() - t0) / 1000;
    const bytes = (wasmBytes() + ctx.extraBytes) / spec.n;
    const m = await measure({
      queries: ctx.queries,
      dim: spec.dim,
      gt: ctx.gt,
      gtK: spec.gtK,
      search: (q) => e.search(q),
      warmupMs: budgets.warmupMs,
      budgetMs: budgets.searchMs,
      now,
    });
    out = { ...m, buildS, bytes };
  } catch (err) {
    if (!(err instanceof Skip)) throw err;
    out = { skipped: err.message };
  }
  process.stdout.write(`@@RESULT ${JSON.stringify(out)}\n`);
}

/** Runs one child process; resolves to its result (or an error note). Killed after `timeoutMs`. */
function runChild(engine, dir, budgets, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', fileURLToPath(import.meta.url), '--child', engine, dir, JSON.stringify(budgets)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
      if (line) return resolve(JSON.parse(line.slice(9)));
      const why = signal ? `killed after ${timeoutMs / 1000} s` : `exit ${code}`;
      resolve({ error: `${why}: ${stderr.trim().split('\n').slice(-3).join(' / ')}` });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Browsers: a page served from 127.0.0.1 runs AkiDB and the JS loop on the same files
// (browser.mjs serves it and drives Chromium or Firefox).

const PAGE = `<!doctype html><meta charset="utf-8"><title>akidb search bench</title>
<script type="module">
import { AkiDB } from '/pkg/index.js';
import { K, akidbEngine, jsLoopEngine, measure } from '/bench/search/lib.mjs';
const f32 = async (u) => new Float32Array(await (await fetch(u)).arrayBuffer());
const i32 = async (u) => new Int32Array(await (await fetch(u)).arrayBuffer());
window.runBench = async (name, budgets) => {
  const spec = await (await fetch('/data/' + name + '/spec.json')).json();
  const base = await f32('/data/' + name + '/base.f32');
  const queries = await f32('/data/' + name + '/queries.f32');
  const gt = await i32('/data/' + name + '/gt.i32');
  const now = () => performance.now();
  const rows = [];
  const run = async (engine, build, search) => {
    const t0 = now();
    const e = await build();
    const buildS = (now() - t0) / 1000;
    const m = await measure({ queries, dim: spec.dim, gt, gtK: spec.gtK, search: (q) => search(e, q),
      warmupMs: budgets.warmupMs, budgetMs: budgets.searchMs, now });
    rows.push({ engine, ...m, buildS });
  };
  const db = { e: null };
  const buildAki = async () => {
    db.e = db.e || (await akidbEngine(AkiDB, base, spec.n, spec.dim));
    await db.e.search(queries.subarray(0, spec.dim), 'exact');
    return db.e;
  };
  await run('akidb-exact', buildAki, (e, q) => e.search(q, 'exact'));
  await run('akidb-lean', buildAki, (e, q) => e.searchLean(q));
  await run('akidb-int8', buildAki, (e, q) => e.search(q, 'int8'));
  await run('js-loop', () => jsLoopEngine(base, spec.n, spec.dim), (e, q) => e.search(q));
  return rows;
};
window.ready = true;
</script>`;

// ---------------------------------------------------------------------------------------------
// Main.

const BROWSER_LABEL = { chromium: 'Chromium', firefox: 'Firefox' };

function fmt(x, digits) {
  return x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
}

function row(dsLabel, engineLabel, r) {
  if (r.skipped || r.error) return `| ${dsLabel} | ${engineLabel} | — | — | — | — | — | — | ${r.skipped || r.error} |`;
  const note = r.queries < r.of ? `${r.queries}/${r.of} queries (time budget)` : '';
  const bytes = r.bytes === undefined ? '—' : Math.round(r.bytes);
  return `| ${dsLabel} | ${engineLabel} | ${fmt(r.recall, 3)} | ${Math.round(r.qps)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${fmt(r.buildS, 2)} | ${bytes} | ${note} |`;
}

async function main() {
  const args = Object.fromEntries(
    process.argv.slice(2).map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? true];
    }),
  );
  const quick = !!args.quick;
  const datasetNames = (args.datasets || (quick ? 'gauss10k' : 'gauss10k,gauss100k,debian,debian-filtered')).split(',');
  const engineNames = (args.engines || Object.keys(ENGINES).join(',')).split(',');
  for (const e of engineNames) if (!ENGINES[e]) throw new Error(`unknown engine ${e}`);
  for (const d of datasetNames) if (!DATASETS[d]) throw new Error(`unknown dataset ${d}`);
  const budgets = quick
    ? { warmupMs: 800, searchMs: 8000, buildMs: 60000 }
    : { warmupMs: 1500, searchMs: 25000, buildMs: 300000 };
  const childTimeout = budgets.buildMs * 2 + budgets.searchMs * 2 + 60000;

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'akidb-search-bench-'));
  const started = new Date();
  const lines = [];
  const results = {};
  try {
    for (const name of datasetNames) {
      const dir = path.join(dataDir, name);
      fs.mkdirSync(dir);
      const t0 = now();
      let spec;
      try {
        spec = DATASETS[name].make(dir);
      } catch (err) {
        if (!(err instanceof Skip)) throw err;
        console.error(`# ${name}: skipped (${err.message})`);
        continue;
      }
      fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
      const label = DATASETS[name].label + (spec.filtered ? ` (${spec.matching} match)` : '');
      console.error(`# ${name}: ${spec.n} × ${spec.dim}, ${spec.nq} queries (prepared in ${((now() - t0) / 1000).toFixed(1)} s)`);
      for (const e of engineNames) {
        if (name === 'gauss100k' && (e === 'edgevec' || e === 'voy') && !args['slow-peers']) {
          results[`${name}/${e}`] = { skipped: 'skipped at 100k: build too slow for the time budget (--slow-peers runs it)' };
        } else if (name.startsWith('debian') && e === 'edgevec' && !args['slow-peers']) {
          results[`${name}/${e}`] = { skipped: 'skipped: 10k × 128 already takes ~30 s to build (--slow-peers runs it)' };
        } else {
          const t1 = now();
          results[`${name}/${e}`] = await runChild(e, dir, budgets, childTimeout);
          console.error(`#   ${e}: ${((now() - t1) / 1000).toFixed(1)} s ${JSON.stringify(results[`${name}/${e}`])}`);
        }
        lines.push(row(label, ENGINES[e].label, results[`${name}/${e}`]));
      }
    }

    const browsers = {};
    if (!args['no-browser']) {
      const names = datasetNames.filter((n) => fs.existsSync(path.join(dataDir, n, 'spec.json')) && !n.endsWith('filtered'));
      const bnames = quick ? names.slice(0, 1) : names.filter((n) => n !== 'gauss100k');
      for (const b of BROWSERS) {
        console.error(`# ${b}: ${bnames.join(', ')}`);
        try {
          browsers[b] = await browserRun(b, PAGE, dataDir, bnames, budgets, 10 * 60 * 1000);
        } catch (err) {
          browsers[b] = { error: String(err.message || err).split('\n')[0] };
        }
      }
    }

    // Output.
    const out = [];
    out.push(`## Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${started.toISOString().slice(0, 10)}`);
    out.push('');
    out.push('k = 10. Recall@10 against exact ground truth. QPS: one query at a time, one thread, after warm-up.');
    out.push('Build: insert time (AkiDB: upserts + first search, which builds the int8 codes). Bytes/vector: the engine\'s wasm memory after the build ÷ vectors, fixed initial memory included (hnswlib-wasm: 16 MiB); JS loop: its Float32Array.');
    out.push('');
    out.push('| dataset | engine | recall@10 | QPS | p50 ms | p99 ms | build s | bytes/vector | note |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    out.push(...lines);
    for (const [b, browser] of Object.entries(browsers)) {
      out.push('');
      if (browser.error) {
        out.push(`${BROWSER_LABEL[b]} run failed: ${browser.error}`);
      } else {
        out.push(`## Headless ${BROWSER_LABEL[b]}: ${browser.version}`);
        out.push('');
        out.push('| dataset | engine | recall@10 | QPS | p50 ms | p99 ms | build s | note |');
        out.push('|---|---|---|---|---|---|---|---|');
        for (const [name, rows] of Object.entries(browser.results)) {
          for (const r of rows) {
            const note = r.queries < r.of ? `${r.queries}/${r.of} queries (time budget)` : '';
            out.push(
              `| ${DATASETS[name].label} | ${ENGINES[r.engine].label} | ${fmt(r.recall, 3)} | ${Math.round(r.qps)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${fmt(r.buildS, 2)} | ${note} |`,
            );
            results[`${b}:${name}/${r.engine}`] = r;
          }
        }
      }
    }
    out.push('');
    out.push('## Targets (ratios within this run)');
    out.push('');
    const ratio = (a, b) => (a && b && a.qps && b.qps ? a.qps / b.qps : NaN);
    const tgt = (what, got, want, extra = '') =>
      `| ${what} | ${Number.isNaN(got) ? '—' : got.toFixed(2) + '×'} | ≥ ${want}× | ${Number.isNaN(got) ? 'n/a' : got >= want ? 'met' : 'missed'}${extra} |`;
    out.push('| target | measured | wanted | |');
    out.push('|---|---|---|---|');
    const g = (e) => results[`gauss10k/${e}`];
    out.push(tgt('10k×128: akidb exact QPS / JS loop QPS (Node)', ratio(g('akidb-exact'), g('js-loop')), 15));
    out.push(tgt('10k×128: akidb exact QPS / hnswlib HNSW QPS (Node)', ratio(g('akidb-exact'), g('hnswlib-hnsw')), 3));
    const i8 = g('akidb-int8');
    out.push(tgt('10k×128: akidb int8 QPS / akidb exact QPS (Node)', ratio(i8, g('akidb-exact')), 2, i8?.recall !== undefined ? ` (int8 recall@10 ${i8.recall.toFixed(3)})` : ''));
    const cb = (e) => results[`chromium:gauss10k/${e}`];
    if (g('akidb-lean')) out.push(tgt('10k×128: akidb exact, lean call QPS / JS loop QPS (Node)', ratio(g('akidb-lean'), g('js-loop')), 15));
    if (cb('akidb-exact')) out.push(tgt('10k×128: akidb exact QPS / JS loop QPS (Chromium)', ratio(cb('akidb-exact'), cb('js-loop')), 15));
    if (cb('akidb-lean')) out.push(tgt('10k×128: akidb exact, lean call QPS / JS loop QPS (Chromium)', ratio(cb('akidb-lean'), cb('js-loop')), 15));
    // The 15× goal is Chromium's; other browsers' ratios are reported next to it.
    for (const b of Object.keys(browsers).filter((x) => x !== 'chromium')) {
      const fb = (e) => results[`${b}:gauss10k/${e}`];
      for (const [e, what] of [['akidb-exact', 'akidb exact'], ['akidb-lean', 'akidb exact, lean call']]) {
        if (fb(e)) out.push(`| 10k×128: ${what} QPS / JS loop QPS (${BROWSER_LABEL[b]}) | ${ratio(fb(e), fb('js-loop')).toFixed(2)}× | (reported) | |`);
      }
    }
    console.log(out.join('\n'));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], JSON.parse(process.argv[5]));
  process.exit(0);
} else {
  await main();
}
