// Cold ANN at the edge: a 100k × 384 collection on S3 (ministack, 127.0.0.1), compacted into
// one partition-indexed segment; every cold query runs in a NEW workerd process (a fresh
// isolate) whose S3 traffic goes through a counting proxy. Per `probes`: recall@10 against
// brute force, S3 requests and bytes of the cold query, its latency at the client, the workerd
// process's peak RSS, and the warm p50 of one long-lived isolate.
//
//   bench/ann/edge.sh            (starts and stops ministack; this script starts and stops workerd)
//   BENCH_N=30000 BENCH_COLD=2 BENCH_Q=50 bench/ann/edge.sh     # a quick look
import fs from 'node:fs';
import path from 'node:path';

import { AkiDB } from '../../pkg/node.mjs';
import { s3Env, s3Options, freshPrefix } from '../../tests/edge/lib/env.mjs';
import { startWorkerd, ROOT } from '../../tests/edge/lib/procs.mjs';
import { startFaultProxy } from '../../tests/edge/lib/fault_proxy.mjs';
import { client } from '../../tests/edge/lib/rest.mjs';

const DATA = path.resolve(ROOT, '../shared/datasets/debian-minilm-384');
const DIM = 384;
const N = Number(process.env.BENCH_N ?? 100000);
const COLD = Number(process.env.BENCH_COLD ?? 3);
const NQ = Number(process.env.BENCH_Q ?? 200);
const PROBES = (process.env.BENCH_PROBES ?? '8,16,32,48,64,96,128,192,256,384').split(',').map(Number);
const KEY = 'bench-ann-key';
const LOG_DIR = process.env.LOG_DIR ?? '/tmp';
const log = (...a) => console.error(...a);

function readF32(f) {
  const b = fs.readFileSync(path.join(DATA, f));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The Debian rows, then normalised sums of two seeded random Debian rows up to N. */
function dataset() {
  const base = readF32('base.f32');
  const n0 = base.length / DIM;
  const out = new Float32Array(N * DIM);
  out.set(base.subarray(0, Math.min(n0, N) * DIM));
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = n0; i < N; i++) {
    const a = Math.floor(rnd() * n0);
    const b = Math.floor(rnd() * n0);
    let s = 0;
    for (let d = 0; d < DIM; d++) {
      const v = base[a * DIM + d] + 0.5 * base[b * DIM + d];
      out[i * DIM + d] = v;
      s += v * v;
    }
    s = Math.sqrt(s);
    for (let d = 0; d < DIM; d++) out[i * DIM + d] /= s;
  }
  return out;
}

function groundTruth(data, queries) {
  const gt = [];
  for (let qi = 0; qi < NQ; qi++) {
    const q = queries.subarray(qi * DIM, (qi + 1) * DIM);
    const best = [];
    for (let i = 0; i < N; i++) {
      let s = 0;
      const o = i * DIM;
      for (let d = 0; d < DIM; d++) s += q[d] * data[o + d];
      if (best.length < 10 || s > best[best.length - 1][0]) {
        best.push([s, i]);
        best.sort((a, b) => b[0] - a[0]);
        if (best.length > 10) best.pop();
      }
    }
    gt.push(new Set(best.map((b) => String(b[1]))));
  }
  return gt;
}

const peakRssMb = (pid) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main() {
  const prefix = freshPrefix('ann-edge');
  log(`building ${N} × ${DIM} under ${prefix}`);
  const data = dataset();
  const queries = readF32('queries.f32');
  const db = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error', autoCompact: false });
  await db.createCollection('d', { dimension: DIM, distance: 'cosine' });
  const c = await db.collection('d');
  const t0 = performance.now();
  for (let s = 0; s < N; s += 5000) {
    const recs = [];
    for (let i = s; i < Math.min(N, s + 5000); i++) recs.push({ id: String(i), vector: data.subarray(i * DIM, (i + 1) * DIM) });
    await c.upsert(recs);
  }
  const upsertS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const receipt = await c.compact({ full: true, maxInputBytes: 2 ** 31 });
  const compactS = (performance.now() - t1) / 1000;
  await db.collectGarbage('d');
  await db.collectGarbage('d');
  const m = await c.manifest();
  const seg = m.segments[0];
  log(`upserts ${upsertS.toFixed(1)} s, compaction (merge + index) ${compactS.toFixed(1)} s: ${m.segments.length} segment(s), ${(seg.size_bytes / 1e6).toFixed(1)} MB object`);
  log('ground truth (brute force) …');
  const gt = groundTruth(data, queries);
  const proxy = await startFaultProxy({ target: s3Env().endpoint });
  const viaProxy = { ...s3Env(), endpoint: proxy.url };
  const start = (tag) => startWorkerd({ s3: viaProxy, prefix, apiKeys: KEY, env: { AKIDB_AUTO_COMPACT: '0' }, logFile: path.join(LOG_DIR, `workerd-ann-${tag}.log`) });
  const q = (i) => Array.from(queries.subarray(i * DIM, (i + 1) * DIM));
  const rows = [];
  for (const probes of PROBES) {
    // Warm: one isolate, NQ queries; recall over all, p50 over all but the first.
    const w = await start(`warm-${probes}`);
    const call = client(w.url, KEY);
    let hit = 0;
    const lat = [];
    for (let i = 0; i < NQ; i++) {
      const t = performance.now();
      const r = await call('POST', '/collections/d/search', { vector: q(i), k: 10, mode: 'ann', probes });
      if (r.status !== 200) throw new Error(`search: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      if (i > 0) lat.push(performance.now() - t);
      hit += r.body.results.filter((h) => gt[i].has(h.id)).length;
    }
    await w.stop();
    // Cold: a new isolate per query.
    const cold = { ms: [], requests: [], bytes: [], rss: [] };
    for (let j = 0; j < COLD; j++) {
      const wc = await start(`cold-${probes}-${j}`);
      const callc = client(wc.url, KEY);
      proxy.reset();
      const t = performance.now();
      const r = await callc('POST', '/collections/d/search', { vector: q(NQ - 1 - j), k: 10, mode: 'ann', probes });
      cold.ms.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`cold search: HTTP ${r.status}`);
      cold.requests.push(Object.values(proxy.counts).reduce((a, b) => a + b, 0));
      cold.bytes.push(Object.values(proxy.bytes).reduce((a, b) => a + b, 0));
      cold.rss.push(peakRssMb(wc.child.pid));
      if (j === 0) log(`  probes ${probes}: cold requests by kind ${JSON.stringify(proxy.counts)}`);
      await wc.stop();
    }
    const row = {
      probes,
      recall: hit / (NQ * 10),
      coldRequests: median(cold.requests),
      coldMB: median(cold.bytes) / 1e6,
      coldMs: median(cold.ms),
      rssMB: Math.max(...cold.rss),
      warmP50: median(lat),
    };
    log(`  ${JSON.stringify(row)}`);
    rows.push(row);
  }
  await proxy.close();
  // An idle isolate's peak RSS, for reference.
  const idle = await start('idle');
  await client(idle.url, KEY)('GET', '/health');
  const idleRss = peakRssMb(idle.child.pid);
  await idle.stop();
  console.log(`# bench/ann/edge.sh — ${N.toLocaleString('en-US')} × ${DIM} (debian-minilm-384 + normalised pair sums), one indexed segment on S3 (ministack), ${NQ} queries\n`);
  console.log(`Build (Node, S3): upserts ${upsertS.toFixed(1)} s, compaction with index ${compactS.toFixed(1)} s (${receipt.segmentsBefore} → ${receipt.segmentsAfter} segments); object ${(seg.size_bytes / 1e6).toFixed(1)} MB.\n`);
  console.log('| probes | recall@10 | cold: S3 requests | cold: MB fetched | cold: ms (client) | cold: workerd peak RSS MB | warm p50 ms |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.probes} | ${r.recall.toFixed(4)} | ${r.coldRequests} | ${r.coldMB.toFixed(1)} | ${r.coldMs.toFixed(0)} | ${r.rssMB.toFixed(0)} | ${r.warmP50.toFixed(1)} |`);
  }
  console.log(`\nAn idle workerd process (one /health request) peaks at ${idleRss.toFixed(0)} MB RSS; cold medians over ${COLD} fresh processes.`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
