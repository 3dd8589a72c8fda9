// The package smoke test through the worker entry ('akidb/worker'): packs pkg/ with `npm pack`,
// installs it into a scratch project (offline), and runs tests/pkg/smoke.mjs in a page with the
// database inside a dedicated module worker behind the promise proxy — memory and IndexedDB —
// plus a chunked 5,000-record upsert (one commit, progress events, the caller's arrays intact),
// searchIds with a transferred Float32Array, error codes across the worker boundary, a
// main-thread subscription hearing the worker's commit, and close() terminating the worker.
// Page side: worker_smoke_page.mjs; expected result: worker_smoke.mjs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { EXPECTED_WORKER, writeWorkerSmokePage } from './worker_smoke.mjs';
import { startServer } from '../../www/server.mjs';
import { BROWSERS, driver } from '../support/browsers.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
let proj;

before(async () => {
  proj = mkdtempSync(path.join(os.tmpdir(), 'akidb-smoke-worker-'));
  const { stdout } = await run('npm', ['pack', path.join(root, 'pkg'), '--pack-destination', proj, '--json'], { cwd: proj });
  const tarball = path.join(proj, JSON.parse(stdout)[0].filename);
  writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'smoke-worker', private: true }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: proj });
  copyFileSync(path.join(here, 'smoke.mjs'), path.join(proj, 'smoke.mjs'));
  writeWorkerSmokePage(proj);
});

after(() => rmSync(proj, { recursive: true, force: true }));

test('the package exports akidb/web-worker (alias akidb/worker) with its types and the host script', () => {
  const pj = JSON.parse(readFileSync(path.join(proj, 'node_modules/akidb/package.json'), 'utf8'));
  assert.deepEqual(pj.exports['./web-worker'], { types: './worker.d.ts', default: './worker.js' });
  assert.deepEqual(pj.exports['./worker'], pj.exports['./web-worker']);
  assert.equal(pj.exports['./web-worker-host'], './worker-host.js');
  for (const f of ['worker.js', 'worker-host.js', 'worker.d.ts']) {
    assert.ok(readFileSync(path.join(proj, 'node_modules/akidb', f), 'utf8').length > 0, f);
  }
});

test('where there is no browser Worker (Node here), importing akidb/web-worker works and open() names the right import', async () => {
  writeFileSync(
    path.join(proj, 'no-worker.mjs'),
    `import { AkiDBWorker } from 'akidb/web-worker';
const e = await AkiDBWorker.open().catch((e) => e);
console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message }));\n`,
  );
  const { stdout } = await run(process.execPath, ['no-worker.mjs'], { cwd: proj, timeout: 60_000 });
  const e = JSON.parse(stdout);
  assert.equal(e.name, 'AkiDBError');
  assert.equal(e.code, 'INVALID_ARGUMENT');
  assert.match(e.message, /import \{ AkiDB \} from 'akidb'/);
});

for (const browser of BROWSERS) {
  test(`${browser}: smoke test through the worker entry (module worker + proxy)`, { timeout: 120_000 }, async () => {
    const { echoErrors, freshProfile, launch, removeProfile } = driver(browser);
    const server = await startServer({ mounts: { '/': proj } });
    const profile = freshProfile('smoke-worker');
    const context = await launch(profile);
    try {
      const page = await context.newPage();
      echoErrors(page, 'smoke-worker');
      await page.goto(server.url + 'worker.html');
      const result = await (await page.waitForFunction(() => window.__result, null, { timeout: 90_000 })).jsonValue();
      assert.equal(result.failed, undefined, result.failed);
      assert.deepEqual(result, EXPECTED_WORKER);
    } finally {
      await context.close();
      await server.close();
      removeProfile(profile);
    }
  });
}
