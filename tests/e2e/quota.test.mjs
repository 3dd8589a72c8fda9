// A full disk: with the origin's quota set to 4 MiB (Chromium: the Chrome DevTools Protocol;
// Firefox: the pref dom.quotaManager.temporaryStorage.fixedLimit), an upsert that does not fit
// fails with code STORAGE naming QuotaExceededError, and nothing of it is visible or left behind:
// not in the manifest, not as a segment record.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BROWSERS, blankPage, withBrowser } from './lib.mjs';

const QUOTA = 4 * 1024 * 1024;

/** Launches `browser` with a 4 MiB quota for the test origin; resolves to its blank page. */
async function pageWithSmallQuota(browser, { server, launchBrowser }) {
  if (browser === 'firefox') {
    // The limit of all best-effort storage, in KiB (the origin's group gets all of it here).
    const ctx = await launchBrowser({ prefs: { 'dom.quotaManager.temporaryStorage.fixedLimit': QUOTA / 1024 } });
    const page = await blankPage(ctx, server, 'quota');
    const { quota } = await page.evaluate(() => navigator.storage.estimate());
    assert.equal(quota, QUOTA, 'the quota pref took effect');
    return page;
  }
  const ctx = await launchBrowser();
  const page = await blankPage(ctx, server, 'quota');
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(server.url).origin, quotaSize: QUOTA });
  return page;
}

for (const browser of BROWSERS) {
  test(`${browser}: QuotaExceededError → STORAGE, nothing half-written`, { timeout: 120_000 }, () =>
    withBrowser(async (env) => {
      const page = await pageWithSmallQuota(browser, env);
      const out = await page.evaluate(async () => {
        const { AkiDB } = await import('/pkg/index.js');
        const db = await AkiDB.open({ store: 'indexeddb', name: 'quota', logLevel: 'error' });
        await db.createCollection('c', { dimension: 256, distance: 'l2' });
        const c = await db.collection('c');
        // Random values: IndexedDB compresses values, so data must be incompressible to fill a quota.
        const rec = (p, i) => ({ id: `${p}${i}`, vector: Array.from({ length: 256 }, () => Math.random()) });
        await c.upsert(Array.from({ length: 100 }, (_, i) => rec('small', i)));
        const before = await c.manifest();
        let error = null;
        try {
          // 8,000 × 256 × 4 bytes ≈ 8 MB in 4 segment objects: the quota runs out part-way.
          await c.upsert(Array.from({ length: 8000 }, (_, i) => rec('big', i)), { segmentSize: 2000 });
        } catch (e) {
          error = { code: e.code, message: e.message, isError: e instanceof Error };
        }
        const after = await c.manifest();
        const count = await c.count();
        await db.close();
        // The raw records: only the manifest and the first upsert's segment.
        const raw = await new Promise((ok, fail) => {
          const req = indexedDB.open('akidb:quota');
          req.onerror = () => fail(req.error);
          req.onsuccess = () => {
            const keys = req.result.transaction('kv').objectStore('kv').getAllKeys();
            keys.onsuccess = () => {
              req.result.close();
              ok(keys.result);
            };
          };
        });
        return { error, before, after, count, raw };
      });
      assert.ok(out.error, 'the oversized upsert failed');
      assert.equal(out.error.isError, true);
      assert.equal(out.error.code, 'STORAGE', out.error.message);
      assert.match(out.error.message, /QuotaExceededError/);
      assert.match(out.error.message, /nothing was written/);
      assert.deepEqual(out.after, out.before, 'the manifest did not change');
      assert.equal(out.count, 100);
      // The segment that hit the quota was rolled back; those written before it were removed.
      const segs = out.raw.filter((k) => k.includes('/segments/'));
      const first = out.before.segments[0];
      assert.deepEqual(segs, [`collections/c/${out.before.incarnation}/segments/${first.gen}-${first.id}.seg`]);
    }, { browser }),
  );
}
