// ANN on the README's path: the calls a new user makes, not the tuned ones. Debian MiniLM
// 59k × 384, Node, every engine in its own process, one query at a time, k = 10, recall@10
// against the exact ground truth, beside hnswlib-wasm (M 16, efConstruction 200) over `ef`.
//
// The exact calls per AkiDB row (ids are the row numbers as strings):
//   readme:      db = await AkiDB.open({ store: 'memory' })               (every other option default)
//                await db.createCollection('docs', { dimension: 384, distance: 'cosine' }, { ifNotExists: true })
//                c = await db.collection('docs'); await c.upsert(all 59,000 records)   (one call)
//                await c.compact({ full: true })
//                await c.search(q, { k: 10, mode: 'ann' })                  (no load())
//   readme + probes P: the same handle, c.search(q, { k: 10, mode: 'ann', probes: P })
//   cold:        as readme, but AkiDB.open({ store: 'memory', snapshotBudgetBytes: 0 }): the
//                range-read path every handle took before snapshots were kept warm by default
//   one segment: as readme, but c.compact({ full: true, maxInputBytes: 2 ** 30 })
// "first search" is the wall time of the first search call after compaction (it loads the
// snapshot into memory on the warm rows).
//
//   scripts/build-pkg.sh && node bench/ann/readme.mjs [--quick]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { measure } from '../search/lib.mjs';
import { DATA, fmt, hnswRows, readF32, readI32, runChild } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIM = 384;
const quick = process.argv.includes('--quick');
const now = () => performance.now();
const budgets = quick ? { warmupMs: 200, budgetMs: 2000, passes: 1 } : { warmupMs: 500, budgetMs: 6000, passes: 2 };
const PROBES = quick ? [] : [128, 256];
const RECALLS = quick ? [0.95] : [0.9, 0.95, 0.98, 0.995];
// Forced segment counts: upsert(records, { segmentSize: n / (2 S) }) then
// compact({ full: true, maxInputBytes: bytes of two of those pieces + 5 %, maxRounds: 64 }).
const FORCED = quick ? [4] : [4, 16];
const EFS = quick ? [40, 120] : [20, 40, 60, 80, 120, 200];


async function akidb(kind, base, n, queries, gt) {
  const { AkiDB } = await import(pathToFileURL(path.join(ROOT, 'pkg/node.mjs')).href);
  const t0 = now();
  const db = await AkiDB.open(kind === 'cold' ? { store: 'memory', snapshotBudgetBytes: 0 } : { store: 'memory' });
  await db.createCollection('docs', { dimension: DIM, distance: 'cosine' }, { ifNotExists: true });
  const c = await db.collection('docs');
  const records = Array.from({ length: n }, (_, i) => ({ id: String(i), vector: base.subarray(i * DIM, (i + 1) * DIM) }));
  const forced = kind.startsWith('seg') ? Number(kind.slice(3)) : 0;
  if (forced) {
    const segmentSize = Math.ceil(n / (2 * forced));
    await c.upsert(records, { segmentSize });
    const piece = (await c.manifest()).segments[0].size_bytes;
    await c.compact({ full: true, maxInputBytes: Math.ceil(piece * 2.05), maxRounds: 64 });
  } else {
    await c.upsert(records);
    await c.compact(kind === 'one' ? { full: true, maxInputBytes: 2 ** 30 } : { full: true });
  }
  const buildMs = now() - t0;
  const segments = (await c.manifest()).segments.length;
  const t1 = now();
  await c.search(queries.subarray(0, DIM), { k: 10, mode: 'ann' });
  const firstMs = now() - t1;
  const rows = [];
  const run = async (label, opts) => {
    const search = async (q) => (await c.search(q, { k: 10, mode: 'ann', ...opts })).map((h) => Number(h.id));
    rows.push({ label, ...(await measure({ queries, dim: DIM, gt, gtK: 100, now, ...budgets, search })) });
  };
  await run('default', {});
  if (kind === 'readme') {
    for (const recall of RECALLS) await run(`recall ${recall}`, { recall });
    for (const probes of PROBES) await run(`probes ${probes}`, { probes });
  }
  await db.close();
  return { build: { buildMs, segments, firstMs }, rows };
}

async function child(engine) {
  const base = readF32('base.f32');
  const n = base.length / DIM;
  const queries = readF32('queries.f32');
  const gt = readI32('gt.i32');
  const r =
    engine === 'hnsw'
      ? await hnswRows({ base, n, dim: DIM, queries, gt, gtK: 100, efs: EFS, budgets, now })
      : await akidb(engine, base, n, queries, gt);
  console.log('@@RESULT ' + JSON.stringify(r));
}

async function main() {
  const arg = process.argv.find((a) => a.startsWith('--child='));
  if (arg) return child(arg.slice(8));
  if (!fs.existsSync(path.join(DATA, 'base.f32'))) throw new Error(`dataset missing: ${DATA}`);
  const runs = {};
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  const kinds = ['readme', 'cold', 'one', ...FORCED.map((s) => `seg${s}`), 'hnsw'].filter((k) => !only || only.includes(k));
  for (const e of kinds) {
    console.error(`running ${e} …`);
    runs[e] = await runChild(fileURLToPath(import.meta.url), e, quick);
  }
  const h = runs.hnsw ?? { rows: [], build: { buildMs: 0 } };
  // hnswlib-wasm's fastest ef reaching at least `recall` (the same-recall comparison).
  const peer = (recall) => h.rows.filter((r) => r.recall >= recall - 1e-9).sort((a, b) => b.qps - a.qps)[0];
  const names = { readme: 'README: compact({ full: true }), search(q, { mode: "ann" })', cold: 'the same, snapshotBudgetBytes 0 (cold range reads)', one: 'compact({ full: true, maxInputBytes: 1 GiB }), default search' };
  for (const s of FORCED) names[`seg${s}`] = `forced into ${s} segments (see the top of this file), default search`;
  console.log(`# node bench/ann/readme.mjs${quick ? ' --quick' : ''} (Node ${process.version}, debian-minilm-384: 59,000 × 384, 1,000 queries, k = 10)\n`);
  console.log('| path | segments | build s | first search ms | setting | recall@10 | QPS | hnswlib-wasm at ≥ this recall | ratio |');
  console.log('|---|---:|---:|---:|---|---:|---:|---|---:|');
  for (const e of kinds.filter((k) => k !== 'hnsw')) {
    const r = runs[e];
    for (const row of r.rows) {
      const p = peer(row.recall);
      const vs = p ? `${p.label}: ${fmt(p.qps)} QPS (${p.recall.toFixed(4)})` : 'not reached';
      console.log(
        `| ${names[e]} | ${r.build.segments} | ${fmt(r.build.buildMs / 1000, 1)} | ${fmt(r.build.firstMs, 1)} | ${row.label} | ${row.recall.toFixed(4)} | ${fmt(row.qps)} | ${vs} | ${p ? (row.qps / p.qps).toFixed(2) + '×' : '-'} |`,
      );
    }
  }
  console.log('\n| hnswlib-wasm (M 16, efConstruction 200) | recall@10 | QPS |\n|---|---:|---:|');
  for (const row of h.rows) console.log(`| ${row.label} | ${row.recall.toFixed(4)} | ${fmt(row.qps)} |`);
  console.log(`\nhnswlib-wasm build: ${fmt(h.build.buildMs / 1000, 1)} s.`);
}

await main();
