// The apps matrix for bundlers: the packed package (npm pack of pkg/, installed offline) in one
// fresh app (tests/apps/app: main-thread entry on IndexedDB + the Web Worker entry), built for
// production by each real tool at the version pinned in tests/apps/package.json with its default
// configuration, served from 127.0.0.1 and run in headless Chromium, twice per profile (the
// second page load must find the collection and still work). Requires scripts/build-pkg.sh and
// `npm ci` in tests/apps (scripts/setup.sh does both).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startServer } from '../../www/server.mjs';
import { here, installPackage, loadTwice as loadUrlTwice, run } from './lib.mjs';

const bin = (name) => path.join(here, 'node_modules/.bin', name);
let proj;

before(async () => {
  proj = mkdtempSync(path.join(os.tmpdir(), 'akidb-apps-'));
  await installPackage(proj, { type: 'module' });
  cpSync(path.join(here, 'app'), proj, { recursive: true });
});

after(() => rmSync(proj, { recursive: true, force: true }));

const EXPECTED = {
  main: ['a', 'c'],
  count: 3,
  got: [['b', 3, 2], null],
  scanned: 3,
  worker: ['b', 'c'],
  workerGot: [['c', true]],
  workerScanned: 3,
};

/** Serves `dist` and loads it twice in one fresh Chromium profile. */
async function loadTwice(dist, name) {
  const server = await startServer({ mounts: { '/': dist } });
  try {
    return await loadUrlTwice(server.url, name);
  } finally {
    await server.close();
  }
}

const wasmFiles = (dist) => readdirSync(dist, { recursive: true }).filter((f) => String(f).endsWith('.wasm'));

test('Vite 8 production build (vite build, no config): main thread + Web Worker entry', { timeout: 180_000 }, async () => {
  await run(bin('vite'), ['build', '--outDir', 'dist-vite', '--logLevel', 'warn'], { cwd: proj });
  const dist = path.join(proj, 'dist-vite');
  assert.equal(wasmFiles(dist).length, 1, `one wasm emitted: ${wasmFiles(dist)}`);
  for (const r of await loadTwice(dist, 'vite')) assert.deepEqual(r, EXPECTED);
});

test('webpack 5 production build (webpack-cli, no config): main thread + Web Worker entry', { timeout: 180_000 }, async () => {
  const dist = path.join(proj, 'dist-webpack');
  await run(bin('webpack'), ['--entry', './main.js', '--output-path', dist, '--mode', 'production'], { cwd: proj });
  writeFileSync(path.join(dist, 'index.html'), readFileSync(path.join(proj, 'index.html'), 'utf8').replace('type="module" src="./main.js"', 'src="./main.js"'));
  assert.equal(wasmFiles(dist).length, 1, `one wasm emitted: ${wasmFiles(dist)}`);
  for (const r of await loadTwice(dist, 'webpack')) assert.deepEqual(r, EXPECTED);
});

test('esbuild with defaults (--bundle, iife): the import never throws, the missing engine is a catchable WASM_LOAD, the documented recipe works', { timeout: 180_000 }, async () => {
  const dist = path.join(proj, 'dist-esbuild');
  await run(bin('esbuild'), ['main.js', '--bundle', `--outfile=${path.join(dist, 'main.js')}`, '--log-level=error'], { cwd: proj });
  // docs/BROWSER.md "A worker entry": the host as a second entry, the engine copied beside.
  await run(bin('esbuild'), ['akidb/web-worker-host', '--bundle', '--format=esm', `--outfile=${path.join(dist, 'akidb-worker.js')}`, '--log-level=error'], { cwd: proj });
  copyFileSync(path.join(proj, 'node_modules/akidb/wasm/akidb_bg.wasm'), path.join(dist, 'akidb_bg.wasm'));
  const page = (cfg) =>
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script>window.APP_CONFIG = ${JSON.stringify(cfg)};</script><script src="./main.js"></script>\n`;
  writeFileSync(path.join(dist, 'index.html'), page({ probeDefaultLoad: true, wasm: '/akidb_bg.wasm', worker: '/akidb-worker.js' }));
  for (const r of await loadTwice(dist, 'esbuild')) assert.deepEqual(r, { defaultLoad: 'WASM_LOAD', ...EXPECTED });
  // Negative control: the same bundle without the documented options fails, with the code.
  writeFileSync(path.join(dist, 'index.html'), page({}));
  const [bare] = await loadTwice(dist, 'esbuild-bare');
  assert.equal(bare.code, 'WASM_LOAD', JSON.stringify(bare));
  assert.match(bare.failed, /AkiDB\.ready\(\{ wasm:/);
});
