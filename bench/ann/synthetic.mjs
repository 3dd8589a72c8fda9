// ANN on synthetic clustered data in Node: 1M × 128 (L2), 1,000 Gaussian clusters. Build time
// (upserts + compaction with index), the recall@10 / QPS curve over `probes`, exact search, and
// wasm memory per vector, in one process.
//
//   scripts/build-pkg.sh && node bench/ann/synthetic.mjs          (~5 min)
//   BENCH_N=200000 node bench/ann/synthetic.mjs                    (a quick look)
import { measure, watchWasmMemories } from '../search/lib.mjs';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const DIM = 128;
const NQ = Number(process.env.BENCH_Q ?? 100);
const CLUSTERS = 1000;
const now = () => performance.now();
const log = (...a) => console.error(...a);

function gaussian(seed) {
  let x = seed >>> 0 || 1;
  const u = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function clustered(n, seed) {
  const g = gaussian(seed);
  const gc = gaussian(7);
  const centres = new Float32Array(CLUSTERS * DIM).map(() => gc() * 2);
  const out = new Float32Array(n * DIM);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const c = x % CLUSTERS;
    for (let d = 0; d < DIM; d++) out[i * DIM + d] = centres[c * DIM + d] + g();
  }
  return out;
}

function groundTruth(data, queries) {
  const gt = new Int32Array(NQ * 10);
  for (let qi = 0; qi < NQ; qi++) {
    const best = [];
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let d = 0; d < DIM; d++) {
        const t = queries[qi * DIM + d] - data[i * DIM + d];
        s += t * t;
      }
      if (best.length < 10 || s < best[best.length - 1][0]) {
        best.push([s, i]);
        best.sort((a, b) => a[0] - b[0]);
        if (best.length > 10) best.pop();
      }
    }
    best.forEach((b, j) => (gt[qi * 10 + j] = b[1]));
  }
  return gt;
}

async function main() {
  const wasmBytes = watchWasmMemories();
  const { AkiDB } = await import('../../pkg/node.mjs');
  log(`data: ${N} × ${DIM}, ${CLUSTERS} clusters`);
  const data = clustered(N, 42);
  const queries = clustered(NQ, 4242);
  log('ground truth (brute force) …');
  const gt = groundTruth(data, queries);
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('s', { dimension: DIM, distance: 'l2' });
  const c = await db.collection('s');
  const t0 = now();
  for (let s = 0; s < N; s += 50000) {
    const recs = [];
    for (let i = s; i < Math.min(N, s + 50000); i++) recs.push({ id: String(i), vector: data.subarray(i * DIM, (i + 1) * DIM) });
    await c.upsert(recs);
  }
  const upsertS = (now() - t0) / 1000;
  const t1 = now();
  // Merges of at most 256 MiB of input (a wasm32 memory holds 4 GiB): two indexed segments.
  const r = await c.compact({ full: true, maxInputBytes: 256 * 2 ** 20, maxRounds: 16 });
  const compactS = (now() - t1) / 1000;
  await db.collectGarbage('s');
  await db.collectGarbage('s');
  const m = await c.manifest();
  log(`upserts ${upsertS.toFixed(1)} s, compaction ${compactS.toFixed(1)} s: ${r.segmentsBefore} → ${m.segments.length} segments`);
  const budgets = { warmupMs: 500, budgetMs: 8000, passes: 1, now };
  const rows = [];
  const run = async (label, opts) => {
    const res = await measure({ queries, dim: DIM, gt, gtK: 10, ...budgets, search: async (q) => (await c.search(q, { k: 10, ...opts })).map((h) => Number(h.id)) });
    rows.push({ label, ...res });
    log(`  ${label}: recall ${res.recall.toFixed(4)}, ${res.qps.toFixed(0)} QPS`);
  };
  await run('exact', { mode: 'exact' });
  for (const probes of [4, 8, 16, 32, 64, 128, 256, 512]) await run(`ann probes ${probes}`, { mode: 'ann', probes });
  const wasm = wasmBytes();
  console.log(`# node bench/ann/synthetic.mjs — ${N.toLocaleString('en-US')} × ${DIM}, L2, ${CLUSTERS} Gaussian clusters, ${NQ} queries, k = 10 (Node ${process.version})\n`);
  console.log(`Build: upserts ${upsertS.toFixed(1)} s + compaction with index ${compactS.toFixed(1)} s = ${(upsertS + compactS).toFixed(1)} s; ${m.segments.length} indexed segments.`);
  console.log(`wasm memory after build and search: ${(wasm / N).toFixed(0)} bytes per vector (peak of the build; includes the in-memory store's own copy of every object).\n`);
  console.log('| mode | recall@10 | QPS | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|');
  for (const row of rows) console.log(`| ${row.label} | ${row.recall.toFixed(4)} | ${row.qps.toFixed(0)} | ${row.p50.toFixed(3)} | ${row.p99.toFixed(3)} |`);
  const at = (t) => rows.filter((x) => x.label !== 'exact' && x.recall >= t).sort((a, b) => b.qps - a.qps)[0];
  for (const t of [0.95, 0.99]) {
    const b = at(t);
    console.log(`\nAt recall@10 >= ${t}: ${b ? `${b.label}, ${b.qps.toFixed(0)} QPS (recall ${b.recall.toFixed(4)}), ${(b.qps / rows[0].qps).toFixed(1)}× exact` : 'not reached'}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
