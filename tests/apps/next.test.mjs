// Next.js 16 (App Router, pinned in tests/apps/package.json) with its default configuration: the
// app in tests/apps/next-app (a 'use client' component importing akidb at top level, which Next
// also renders on the server, and a route handler using akidb on the server) with the packed
// package installed, built and served by `next build` + `next start` (Turbopack, the default,
// and `--webpack`) and by `next dev`, each on 127.0.0.1, checked by request (the route) and in
// headless Chromium (the page, loaded twice in one profile). The project lives under
// tests/apps/.work/ so that next, react and react-dom resolve from tests/apps/node_modules.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';

import { freePort, here, installPackage, loadTwice, run } from './lib.mjs';

const next = path.join(here, 'node_modules/.bin/next');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
const proj = path.join(here, '.work', `next-${process.pid}`);

before(async () => {
  await installPackage(proj);
  cpSync(path.join(here, 'next-app'), proj, { recursive: true });
});

after(() => rmSync(proj, { recursive: true, force: true }));

/** Starts `next <args>` on a free port (own process group, killed by PID), waits for the route. */
async function serve(args) {
  const port = await freePort();
  const child = spawn(next, [...args, '-H', '127.0.0.1', '-p', String(port)], { cwd: proj, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  // Bounded: 240 tries x 0.5 s (next dev compiles the route on its first request).
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) break;
    const r = await fetch(`${url}/api/search`).catch(() => null);
    if (r) {
      const body = await r.text();
      if (r.ok) return { url, route: JSON.parse(body), stop, log: () => log };
      stop();
      throw new Error(`GET /api/search: ${r.status} ${body.slice(0, 500)}\n${log}`);
    }
    await new Promise((ok) => setTimeout(ok, 500));
  }
  stop();
  throw new Error(`next ${args.join(' ')} did not answer\n${log}`);
}

const PAGE = { main: ['a', 'c'], count: 3 };
const ROUTE = { server: ['b', 'c'] };

for (const [name, buildArgs] of [
  ['turbopack', ['build']],
  ['webpack', ['build', '--webpack']],
]) {
  test(`next build (${name}) + next start: the client component and the route handler`, { timeout: 300_000 }, async () => {
    rmSync(path.join(proj, '.next'), { recursive: true, force: true });
    const b = await run(next, buildArgs, { cwd: proj, env, maxBuffer: 1 << 24 }).catch((e) => e);
    assert.equal(b.code ?? 0, 0, `next ${buildArgs.join(' ')}:\n${b.stdout}${b.stderr}`);
    const s = await serve(['start']);
    try {
      assert.deepEqual(s.route, ROUTE);
      for (const r of await loadTwice(s.url, `next-${name}`, 90_000)) assert.deepEqual(r, PAGE);
    } finally {
      s.stop();
    }
  });
}

test('next dev (Turbopack): the client component and the route handler', { timeout: 300_000 }, async () => {
  rmSync(path.join(proj, '.next'), { recursive: true, force: true });
  const s = await serve(['dev']);
  try {
    assert.deepEqual(s.route, ROUTE);
    for (const r of await loadTwice(s.url, 'next-dev', 90_000)) assert.deepEqual(r, PAGE);
  } finally {
    s.stop();
  }
});
