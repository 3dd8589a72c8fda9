// `wrangler dev` (pinned in tests/apps/package.json: wrangler 3, the last line that runs on
// Node 20) with an R2 binding: tests/apps/wrangler-app with the packed package installed, bundled
// by wrangler itself (its conditions pick the workerd entry, the .wasm a module), served on
// 127.0.0.1 and checked by request; then stopped (by PID) and started again on the same local
// state directory, which must still hold every record (R2 persistence through the manifest).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';

import { freePort, here, installPackage } from './lib.mjs';

const wrangler = path.join(here, 'node_modules/.bin/wrangler');
const proj = path.join(here, '.work', `wrangler-${process.pid}`);
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_UPDATE_NOTIFIER: '1' };

before(async () => {
  await installPackage(proj, { type: 'module' });
  cpSync(path.join(here, 'wrangler-app'), proj, { recursive: true });
});

after(() => rmSync(proj, { recursive: true, force: true }));

/** `wrangler dev` on free ports in its own process group; resolves once it answers. */
async function dev() {
  const [port, inspector] = [await freePort(), await freePort()];
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector), '--persist-to', path.join(proj, 'state')];
  const child = spawn(wrangler, args, { cwd: proj, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    for (let i = 0; i < 50 && child.exitCode === null && child.signalCode === null; i++) await new Promise((ok) => setTimeout(ok, 100));
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) break;
    const r = await fetch(url).catch(() => null);
    if (r) return { get: async (q) => (await fetch(url + q)).json(), stop, log: () => log, first: await r.json() };
    await new Promise((ok) => setTimeout(ok, 500));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url}\n${log}`);
}

test('wrangler dev + R2 binding: get-or-create, upsert, search; the records survive a restart', { timeout: 300_000 }, async () => {
  let w = await dev();
  try {
    assert.equal(w.first.error, undefined, w.first.error);
    assert.deepEqual(w.first, { hits: [], count: 0 });
    const r = await w.get('/?upsert=a,b,c');
    assert.equal(r.error, undefined, r.error);
    assert.deepEqual([r.hits, r.count], [['a', 'c'], 3]);
  } finally {
    await w.stop();
  }
  w = await dev();
  try {
    assert.deepEqual(w.first, { hits: ['a', 'c'], count: 3 }, `after restart\n${w.log()}`);
  } finally {
    await w.stop();
  }
});
