// Live updates across tabs (collection.subscribe) in real headless Chromium and Firefox: a reader tab's
// listener fires within 500 ms of another tab's upsert; a tab without BroadcastChannel falls
// back to polling; without both it misses the update (negative control); and four tabs writing
// 50 commits each see all 200 records through their listeners alone (their reader handles
// never call refresh()). The page side is tests/e2e/pages/live.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BROWSERS, blankPage, withBrowser } from './lib.mjs';

const call = (page, fn, arg) => page.evaluate(([fn, arg]) => import('/live.mjs').then((m) => m[fn](arg)), [fn, arg]);
const LATENCY_MS = 500;
const TABS = 4;
const COMMITS = 50;

for (const browser of BROWSERS) {
  test(`${browser}: a listener in another tab fires ≤ 500 ms after an upsert; polling fallback; control without both`, { timeout: 180_000 }, (t) =>
    withBrowser(async ({ server, launchBrowser }) => {
      const ctx = await launchBrowser();
      const name = 'live-latency';
      const pages = {};
      for (const label of ['writer', 'reader', 'polling', 'deaf']) pages[label] = await blankPage(ctx, server, label);
      const initial = await call(pages.writer, 'create', name);
      await call(pages.reader, 'listen', { name });
      await call(pages.polling, 'listen', { name, noBroadcast: true, pollIntervalMs: 200 });
      await call(pages.deaf, 'listen', { name, noBroadcast: true, pollIntervalMs: 0 });

      const delays = [];
      for (let i = 0; i < 10; i++) {
        const w = await call(pages.writer, 'write', { name, id: `r${i}` });
        const seen = await call(pages.reader, 'waitFor', { version: w.version, ms: 5000 });
        const hit = seen.find((c) => c.v >= w.version);
        assert.ok(hit, `reader saw version ${w.version}: ${JSON.stringify(seen.slice(-3))}`);
        assert.equal(hit.handle, hit.v, "the reader's snapshot moved before its listener ran");
        delays.push(hit.at - w.at);
        await new Promise((ok) => setTimeout(ok, 50));
      }
      t.diagnostic(`listener delay after the writer's upsert resolved (ms): ${delays.map((d) => d.toFixed(1)).join(', ')}`);
      assert.ok(Math.max(...delays) <= LATENCY_MS, `every delay ≤ ${LATENCY_MS} ms: ${delays}`);

      const final = initial + 10;
      const polled = await call(pages.polling, 'waitFor', { version: final, ms: 3000 });
      assert.equal(polled.at(-1)?.v, final, 'without BroadcastChannel, polling found the last commit');
      const missed = await call(pages.deaf, 'waitFor', { version: final, ms: 1500 });
      assert.deepEqual(missed, [], 'without BroadcastChannel and polling, nothing arrives (control)');
      assert.equal((await call(pages.deaf, 'view')).version, initial, 'and its snapshot stayed where it was');
      for (const p of Object.values(pages)) await call(p, 'close');
    }, { browser }),
  );


  test(`${browser}: ${TABS} tabs × ${COMMITS} commits each: every tab sees all ${TABS * COMMITS} through its listener alone`, { timeout: 300_000 }, (t) =>
    withBrowser(async ({ server, launchBrowser }) => {
      const ctx = await launchBrowser();
      const name = 'live-multitab';
      const pages = [];
      for (let i = 0; i < TABS; i++) pages.push(await blankPage(ctx, server, `tab${i}`));
      const initial = await call(pages[0], 'create', name);
      for (const p of pages) assert.equal(await call(p, 'listen', { name }), initial);

      const startAt = Date.now() + 1500;
      const retries = await Promise.all(pages.map((p, tab) => call(p, 'writeMany', { name, tab, commits: COMMITS, startAt })));
      t.diagnostic(`conflicts retried per tab: ${retries.join(', ')}`);
      const final = initial + TABS * COMMITS;
      const want = [];
      for (let k = 0; k < TABS; k++) for (let i = 0; i < COMMITS; i++) want.push(`t${k}-${i}`);
      for (const [tab, p] of pages.entries()) {
        const seen = await call(p, 'waitFor', { version: final, ms: 20_000 });
        const vs = seen.map((c) => c.v);
        assert.equal(vs.at(-1), final, `tab ${tab}: the listener reached version ${final}`);
        assert.ok(vs.every((v, i) => i === 0 || v > vs[i - 1]), `tab ${tab}: versions only grow`);
        assert.ok(seen.every((c) => c.handle === c.v), `tab ${tab}: snapshot refreshed before each call`);
        const v = await call(p, 'view');
        assert.equal(v.version, final);
        assert.equal(v.count, TABS * COMMITS, `tab ${tab}: count through the subscription-refreshed snapshot`);
        assert.deepEqual([...v.ids].sort(), [...want].sort(), `tab ${tab}: every record`);
        t.diagnostic(`tab ${tab}: ${seen.length} listener calls for ${TABS * COMMITS} commits`);
      }
      for (const p of pages) await call(p, 'close');
    }, { browser }),
  );
}
