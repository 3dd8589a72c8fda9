// Next.js 16 (App Router, pinned in tests/apps/package.json) with its default configuration: the
// app in tests/apps/next-app (a 'use client' component importing akidb at top level, which Next
// also renders on the server, and a route handler using akidb on the server) with the packed
// package installed, built and served by `next build` + `next start` (Turbopack, the default,
// and `--webpack`) and by `next dev`, each on 127.0.0.1, checked by request (the route) and in
// headless Chromium (the page, loaded twice in one profile). The project lives under
// tests/apps/.work/ so that next, react and react-dom resolve from tests/apps/node_modules.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { driver } from '../support/browsers.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const next = path.join(here, 'node_modules/.bin/next');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
const proj = path.join(here, '.work', `next-${process.pid}`);

before(async () => {
  rmSync(proj, { recursive: true, force: true });
  mkdirSync(proj, { recursive: true });
  const { stdout } = await run('npm', ['pack', path.join(root, 'pkg'), '--pack-destination', proj, '--json'], { cwd: proj });
  writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'next-app', private: true }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${JSON.parse(stdout)[0].filename}`], { cwd: proj });
  cpSync(path.join(here, 'next-app'), proj, { recursive: true });
});

after(() => rmSync(proj, { recursive: true, force: true }));

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

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

async function pageTwice(url, name) {
  const { echoErrors, freshProfile, launch, removeProfile } = driver('chromium');
  const profile = freshProfile(`next-${name}`);
  const context = await launch(profile);
  try {
    const out = [];
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      echoErrors(page, `next-${name}`);
      await page.goto(url);
      out.push(await (await page.waitForFunction(() => window.__result, null, { timeout: 90_000 })).jsonValue());
      await page.close();
    }
    return out;
  } finally {
    await context.close();
    removeProfile(profile);
  }
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
      for (const r of await pageTwice(s.url, name)) assert.deepEqual(r, PAGE);
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
    for (const r of await pageTwice(s.url, 'dev')) assert.deepEqual(r, PAGE);
  } finally {
    s.stop();
  }
});
