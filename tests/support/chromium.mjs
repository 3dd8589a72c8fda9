// Headless Debian Chromium through playwright-core (never a downloaded browser), for the browser
// tests and the browser benchmark.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** The Chromium binary: $CHROMIUM, else Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Command-line flags for headless Chromium on this closed-network machine. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Background tabs of the multi-tab tests must keep running at full speed.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** A fresh, empty user-data-dir (removed by `removeProfile`). */
export function freshProfile(tag = 'akidb') {
  return mkdtempSync(path.join(os.tmpdir(), `${tag}-chromium-`));
}

/** Deletes a profile directory made by `freshProfile`. */
export function removeProfile(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Launches Chromium on `userDataDir` (persistent: IndexedDB survives a close and relaunch on the
 * same directory). Resolves to a playwright BrowserContext; `await context.close()` stops Chromium.
 */
export async function launch(userDataDir, { viewport = { width: 1280, height: 900 } } = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timeout: 60_000,
  });
}

/** Forwards a page's console errors and uncaught exceptions to stderr (debugging aid). */
export function echoErrors(page, label = 'page') {
  page.on('pageerror', (e) => process.stderr.write(`[${label}] uncaught: ${e.message}\n`));
  page.on('console', (m) => {
    if (m.type() === 'error') process.stderr.write(`[${label}] console.error: ${m.text()}\n`);
  });
}
