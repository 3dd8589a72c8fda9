// Four tabs of one origin write into one IndexedDB collection at the same time (50 commits of
// distinct ids each, default retry policy). Afterwards every tab sees all 200 records and the
// manifest version is exactly initial + 200: no commit was lost or applied twice. (The writing
// tabs open with automatic compaction off: the test counts one segment per commit.) The same test
// runs in Chromium and in Firefox.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BROWSERS, blankPage, withBrowser } from './lib.mjs';

const TABS = 4;
const COMMITS = 50;

for (const browser of BROWSERS) {
  test(`${browser}: ${TABS} tabs × ${COMMITS} concurrent commits into one collection lose nothing`, { timeout: 300_000 }, (t) =>
    withBrowser(async ({ server, launchBrowser }) => {
      const ctx = await launchBrowser();
      const pages = [];
      for (let t = 0; t < TABS; t++) pages.push(await blankPage(ctx, server, `tab${t}`));

      const initial = await pages[0].evaluate(async () => {
        const { AkiDB } = await import('/pkg/index.js');
        const db = await AkiDB.open({ store: 'indexeddb', name: 'multitab', logLevel: 'error' });
        await db.createCollection('c', { dimension: 8, distance: 'dot' });
        const version = (await (await db.collection('c')).manifest()).version;
        await db.close();
        return version;
      });

      // Every tab loads the package, then all start writing at the same instant.
      const startAt = Date.now() + 2000;
      const stats = await Promise.all(
        pages.map((page, tab) =>
          page.evaluate(
            async ({ tab, commits, startAt }) => {
              const { AkiDB } = await import('/pkg/index.js');
              const db = await AkiDB.open({ store: 'indexeddb', name: 'multitab', logLevel: 'error', autoCompact: false });
              const c = await db.collection('c');
              await new Promise((ok) => setTimeout(ok, Math.max(0, startAt - Date.now())));
              const t0 = performance.now();
              for (let i = 0; i < commits; i++) {
                const vector = Array.from({ length: 8 }, (_, j) => Math.sin(tab * 1000 + i * 8 + j));
                await c.upsert([{ id: `t${tab}-${i}`, vector, metadata: { tab, i } }]);
              }
              const m = db.metrics();
              return {
                ms: performance.now() - t0,
                commits: m.manifestCommitsTotal,
                retries: m.manifestConflictRetriesTotal,
                failures: m.manifestConflictFailuresTotal,
              };
            },
            { tab, commits: COMMITS, startAt },
          ),
        ),
      );
      const retries = stats.reduce((n, s) => n + s.retries, 0);
      t.diagnostic(`per tab: ${JSON.stringify(stats)}`);
      for (const s of stats) assert.equal(s.failures, 0);
      assert.ok(retries > 0, 'the tabs really contended (conflicts were retried)');

      const expectedIds = [];
      for (let k = 0; k < TABS; k++) for (let i = 0; i < COMMITS; i++) expectedIds.push(`t${k}-${i}`);
      for (const [tab, page] of pages.entries()) {
        const seen = await page.evaluate(async () => {
          const { AkiDB } = await import('/pkg/index.js');
          const db = await AkiDB.open({ store: 'indexeddb', name: 'multitab', logLevel: 'error' });
          const c = await db.collection('c');
          const m = await c.manifest();
          const hits = await c.search([1, 1, 1, 1, 1, 1, 1, 1], { k: 1000 });
          const out = { version: m.version, segments: m.segments.length, count: await c.count(), ids: hits.map((h) => h.id) };
          await db.close();
          return out;
        });
        assert.equal(seen.count, TABS * COMMITS, `tab ${tab} count`);
        assert.equal(seen.version, initial + TABS * COMMITS, `tab ${tab} manifest version`);
        assert.equal(seen.segments, TABS * COMMITS);
        assert.deepEqual(seen.ids.sort(), [...expectedIds].sort(), `tab ${tab} sees every record`);
      }
    }, { browser }),
  );
}
