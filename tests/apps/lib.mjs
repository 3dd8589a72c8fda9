// Shared by the tests/apps suites: the packed package installed into a fresh project, a free
// port on 127.0.0.1, and a page loaded twice in one fresh Chromium profile.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { driver } from '../support/browsers.mjs';

export const run = promisify(execFile);
export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');

/**
 * Creates `proj` afresh with a package.json (`extra` fields added) and installs the packed pkg/
 * into it (`npm pack`, then an offline install of the tarball, as a user would).
 */
export async function installPackage(proj, extra = {}) {
  rmSync(proj, { recursive: true, force: true });
  mkdirSync(proj, { recursive: true });
  const { stdout } = await run('npm', ['pack', path.join(root, 'pkg'), '--pack-destination', proj, '--json'], { cwd: proj });
  writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'app', private: true, ...extra }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${JSON.parse(stdout)[0].filename}`], { cwd: proj });
}

/** A port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** Loads `url` twice in one fresh Chromium profile; resolves to both `window.__result`s. */
export async function loadTwice(url, name, timeout = 60_000) {
  const { echoErrors, freshProfile, launch, removeProfile } = driver('chromium');
  const profile = freshProfile(`apps-${name}`);
  const context = await launch(profile);
  try {
    const results = [];
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      echoErrors(page, name);
      await page.goto(url);
      results.push(await (await page.waitForFunction(() => window.__result, null, { timeout })).jsonValue());
      await page.close();
    }
    return results;
  } finally {
    await context.close();
    removeProfile(profile);
  }
}
