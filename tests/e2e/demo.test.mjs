// The demo page end to end, as `scripts/demo.sh` serves it: ingest the dataset slice with the
// progress bar, find similar packages, filter by section, seal a segment, run the two-tab write
// demo, take a screenshot of the page (tmp/e2e/demo.png) whose content is asserted through the DOM
// it was rendered from, then reload: everything persisted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { startDemo } from '../../www/app/serve.mjs';
import { DEFAULT_OUT, REPO } from '../../www/app/make-dataset.mjs';
import { echoErrors, freshProfile, launch, removeProfile } from '../support/chromium.mjs';

const text = (page, sel) => page.locator(sel).innerText();

test('demo page: ingest, search, seal, two tabs, persistence, screenshot', { timeout: 300_000 }, async (t) => {
  const demo = await startDemo();
  const meta = JSON.parse(readFileSync(path.join(DEFAULT_OUT, 'meta.json'), 'utf8'));
  const profile = freshProfile('akidb-demo');
  const ctx = await launch(profile, { viewport: { width: 1280, height: 1000 } });
  try {
    const page = await ctx.newPage();
    echoErrors(page, 'demo');
    await page.goto(demo.url);
    await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
    assert.match(await text(page, '#status'), /akidb:demo.*0 records persisted/);
    assert.equal(await text(page, '#manifest-version'), 'v1');

    // Ingest: one upsert, segments of 1,000 records, one manifest commit.
    await page.click('#load-btn');
    await page.waitForFunction(() => document.querySelector('#record-count').textContent === '5,000 records', null, {
      timeout: 120_000,
    });
    assert.equal(await page.locator('#progress').evaluate((p) => p.value), 1);
    const ingest = await text(page, '#progress-text');
    t.diagnostic(ingest);
    assert.match(ingest, /^5,000 records in .* s \(.* vectors\/s\): 5 segments, one manifest commit → v2\.$/);
    // The ingest ran in a Web Worker (akidb/worker); the page counted its own long tasks.
    assert.match(await text(page, '#longtasks'), /^Ingested in a Web Worker: \d+ long tasks on this page/);
    assert.equal(await text(page, '#manifest-version'), 'v2');
    assert.deepEqual(await page.locator('#segments .state').allInnerTexts(), Array(5).fill('Active'));
    assert.match(await text(page, '#timeline'), /v2: \+5 segments \(5,000 records\)/);

    // "similar" on a row: the row itself comes first with cosine 1.
    await page.locator('button.similar').nth(3).click();
    await page.waitForSelector('#results li');
    assert.equal(await text(page, '#results li:first-child b'), meta[3].id);
    assert.equal(await text(page, '#results li:first-child .score'), '1.000');
    assert.equal(await page.locator('#results li').count(), 10);
    assert.match(await text(page, '#latency'), /^[\d.]+ ms · exact over 5,000 vectors$/);

    // Search by meaning with a held-out query, restricted to one section (a metadata filter).
    const section = meta[3].section;
    await page.selectOption('#section-select', section);
    await page.selectOption('#query-select', '0');
    await page.click('#search-btn');
    await page.waitForFunction(() => document.querySelector('#results-label').textContent.startsWith('query:'));
    const sections = await page.locator('#results .sec').allInnerTexts();
    assert.ok(sections.length > 0 && sections.every((s) => s === section), `${section}: ${sections}`);
    const scores = (await page.locator('#results .score').allInnerTexts()).map(Number);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
    await page.selectOption('#section-select', '');

    // The latency histogram fills up.
    await page.click('#bench-btn');
    await page.waitForFunction(() => /^20[0-9] searches/.test(document.querySelector('#hist-stats').textContent), null, {
      timeout: 120_000,
    });
    assert.ok((await page.locator('#histogram rect.bar').count()) === 30);

    // Seal the oldest segment (the last row: rows are newest first).
    await page.locator('#segments button.seal').last().click();
    await page.waitForFunction(() => document.querySelector('#manifest-version').textContent === 'v3');
    assert.deepEqual(await page.locator('#segments .state').allInnerTexts(), [...Array(4).fill('Active'), 'Sealed']);
    assert.match(await text(page, '#timeline'), /v3: sealed [0-9a-f]{8}/);

    // Two tabs write 100 one-record upserts each at the same time: nothing lost.
    await page.click('#two-tab-btn');
    await page.waitForFunction(() => /Nothing lost|missing/.test(document.querySelector('#two-tab-status').textContent), null, {
      timeout: 240_000,
    });
    const twoTabs = await text(page, '#two-tab-status');
    t.diagnostic(twoTabs);
    assert.match(twoTabs, /^✔ Nothing lost: 200 of 200 records found; manifest version \+200\./);
    await page.waitForFunction(() => document.querySelector('#manifest-version').textContent === 'v203');
    assert.equal(await text(page, '#record-count'), '5,200 records');
    const second = ctx.pages().find((p) => p.url().includes('?second='));
    assert.match(await second.locator('#second-status').innerText(), /^done: 100 commits/);
    await second.close();

    // Screenshot of the whole session; what it shows was asserted above (and is checked here).
    const shot = path.join(REPO, 'tmp/e2e/demo.png');
    mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 50_000, 'the screenshot has content');
    for (const sel of ['#results li', '#histogram svg', '#two-tab-status .ok', '#segments tr', '#timeline li', '#table tbody tr']) {
      assert.ok(await page.locator(sel).first().isVisible(), `${sel} is visible in the screenshot`);
    }
    t.diagnostic(`screenshot: ${shot}`);

    // Reload: everything was persisted in IndexedDB.
    await page.reload();
    await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
    assert.match(await text(page, '#status'), /5,200 records persisted/);
    assert.equal(await text(page, '#manifest-version'), 'v203');
    await page.locator('button.similar').first().click();
    await page.waitForSelector('#results li');
    assert.equal(await text(page, '#results li:first-child b'), meta[0].id);
  } finally {
    await ctx.close();
    await demo.close();
    removeProfile(profile);
  }
});
