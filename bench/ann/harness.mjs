// What bench/ann/run.mjs and bench/ann/readme.mjs share: the Debian dataset, one child process
// per engine, number formatting, and hnswlib-wasm HNSW (M 16, efConstruction 200) — the browser
// ANN library people use today — built and measured over `ef` (`addPoint` per row,
// `searchKnn(q, 10)` per query, one query at a time).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { measure } from '../search/lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The real dataset beside the repository. */
export const DATA = path.resolve(ROOT, '../shared/datasets/debian-minilm-384');

/** A Float32Array of the dataset file `f`. */
export function readF32(f) {
  const b = fs.readFileSync(path.join(DATA, f));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** An Int32Array of the dataset file `f`. */
export function readI32(f) {
  const b = fs.readFileSync(path.join(DATA, f));
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** `x` with thousands separators and `d` decimals. */
export const fmt = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

/**
 * Runs `script --child=<engine> [--quick]` in a new Node process and resolves to the JSON it
 * printed on its `@@RESULT ` line (each engine gets a fresh process and wasm memory).
 */
export function runChild(script, engine, quick) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, `--child=${engine}`, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@RESULT '));
      if (code !== 0 || !line) reject(new Error(`${engine} exited ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line.slice(9)));
    });
  });
}

/** Builds the index over `n` rows of `base` and measures each `ef` of `efs`. */
export async function hnswRows({ base, n, dim, queries, gt, gtK, efs, budgets, now }) {
  await import('fake-indexeddb/auto');
  globalThis.window = globalThis;
  const { loadHnswlib } = await import('hnswlib-wasm/dist/hnswlib.js');
  const lib = await loadHnswlib();
  const index = new lib.HierarchicalNSW('cosine', dim, '');
  index.initIndex(n, 16, 200, 100);
  const t0 = now();
  for (let i = 0; i < n; i++) index.addPoint(base.subarray(i * dim, (i + 1) * dim), i, false);
  const buildMs = now() - t0;
  const rows = [];
  for (const ef of efs) {
    index.setEfSearch(ef);
    const search = (q) => Array.from(index.searchKnn(q, 10, undefined).neighbors);
    const r = await measure({ queries, dim, gt, gtK, now, ...budgets, search });
    rows.push({ label: `ef ${ef}`, ...r });
  }
  return { build: { buildMs }, rows };
}
