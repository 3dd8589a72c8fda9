// Shared setup of the end-to-end tests: a static server for the test pages and the built package,
// and a browser (Chromium by default, or Firefox: tests/support/browsers.mjs) on a fresh profile;
// everything is stopped and removed afterwards.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../www/server.mjs';
import { driver } from '../support/browsers.mjs';

export { BROWSERS } from '../support/browsers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');

/** Serves tests/e2e/pages at / and pkg/ at /pkg/ (plus `extraMounts`). */
export function serve(extraMounts = {}) {
  return startServer({ mounts: { '/': path.join(here, 'pages'), '/pkg/': path.join(ROOT, 'pkg'), ...extraMounts } });
}

/** The driver module of each browser context launched by `withBrowser`. */
const driverOf = new WeakMap();

/**
 * Runs `fn({ server, profile, launchBrowser })` and cleans up: `launchBrowser(options?)` starts the
 * browser (`browser`: 'chromium' or 'firefox') on the one profile of this run (call it again after
 * closing to restart on the same data); `options` go to that driver's launch().
 */
export async function withBrowser(fn, { mounts, browser = 'chromium' } = {}) {
  const { freshProfile, launch, removeProfile } = driver(browser);
  const server = await serve(mounts);
  const profile = freshProfile('akidb-e2e');
  const open = [];
  const launchBrowser = async (options) => {
    const ctx = await launch(profile, options);
    driverOf.set(ctx, driver(browser));
    open.push(ctx);
    return ctx;
  };
  try {
    return await fn({ server, profile, launchBrowser });
  } finally {
    for (const ctx of open) await ctx.close().catch(() => {});
    await server.close();
    removeProfile(profile);
  }
}

/** A new page of the test origin with errors echoed to stderr. */
export async function blankPage(ctx, server, label) {
  const page = await ctx.newPage();
  (driverOf.get(ctx) ?? driver('chromium')).echoErrors(page, label);
  await page.goto(server.url + 'blank.html');
  return page;
}
