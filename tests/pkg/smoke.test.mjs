// Package smoke test: packs the built pkg/ with `npm pack`, installs the tarball into a scratch
// project (offline; no install scripts), and runs the same script (tests/pkg/smoke.mjs: create,
// upsert, search) in Node ESM, Node CommonJS, Chromium and Firefox (ES module + import map, no
// bundler; page and module worker) and workerd (the .wasm imported as a module). Requires
// scripts/build-pkg.sh to have run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { EXPECTED } from './smoke.mjs';
import { startServer } from '../../www/server.mjs';
import { BROWSERS, driver } from '../support/browsers.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
let proj;

before(async () => {
  proj = mkdtempSync(path.join(os.tmpdir(), 'akidb-smoke-'));
  const { stdout } = await run('npm', ['pack', path.join(root, 'pkg'), '--pack-destination', proj, '--json'], {
    cwd: proj,
  });
  const tarball = path.join(proj, JSON.parse(stdout)[0].filename);
  writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'smoke', private: true }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: proj });
  copyFileSync(path.join(here, 'smoke.mjs'), path.join(proj, 'smoke.mjs'));
});

after(() => rmSync(proj, { recursive: true, force: true }));

test('the packed package has the files, the exports map and no install scripts', () => {
  const pj = JSON.parse(readFileSync(path.join(proj, 'node_modules/akidb/package.json'), 'utf8'));
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pj.scripts?.[s], undefined, s);
  assert.equal(pj.types, './index.d.ts');
  assert.deepEqual(Object.keys(pj.exports['.']).sort(), ['browser', 'default', 'node', 'types', 'worker', 'workerd']);
  // One copy of the wasm (the Node glue reads wasm/), and the README, licence and CJS types.
  const dir = path.join(proj, 'node_modules/akidb');
  const wasms = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.wasm'));
  assert.deepEqual(wasms, [path.join('wasm', 'akidb_bg.wasm')]);
  for (const f of ['README.md', 'LICENSE', 'index.d.cts']) assert.ok(existsSync(path.join(dir, f)), `tarball has ${f}`);
  assert.match(readFileSync(path.join(dir, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  assert.equal(pj.exports['.'].node.require.types, './index.d.cts');
  const d = readFileSync(path.join(proj, 'node_modules/akidb/index.d.ts'), 'utf8');
  for (const m of ['static open', 'createCollection', 'listCollections', 'dropCollection', 'metricsText', 'upsert', 'search', 'seal', 'manifest', 'refresh', 'count']) {
    assert.ok(d.includes(m), `index.d.ts declares ${m}`);
  }
});

test('Node ESM: import from "akidb"', async () => {
  writeFileSync(
    path.join(proj, 'esm.mjs'),
    `import { AkiDB } from 'akidb';
import akidb from 'akidb';
import { smoke } from './smoke.mjs';
if (akidb.AkiDB !== AkiDB) throw new Error('default export differs');
console.log(JSON.stringify(await smoke(AkiDB)));\n`,
  );
  const { stdout } = await run(process.execPath, ['esm.mjs'], { cwd: proj, timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout), EXPECTED);
});

test('Node CommonJS: require("akidb")', async () => {
  writeFileSync(
    path.join(proj, 'cjs.cjs'),
    `'use strict';
const { AkiDB } = require('akidb');
import('./smoke.mjs').then(async ({ smoke }) => console.log(JSON.stringify(await smoke(AkiDB))));\n`,
  );
  const { stdout } = await run(process.execPath, ['cjs.cjs'], { cwd: proj, timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout), EXPECTED);
});

test('TypeScript: NodeNext ESM and Node16 CommonJS (import = require) compile against the installed types and run', { timeout: 120_000 }, async () => {
  const tsc = path.join(root, 'node_modules/.bin/tsc');
  const body = (ns) => `  const db = await ${ns}AkiDB.open();
  await db.createCollection('ts', { dimension: 3 }, { ifNotExists: true });
  const c = await db.collection('ts');
  await c.upsert([{ id: 'a', vector: [1, 0, 0] }, { id: 'b', vector: [0, 1, 0] }]);
  const hits = await c.search([1, 0, 0], { k: 1 });
  const id: string = hits[0].id;
  const err: unknown = await c.search([1, 0], 1).catch((e: unknown) => e);
  if (!(err instanceof ${ns}AkiDBError)) throw new Error('AkiDBError is not a class');
  console.log(JSON.stringify({ id, code: err.code }));`;
  writeFileSync(path.join(proj, 'ts-esm.mts'), `import { AkiDB, AkiDBError } from 'akidb';\n${body('').replace(/^  /gm, '')}\n`);
  writeFileSync(path.join(proj, 'ts-cjs.cts'), `import akidb = require('akidb');\nasync function main(): Promise<void> {\n${body('akidb.')}\n}\nmain();\n`);
  // Misuse must not compile (so the check above can fail): an unknown option key.
  writeFileSync(path.join(proj, 'ts-bad.cts'), `import akidb = require('akidb');\nexport async function f(c: akidb.Collection) { await c.search([1], { topK: 1 }); }\n`);
  const common = ['--strict', '--target', 'es2022', '--lib', 'es2022,dom', '--skipLibCheck', 'false', '--outDir', 'ts-out'];
  for (const [mod, file] of [['nodenext', 'ts-esm.mts'], ['node16', 'ts-cjs.cts']]) {
    const r = await run(tsc, [...common, '--module', mod, '--moduleResolution', mod, file], { cwd: proj }).catch((e) => e);
    assert.equal(r.code ?? 0, 0, `tsc --module ${mod} ${file}: ${r.stdout}${r.stderr}`);
    const out = path.join('ts-out', file.replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs'));
    const { stdout } = await run(process.execPath, [out], { cwd: proj, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout), { id: 'a', code: 'INVALID_ARGUMENT' }, `${file} ran`);
  }
  const bad = await run(tsc, [...common, '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', 'ts-bad.cts'], { cwd: proj }).catch((e) => e);
  assert.notEqual(bad.code ?? 0, 0, 'an unknown option key is a type error');
  assert.match(`${bad.stdout}`, /topK/);
});

/** Writes the smoke page and its module worker into the scratch project. */
function writeSmokePage() {
  writeFileSync(
    path.join(proj, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>smoke</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "akidb": "/node_modules/akidb/index.js" } }</script>
<script type="module">
  import { AkiDB } from 'akidb';
  import { smoke } from './smoke.mjs';
  try {
    // Importing did no I/O; a wrong wasm URL is a catchable WASM_LOAD, and the next try loads.
    let load = null;
    try {
      await AkiDB.ready({ wasm: '/no-such.wasm' });
    } catch (e) {
      load = { code: e.code, names: e.message.includes('/no-such.wasm') };
    }
    if (JSON.stringify(load) !== JSON.stringify({ code: 'WASM_LOAD', names: true })) throw new Error('bad wasm URL: ' + JSON.stringify(load));
    const memory = await smoke(AkiDB);
    const indexeddb = await smoke(AkiDB, { store: 'indexeddb', name: 'smoke-' + Date.now() });
    // The same in a module web worker (import maps do not reach workers: a path import there).
    const worker = await new Promise((ok) => {
      const w = new Worker('./worker-smoke.mjs', { type: 'module' });
      w.onmessage = (e) => ok(e.data);
      w.onerror = (e) => ok({ failed: e.message });
    });
    window.__result = { memory, indexeddb, worker };
  } catch (e) {
    window.__result = { failed: String(e && e.stack || e) };
  }
</script>\n`,
  );
  writeFileSync(
    path.join(proj, 'worker-smoke.mjs'),
    `import { AkiDB } from '/node_modules/akidb/index.js';
import { smoke } from './smoke.mjs';
try {
  postMessage({ memory: await smoke(AkiDB), indexeddb: await smoke(AkiDB, { store: 'indexeddb', name: 'w-' + Date.now() }) });
} catch (e) {
  postMessage({ failed: String(e && e.stack || e) });
}\n`,
  );
}

for (const browser of BROWSERS) {
  test(`${browser}: ES module with an import map (page and web worker), memory and IndexedDB stores`, { timeout: 120_000 }, async () => {
    const { echoErrors, freshProfile, launch, removeProfile } = driver(browser);
    writeSmokePage();
    const server = await startServer({ mounts: { '/': proj } });
    const profile = freshProfile('smoke');
    const context = await launch(profile);
    try {
      const page = await context.newPage();
      echoErrors(page, 'smoke');
      await page.goto(server.url);
      const result = await (await page.waitForFunction(() => window.__result, null, { timeout: 60_000 })).jsonValue();
      assert.equal(result.failed, undefined, result.failed);
      assert.deepEqual(result.memory, EXPECTED);
      assert.deepEqual(result.indexeddb, EXPECTED);
      assert.equal(result.worker.failed, undefined, result.worker.failed);
      assert.deepEqual(result.worker, { memory: EXPECTED, indexeddb: EXPECTED }, 'in a web worker');
    } finally {
      await context.close();
      await server.close();
      removeProfile(profile);
    }
  });
}

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const srv = net.createServer();
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

test('workerd: the "workerd" export, .wasm imported as a module', { timeout: 120_000 }, async () => {
  const pj = JSON.parse(readFileSync(path.join(proj, 'node_modules/akidb/package.json'), 'utf8'));
  const entry = path.posix.join('node_modules/akidb', pj.exports['.'].workerd);
  writeFileSync(
    path.join(proj, 'worker.mjs'),
    `import { AkiDB } from 'akidb';
import { smoke } from './smoke.mjs';
export default {
  async fetch() {
    try { return Response.json(await smoke(AkiDB)); }
    catch (e) { return new Response(String(e && e.stack || e), { status: 500 }); }
  },
};\n`,
  );
  const port = await freePort();
  writeFileSync(
    path.join(proj, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "smoke.mjs", esModule = embed "smoke.mjs"),
    (name = "akidb", esModule = embed "${entry}"),
    (name = "wasm/akidb.js", esModule = embed "node_modules/akidb/wasm/akidb.js"),
    (name = "wasm/akidb_bg.wasm", wasm = embed "node_modules/akidb/wasm/akidb_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
);\n`,
  );
  const bin = path.join(root, 'node_modules/.bin/workerd');
  const child = spawn(bin, ['serve', 'config.capnp'], { cwd: proj, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  try {
    let res;
    for (let i = 0; i < 100 && !res; i++) {
      if (child.exitCode !== null) break;
      res = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
      if (!res) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(res, `workerd did not answer:\n${log}`);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.deepEqual(JSON.parse(body), EXPECTED);
  } finally {
    child.kill('SIGTERM');
    await new Promise((ok) => (child.exitCode !== null ? ok() : child.once('exit', ok)));
  }
});
