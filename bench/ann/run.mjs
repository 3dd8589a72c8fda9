// ANN benchmark on the real Debian MiniLM set (59k × 384): AkiDB `mode: 'ann'` (partition index
// built by compaction) over `probes`, pruned (the default) and not, AkiDB exact search, and
// hnswlib-wasm HNSW (M 16, efConstruction 200) over `ef`, each in its own Node process, one
// query at a time, k = 10. AkiDB through `searchIdsSync` on the loaded snapshot (one row
// through the async `search`), hnswlib-wasm through `searchKnn`: each library's direct call.
// Prints the recall@10 / QPS curves, build times, bytes per vector, and the ratios at
// recall@10 >= 0.99.
//
//   scripts/build-pkg.sh && node bench/ann/run.mjs [--quick]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { measure, watchWasmMemories } from '../search/lib.mjs';
import { DATA, fmt, hnswRows, readF32, readI32, runChild } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIM = 384;
const quick = process.argv.includes('--quick');
const now = () => performance.now();
const budgets = quick ? { warmupMs: 300, budgetMs: 3000, passes: 1 } : { warmupMs: 1000, budgetMs: 10000, passes: 2 };
const PROBES = quick ? [32, 96, 256] : [16, 32, 64, 96, 128, 184, 256, 368, 512];
// Every probed partition scanned (no pruning), and the probes of the rich-call row.
const UNPRUNED = quick ? [256] : [184, 256, 368];
const RICH = 256;
const EFS = quick ? [40, 120] : [10, 20, 40, 60, 80, 120, 200];


async function akidb(base, n, queries, gt) {
  const { AkiDB } = await import(pathToFileURL(path.join(ROOT, 'pkg/node.mjs')).href);
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('d', { dimension: DIM, distance: 'cosine' });
  const c = await db.collection('d');
  const t0 = now();
  for (let s = 0; s < n; s += 10000) {
    const recs = [];
    for (let i = s; i < Math.min(n, s + 10000); i++) recs.push({ id: String(i), vector: base.subarray(i * DIM, (i + 1) * DIM) });
    await c.upsert(recs);
  }
  const upsertMs = now() - t0;
  const t1 = now();
  const receipt = await c.compact({ full: true, maxInputBytes: 1 << 30 });
  const compactMs = now() - t1;
  // The snapshot in memory, searched through the lean synchronous call (ids + scores), as
  // hnswlib-wasm's searchKnn is; one row through the rich async `search` for comparison.
  await c.load();
  const rows = [];
  const run = async (label, opts, rich = false) => {
    const search = rich
      ? async (q) => (await c.search(q, { k: 10, ...opts })).map((h) => Number(h.id))
      : (q) => c.searchIdsSync(q, { k: 10, ...opts }).ids.map(Number);
    const r = await measure({ queries, dim: DIM, gt, gtK: 100, now, ...budgets, search });
    rows.push({ label, ...r });
  };
  await run('exact', { mode: 'exact' });
  for (const probes of PROBES) await run(`probes ${probes}`, { mode: 'ann', probes });
  for (const probes of UNPRUNED) await run(`probes ${probes}, prune false`, { mode: 'ann', probes, prune: false });
  await run('default probes', { mode: 'ann' });
  await run(`probes ${RICH}, rich async search()`, { mode: 'ann', probes: RICH }, true);
  return { build: { upsertMs, compactMs, segmentsAfter: receipt.segmentsAfter }, rows };
}

async function hnsw(base, n, queries, gt) {
  return hnswRows({ base, n, dim: DIM, queries, gt, gtK: 100, efs: EFS, budgets, now });
}

async function child(engine) {
  const memBytes = watchWasmMemories();
  const base = readF32('base.f32');
  const n = base.length / DIM;
  const queries = readF32('queries.f32');
  const gt = readI32('gt.i32');
  const r = engine === 'akidb' ? await akidb(base, n, queries, gt) : await hnsw(base, n, queries, gt);
  r.bytesPerVector = memBytes() / n;
  console.log('@@RESULT ' + JSON.stringify(r));
}

async function main() {
  const arg = process.argv.find((a) => a.startsWith('--child='));
  if (arg) return child(arg.slice(8));
  if (!fs.existsSync(path.join(DATA, 'base.f32'))) throw new Error(`dataset missing: ${DATA}`);
  const a = await runChild(fileURLToPath(import.meta.url), 'akidb', quick);
  const h = await runChild(fileURLToPath(import.meta.url), 'hnsw', quick);
  console.log(`# node bench/ann/run.mjs${quick ? ' --quick' : ''} (Node ${process.version}, debian-minilm-384: 59,000 × 384, 1,000 queries, k = 10)\n`);
  console.log('| engine | setting | recall@10 | QPS | p50 ms | p99 ms |\n|---|---|---:|---:|---:|---:|');
  for (const [name, r] of [['akidb', a], ['hnswlib-wasm HNSW M16 efC200', h]]) {
    for (const row of r.rows) console.log(`| ${name} | ${row.label} | ${row.recall.toFixed(4)} | ${fmt(row.qps)} | ${row.p50.toFixed(3)} | ${row.p99.toFixed(3)} |`);
  }
  console.log('\n| engine | build | bytes per vector (wasm memory ÷ vectors) |\n|---|---|---:|');
  console.log(`| akidb | upserts ${fmt(a.build.upsertMs / 1000, 1)} s + compaction with index ${fmt(a.build.compactMs / 1000, 1)} s | ${fmt(a.bytesPerVector)} |`);
  console.log(`| hnswlib-wasm | ${fmt(h.build.buildMs / 1000, 1)} s | ${fmt(h.bytesPerVector)} |`);
  const best = (rows) => rows.filter((r) => r.recall >= 0.99 && !r.label.startsWith('exact') && !r.label.includes('rich')).sort((x, y) => y.qps - x.qps)[0];
  const ba = best(a.rows);
  const bh = best(h.rows);
  const ex = a.rows.find((r) => r.label === 'exact');
  console.log('\nAt recall@10 >= 0.99:');
  console.log(`- akidb ann: ${ba ? `${ba.label}, ${fmt(ba.qps)} QPS (recall ${ba.recall.toFixed(4)})` : 'not reached'}`);
  console.log(`- hnswlib-wasm: ${bh ? `${bh.label}, ${fmt(bh.qps)} QPS (recall ${bh.recall.toFixed(4)})` : 'not reached'}`);
  console.log(`- akidb exact: ${fmt(ex.qps)} QPS (recall ${ex.recall.toFixed(4)})`);
  if (ba && bh) console.log(`- ratios: ${(ba.qps / bh.qps).toFixed(2)}× hnswlib-wasm (goal ≥ 2), ${(ba.qps / ex.qps).toFixed(2)}× exact (goal ≥ 2.5)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
