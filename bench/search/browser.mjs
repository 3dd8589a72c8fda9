// The browser part of the search benchmark: one page (run.mjs's PAGE) served from 127.0.0.1 runs
// AkiDB and the plain JS loop on the same data files, in headless Chromium (playwright-core) or
// headless Firefox (selenium-webdriver + geckodriver), through the drivers of tests/support.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { driver } from '../../tests/support/browsers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Cross-origin isolation: performance.now() is then precise to microseconds (Chromium 5 µs,
// Firefox 20 µs) instead of 100 µs (Chromium) or 1 ms (Firefox), which would round every
// latency of a ~0.1 ms query to 0 or 1 ms. Everything the page loads is same-origin.
const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** Serves `page` at /, pkg/ and bench/search/lib.mjs from the repo, and `dataDir` at /data/. */
function serve(page, dataDir) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file;
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html', ...ISOLATED });
      return res.end(page);
    } else if (url === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    } else if (url.startsWith('/pkg/') || url === '/bench/search/lib.mjs') {
      file = path.join(ROOT, url);
    } else if (url.startsWith('/data/')) {
      file = path.join(dataDir, url.slice(6));
    }
    const inside = (dir) => file && !path.relative(dir, file).startsWith('..');
    if (!(inside(ROOT) || inside(dataDir)) || !fs.existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', ...ISOLATED });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Runs `window.runBench(name, budgets)` of `page` for each dataset name in `browser` ('chromium'
 * or 'firefox') on a fresh profile. Resolves to { version (the user agent), results: { name: rows } }.
 */
export async function browserRun(browser, page, dataDir, names, budgets, timeoutMs) {
  const { echoErrors, freshProfile, launch, removeProfile } = driver(browser);
  const server = await serve(page, dataDir);
  const profile = freshProfile('akidb-bench');
  let context;
  const timer = setTimeout(() => {
    // Last resort: the page hangs. Closing the browser rejects the pending evaluate.
    context?.close().catch(() => {});
  }, timeoutMs);
  try {
    context = await launch(profile);
    const tab = await context.newPage();
    echoErrors(tab, `bench ${browser}`);
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction(() => window.ready === true, null, { timeout: 30000 }).catch(() => {
      throw new Error('page did not load (its errors are above)');
    });
    const version = await tab.evaluate(() => navigator.userAgent);
    if (!(await tab.evaluate(() => crossOriginIsolated))) throw new Error('the page is not cross-origin isolated');
    const results = {};
    for (const name of names) results[name] = await tab.evaluate(([n, b]) => window.runBench(n, b), [name, budgets]);
    return { version, results };
  } finally {
    clearTimeout(timer);
    await context?.close().catch(() => {});
    await new Promise((r) => server.close(r));
    removeProfile(profile);
  }
}
