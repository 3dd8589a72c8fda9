// Ingest benchmark (prints a table; asserts nothing): 59k × 384 Debian package embeddings
// (../shared/datasets/debian-minilm-384) upserted into IndexedDB in headless Chromium, in one
// upsert of 10,000-record segments (one commit):
//   - durability 'strict' (the default: strict manifest commit, relaxed segment writes) vs
//     'relaxed' (everything relaxed), on the main thread;
//   - main-thread long tasks (PerformanceObserver 'longtask') and the longest heartbeat gap
//     during the ingest, on the main thread vs through the worker entry (akidb/worker);
//   - and the per-commit cost of durability: 100 one-record upserts in a row, strict vs relaxed.
// Every run is a fresh IndexedDB database; runs alternate, `--reps N` (default 3) of each.
//
//   node bench/browser/ingest.mjs [--reps N]          (needs scripts/build-pkg.sh first)
import { mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../www/server.mjs';
import { echoErrors, freshProfile, launch, removeProfile } from '../../tests/support/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const DATASET = path.resolve(root, '../shared/datasets/debian-minilm-384');
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 3;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'akidb-ingest-'));
symlinkSync(path.join(DATASET, 'base.f32'), path.join(dataDir, 'base.f32'));
const meta = readFileSync(path.join(DATASET, 'base.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => {
    const r = JSON.parse(l);
    return [r.id, r.source];
  });
writeFileSync(path.join(dataDir, 'meta.json'), JSON.stringify(meta));

const server = await startServer({
  mounts: { '/': path.join(here, 'page'), '/pkg/': path.join(root, 'pkg'), '/data/': dataDir },
});
const profile = freshProfile('akidb-ingest');
const ctx = await launch(profile);
const runs = { 'main/strict': [], 'main/relaxed': [], 'worker/strict': [] };
const small = { strict: [], relaxed: [] };
const COMMITS = 100;
let version = '';
try {
  const page = await ctx.newPage();
  echoErrors(page, 'ingest');
  await page.goto(server.url);
  version = ctx.browser()?.version() ?? '';
  let i = 0;
  for (let rep = 0; rep < REPS; rep++) {
    for (const key of Object.keys(runs)) {
      const [mode, durability] = key.split('/');
      const r = await page.evaluate(
        async (a) => (await import('/ingest.js')).ingest(a),
        { mode, durability, name: `ingest-${i++}` },
      );
      if (r.count !== meta.length || r.version !== 2) throw new Error(`${key}: ${JSON.stringify(r)}`);
      runs[key].push(r);
      process.stderr.write(`${key} #${rep + 1}: ${JSON.stringify(r)}\n`);
    }
    for (const durability of Object.keys(small)) {
      const r = await page.evaluate(
        async (a) => (await import('/ingest.js')).commits(a),
        { durability, name: `commits-${i++}`, n: COMMITS },
      );
      small[durability].push(r.msPerCommit);
      process.stderr.write(`${COMMITS} commits, ${durability} #${rep + 1}: ${r.msPerCommit.toFixed(2)} ms each\n`);
    }
  }
} finally {
  await ctx.close();
  await server.close();
  removeProfile(profile);
  rmSync(dataDir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f0 = (x) => Math.round(x).toLocaleString('en-US');
console.log(`## Ingest ${meta.length.toLocaleString('en-US')} × 384 into IndexedDB — Chromium ${version}, ${REPS} runs each (median; min–max)\n`);
console.log('| run | ingest ms | vectors/s | main-thread long tasks | long-task ms (total) | longest task ms | longest heartbeat gap ms |');
console.log('|---|---|---|---|---|---|---|');
for (const [key, rs] of Object.entries(runs)) {
  const col = (f) => `${f0(median(rs.map(f)))} (${f0(Math.min(...rs.map(f)))}–${f0(Math.max(...rs.map(f)))})`;
  console.log(
    `| ${key} | ${col((r) => r.ms)} | ${col((r) => r.vectorsPerSecond)} | ${col((r) => r.longTasks)} | ${col((r) => r.longTaskMs)} | ${col((r) => r.longestTaskMs)} | ${col((r) => r.maxGapMs)} |`,
  );
}
const ratio = median(runs['main/strict'].map((r) => r.ms)) / median(runs['main/relaxed'].map((r) => r.ms));
console.log(`\nstrict / relaxed ingest time (main thread, medians): ${ratio.toFixed(2)}×`);
const f2 = (x) => x.toFixed(2);
console.log(`\n${COMMITS} one-record upserts in a row (ms per commit, median; min–max):`);
for (const [d, xs] of Object.entries(small)) console.log(`- ${d}: ${f2(median(xs))} (${f2(Math.min(...xs))}–${f2(Math.max(...xs))})`);
