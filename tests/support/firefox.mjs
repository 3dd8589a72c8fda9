// Headless Debian Firefox ESR for the browser tests and benchmarks, with the same shape as
// chromium.mjs: freshProfile / launch(profile) → context { newPage(), close() } whose pages have
// goto(url), evaluate(fn, arg) and waitForFunction(fn, arg, { timeout }) → { jsonValue() }.
//
// The real browser is driven through geckodriver (built with `cargo install geckodriver`, see
// scripts/setup.sh) by selenium-webdriver's WebDriver BiDi connection. Both processes are started
// and stopped by PID: geckodriver here, Firefox by geckodriver (its PID comes back as the session
// capability moz:processID and is killed if a quit does not end it in time). Everything listens
// on 127.0.0.1. The profile directory is used in place (`-profile`), so IndexedDB survives a close
// and a relaunch on the same directory, like Chromium's user-data-dir.
//
// evaluate() starts the function in the page and polls for its settled result with short BiDi
// calls: a BiDi command in selenium-webdriver times out after 30 s, and several tabs must be able
// to run long functions at the same time (the 4-tab test).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Builder } from 'selenium-webdriver';
import BrowsingContext from 'selenium-webdriver/bidi/browsingContext.js';
import LogInspector from 'selenium-webdriver/bidi/logInspector.js';
import { LocalValue } from 'selenium-webdriver/bidi/protocolValue.js';
import ScriptManager from 'selenium-webdriver/bidi/scriptManager.js';
import firefox from 'selenium-webdriver/firefox.js';

/** The Firefox binary: $FIREFOX, else Debian's firefox-esr. */
export const FIREFOX = process.env.FIREFOX ?? '/usr/lib/firefox-esr/firefox-esr';

/** geckodriver: $GECKODRIVER, else the one `cargo install` put in ~/.cargo/bin, else PATH. */
export const GECKODRIVER =
  process.env.GECKODRIVER ??
  [path.join(os.homedir(), '.cargo/bin/geckodriver'), '/usr/local/bin/geckodriver'].find((p) => existsSync(p)) ??
  'geckodriver';

/** Preferences for this closed-network machine and for tabs that must run at full speed. */
export const FIREFOX_PREFS = {
  // Background tabs of the multi-tab tests keep their timers at full speed (the default clamps
  // a background tab's setTimeout to >= 1 s and throttles it further on a budget).
  'dom.min_background_timeout_value': 4,
  'dom.min_background_timeout_value_without_budget_throttling': 4,
  'dom.timeout.enable_budget_timer_throttling': false,
  'dom.timeout.throttling_delay': -1,
  // No traffic to the outside: updates, telemetry, captive portal and connectivity probes.
  'app.update.disabledForTesting': true,
  'browser.shell.checkDefaultBrowser': false,
  'browser.sessionstore.resume_from_crash': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.update.enabled': false,
  'browser.safebrowsing.update.enabled': false,
};

/** A fresh, empty profile directory (removed by `removeProfile`). */
export function freshProfile(tag = 'akidb') {
  return mkdtempSync(path.join(os.tmpdir(), `${tag}-firefox-`));
}

/** Deletes a profile directory made by `freshProfile`. */
export function removeProfile(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Firefox's version string, e.g. "Mozilla Firefox 153.8.0esr". */
export function firefoxVersion() {
  return execFileSync(FIREFOX, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Resolves `p`, or rejects after `ms` with `what` in the message. */
function bounded(p, ms, what) {
  let timer;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise((_, no) => (timer = setTimeout(() => no(new Error(`${what}: no answer in ${ms} ms`)), ms))),
  ]);
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (bounded). */
async function stopPid(pid, graceMs = 5000) {
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {}
  for (let waited = 0; alive(pid) && waited < graceMs; waited += 50) await sleep(50);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    for (let waited = 0; alive(pid) && waited < 5000; waited += 50) await sleep(50);
  }
}

/** Starts geckodriver on 127.0.0.1 (a free port); resolves to { child, url }. */
async function startGeckodriver() {
  const child = spawn(GECKODRIVER, ['--host', '127.0.0.1', '--port', '0', '--websocket-port', '0', '--log', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await bounded(
    new Promise((ok, no) => {
      const onData = (d) => {
        log += d;
        const m = /Listening on (127\.0\.0\.1:\d+)/.exec(log);
        if (m) ok(`http://${m[1]}`);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', no);
      child.once('exit', (code) => no(new Error(`geckodriver exited (${code}): ${log}`)));
    }),
    15_000,
    `geckodriver (${GECKODRIVER}) did not report its port`,
  ).catch(async (e) => {
    await stopPid(child.pid);
    throw e;
  });
  child.stdout.on('data', () => {});
  child.stderr.on('data', (d) => {
    if (process.env.AKIDB_GECKODRIVER_LOG) process.stderr.write(d);
  });
  return { child, url };
}

class FirefoxPage {
  constructor(ctx, context) {
    this.ctx = ctx;
    this.context = context; // selenium's BiDi BrowsingContext (a tab)
    this.id = context.id;
    this.label = 'page';
    this.seq = 0;
  }

  /** script.callFunction in this tab with string arguments; resolves to the returned string. */
  async #call(functionDeclaration, args = []) {
    const r = await this.ctx.script.callFunctionInBrowsingContext(
      this.id,
      functionDeclaration,
      true,
      args.map((a) => LocalValue.createStringValue(a)),
    );
    if (r.exceptionDetails) throw new Error(`[${this.label}] script.callFunction: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  async goto(url, { timeout = 60_000 } = {}) {
    await bounded(this.context.navigate(url, 'complete'), timeout, `navigate to ${url}`);
  }

  /**
   * Runs `fn(arg)` in the page (like playwright's page.evaluate: the function's source is sent,
   * so it must not close over Node variables); resolves to its JSON-serialisable result.
   */
  async evaluate(fn, arg, { timeout = 600_000 } = {}) {
    const slot = `${Date.now()}-${this.seq++}`;
    await this.#call(
      `(slot, argJson) => {
        const calls = (window.__akidbCalls ??= {});
        calls[slot] = { done: false };
        const fn = (${fn.toString()});
        Promise.resolve()
          .then(() => fn(argJson === undefined ? undefined : JSON.parse(argJson)))
          .then(
            (v) => (calls[slot] = { done: true, json: v === undefined ? undefined : JSON.stringify(v) }),
            // Firefox's stack does not repeat the message (V8's does): name and message first.
            (e) => (calls[slot] = { done: true, error: e instanceof Error ? e.name + ': ' + e.message + '\\n' + e.stack : String(e) }),
          );
      }`,
      arg === undefined ? [slot] : [slot, JSON.stringify(arg)],
    );
    const t0 = Date.now();
    // Each poll is a task in the page: it waits while the page runs a long synchronous stretch
    // (a benchmark loop), so a poll that selenium gives up on after 30 s is simply repeated.
    for (let wait = 5; ; wait = Math.min(wait * 2, 250)) {
      const r = await this.#call(
        `(slot) => {
          const c = window.__akidbCalls && window.__akidbCalls[slot];
          if (!c) return JSON.stringify({ lost: true });
          if (!c.done) return '';
          delete window.__akidbCalls[slot];
          return JSON.stringify(c);
        }`,
        [slot],
      ).catch((e) => {
        if (/timed out/.test(e.message) && Date.now() - t0 < timeout) return '';
        throw e;
      });
      if (r) {
        const c = JSON.parse(r);
        if (c.lost) throw new Error(`[${this.label}] the page navigated or reloaded during evaluate`);
        if (c.error !== undefined) throw new Error(`[${this.label}] ${c.error}`);
        return c.json === undefined ? undefined : JSON.parse(c.json);
      }
      if (Date.now() - t0 > timeout) throw new Error(`[${this.label}] evaluate: no result in ${timeout} ms`);
      await sleep(wait);
    }
  }

  /** Polls `fn(arg)` until it returns a truthy value; resolves to a handle with jsonValue(). */
  async waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    const t0 = Date.now();
    for (;;) {
      const v = await this.evaluate(fn, arg);
      if (v) return { jsonValue: async () => v };
      if (Date.now() - t0 > timeout) throw new Error(`[${this.label}] waitForFunction: still falsy after ${timeout} ms`);
      await sleep(50);
    }
  }

  async close() {
    this.ctx.pages.delete(this.id);
    await this.context.close();
  }
}

class FirefoxContext {
  constructor(gecko, driver, script, pid) {
    this.gecko = gecko;
    this.driver = driver;
    this.script = script;
    this.pid = pid;
    this.pages = new Map();
    this.closed = false;
  }

  async version() {
    return `Firefox ${(await this.driver.getCapabilities()).get('browserVersion')}`;
  }

  async newPage() {
    const page = new FirefoxPage(this, await BrowsingContext(this.driver, { type: 'tab' }));
    this.pages.set(page.id, page);
    return page;
  }

  /** Quits Firefox (bounded), then makes sure both processes are gone. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    await bounded(this.driver.quit(), 30_000, 'firefox quit').catch((e) => process.stderr.write(`[firefox] ${e.message}\n`));
    // After a clean quit Firefox exits by itself; wait a little for it before forcing it.
    for (let waited = 0; this.pid && alive(this.pid) && waited < 10_000; waited += 50) await sleep(50);
    await stopPid(this.pid);
    await stopPid(this.gecko.pid);
  }
}

/**
 * Launches headless Firefox on `profileDir` (used in place: IndexedDB survives a close and a
 * relaunch on the same directory). `prefs` adds preferences (about:config) for this launch.
 * Resolves to a context; `await context.close()` stops Firefox.
 */
export async function launch(profileDir, { prefs = {} } = {}) {
  const { child, url } = await startGeckodriver();
  try {
    const options = new firefox.Options()
      .setBinary(FIREFOX)
      .addArguments('-headless', '-profile', profileDir)
      .enableBidi();
    for (const [k, v] of Object.entries({ ...FIREFOX_PREFS, ...prefs })) options.setPreference(k, v);
    const driver = await bounded(
      new Builder().forBrowser('firefox').usingServer(url).setFirefoxOptions(options).build(),
      90_000,
      'firefox session',
    );
    const pid = (await driver.getCapabilities()).get('moz:processID');
    const ctx = new FirefoxContext(child, driver, null, pid);
    try {
      ctx.script = await bounded(ScriptManager([], driver), 30_000, 'BiDi connection');
      await subscribeErrors(ctx);
    } catch (e) {
      await ctx.close();
      throw e;
    }
    return ctx;
  } catch (e) {
    await stopPid(child.pid);
    throw e;
  }
}

/** Console errors and uncaught exceptions of pages marked with `echoErrors` go to stderr. */
async function subscribeErrors(ctx) {
  const inspector = await LogInspector(ctx.driver);
  await inspector.onLog((entry) => {
    const page = ctx.pages.get(entry.source?.browsingContextId);
    if (!page?.echo || entry.level !== 'error') return;
    const kind = entry.type === 'javascript' ? 'uncaught' : 'console.error';
    process.stderr.write(`[${page.label}] ${kind}: ${entry.text}\n`);
  });
}

/** Forwards a page's console errors and uncaught exceptions to stderr (debugging aid). */
export function echoErrors(page, label = 'page') {
  page.label = label;
  page.echo = true;
}
