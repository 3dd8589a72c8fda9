// Browser: cold open → first ANN result on a 100k × 384 collection in IndexedDB, headless
// Chromium. One page builds the collection (the edge bench's data: the Debian rows plus
// normalised pair sums), compacts it into one indexed segment and garbage-collects the inputs;
// then every measurement opens a NEW page (a fresh JS realm and wasm instance, the same
// IndexedDB): AkiDB.open → collection → search, timed to the first result. Rows marked
// "range reads" open with { snapshotBudgetBytes: 0 } (the cold path: index header and probed
// partitions only); the "default" rows open as the README does, and the first search loads the
// snapshot into memory (the collection fits the default budget).
//
//   scripts/build-pkg.sh && node bench/ann/browser.mjs        (~3 min)
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM, CHROMIUM_ARGS } from '../../tests/support/chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = path.resolve(ROOT, '../shared/datasets/debian-minilm-384');
const N = Number(process.env.BENCH_N ?? 100000);
const log = (...a) => console.error(...a);

const PAGE = `<!doctype html><script type="module">
import { AkiDB } from '/pkg/index.js';
const DIM = 384;
window.build = async (n) => {
  const base = new Float32Array(await (await fetch('/data/base.f32')).arrayBuffer());
  const n0 = base.length / DIM;
  const db = await AkiDB.open({ store: 'indexeddb', name: 'annbench', autoCompact: false });
  await db.createCollection('d', { dimension: DIM, distance: 'cosine' });
  const c = await db.collection('d');
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const t0 = performance.now();
  for (let s = 0; s < n; s += 5000) {
    const recs = [];
    for (let i = s; i < Math.min(n, s + 5000); i++) {
      let v;
      if (i < n0) v = base.subarray(i * DIM, (i + 1) * DIM);
      else {
        const a = Math.floor(rnd() * n0), b = Math.floor(rnd() * n0);
        v = new Float32Array(DIM);
        let q = 0;
        for (let d = 0; d < DIM; d++) { v[d] = base[a * DIM + d] + 0.5 * base[b * DIM + d]; q += v[d] * v[d]; }
        q = Math.sqrt(q);
        for (let d = 0; d < DIM; d++) v[d] /= q;
      }
      recs.push({ id: String(i), vector: v });
    }
    await c.upsert(recs);
  }
  const upsertMs = performance.now() - t0;
  const t1 = performance.now();
  await c.compact({ full: true, maxInputBytes: 2 ** 31 });
  const compactMs = performance.now() - t1;
  await db.collectGarbage('d');
  await db.collectGarbage('d');
  const m = await c.manifest();
  db.close?.();
  return { upsertMs, compactMs, segments: m.segments.length, bytes: m.segments[0].size_bytes };
};
window.cold = async (mode, probes, budget) => {
  const q = new Float32Array(await (await fetch('/data/queries.f32')).arrayBuffer()).subarray(0, DIM);
  const q2 = new Float32Array(await (await fetch('/data/queries.f32')).arrayBuffer()).subarray(DIM, 2 * DIM);
  const t0 = performance.now();
  const db = await AkiDB.open({ store: 'indexeddb', name: 'annbench', autoCompact: false, ...(budget === undefined ? {} : { snapshotBudgetBytes: budget }) });
  const c = await db.collection('d');
  const tOpen = performance.now() - t0;
  const hits = await c.search(q, { k: 10, mode, probes });
  const first = performance.now() - t0;
  const t2 = performance.now();
  await c.search(q2, { k: 10, mode, probes });
  const second = performance.now() - t2;
  return { open: tOpen, first, second, hits: hits.length, heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1e6 : null };
};
window.ready = true;
</script>`;

function serve() {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file;
    if (url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (url.startsWith('/pkg/')) file = path.join(ROOT, url);
    if (url.startsWith('/data/')) file = path.join(DATA, path.basename(url));
    if (!file || !fs.existsSync(file)) return res.writeHead(404).end();
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main() {
  const { chromium } = await import('playwright-core');
  const server = await serve();
  const url = `http://127.0.0.1:${server.address().port}/`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'akidb-bench-ann-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const page = async () => {
    const p = await context.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(url);
    await p.waitForFunction(() => window.ready === true, null, { timeout: 30000 }).catch(() => {
      throw new Error(`page did not load: ${errors.join(' / ')}`);
    });
    return p;
  };
  try {
    log(`building ${N} × 384 in IndexedDB …`);
    const b = await page();
    const built = await b.evaluate((n) => window.build(n), N);
    await b.close();
    log(JSON.stringify(built));
    const rows = [];
    const CASES = [['ann', 64, 0], ['ann', 256, 0], ['ann', undefined, undefined], ['exact', undefined, undefined]];
    for (const [mode, probes, budget] of CASES) {
      for (let i = 0; i < 3; i++) {
        const p = await page();
        const r = await p.evaluate(([m, pr, b]) => window.cold(m, pr, b), [mode, probes, budget]);
        await p.close();
        rows.push({ mode, probes, budget, ...r });
        log(JSON.stringify(rows[rows.length - 1]));
      }
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`# node bench/ann/browser.mjs — Chromium ${context.browser()?.version() ?? ''}, ${N.toLocaleString('en-US')} × 384 in IndexedDB\n`);
    console.log(`Build in the page: upserts ${(built.upsertMs / 1000).toFixed(1)} s, compaction with index ${(built.compactMs / 1000).toFixed(1)} s → ${built.segments} segment of ${(built.bytes / 1e6).toFixed(1)} MB.\n`);
    console.log('| search | cold open → first result ms (median of 3 new pages) | of which open + manifest ms | next query ms |\n|---|---:|---:|---:|');
    for (const [mode, probes, budget] of CASES) {
      const rs = rows.filter((r) => r.mode === mode && r.probes === probes && r.budget === budget);
      const how = budget === 0 ? ', range reads (snapshotBudgetBytes 0)' : ', default (snapshot loaded)';
      console.log(`| ${mode}${probes ? `, probes ${probes}` : ''}${how} | ${med(rs.map((r) => r.first)).toFixed(0)} | ${med(rs.map((r) => r.open)).toFixed(0)} | ${med(rs.map((r) => r.second)).toFixed(1)} |`);
    }
  } finally {
    await context.close().catch(() => {});
    await new Promise((r) => server.close(r));
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
