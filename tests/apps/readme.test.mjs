// The README's "Using it" snippet, as written, in a page (IndexedDB; the package installed from
// its tarball, mapped by an import map), loaded twice in one Chromium profile: the second load
// must find the collection and work too (get-or-create). The snippet is read from README.md
// itself, from its first line to the `mode: 'ann'` search (the lines after it use variables a
// reader supplies, such as `err`); the page defines `query` and reports what the snippet made.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startServer } from '../../www/server.mjs';
import { installPackage, loadTwice, root } from './lib.mjs';

let proj;

/** The README's first js block, up to and including its `mode: 'ann'` line. */
function readmeSnippet() {
  const md = readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = md.slice(md.indexOf('## Using it')).match(/```js\n([\s\S]*?)```/)[1].split('\n');
  const end = block.findIndex((l) => l.includes("mode: 'ann'"));
  assert.ok(end > 0, "README's snippet has its mode: 'ann' line");
  return block.slice(0, end + 1).join('\n');
}

before(async () => {
  proj = mkdtempSync(path.join(os.tmpdir(), 'akidb-readme-'));
  await installPackage(proj);
});

after(() => rmSync(proj, { recursive: true, force: true }));

test("the README's snippet runs as written, twice (second page load on the same IndexedDB)", { timeout: 180_000 }, async () => {
  const snippet = readmeSnippet();
  assert.match(snippet, /store: 'indexeddb'/);
  const [imports, ...rest] = snippet.split('\n');
  writeFileSync(
    path.join(proj, 'index.html'),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "akidb": "/node_modules/akidb/index.js" } }</script>
<script>
  window.addEventListener('error', (e) => (window.__result = { failed: String(e.error?.stack ?? e.message), code: e.error?.code }));
  window.addEventListener('unhandledrejection', (e) => (window.__result = { failed: String(e.reason?.stack ?? e.reason), code: e.reason?.code }));
</script>
<script type="module">
${imports}
const query = new Float32Array(384).fill(0.05);
${rest.join('\n')}
window.__result = { hits: hits.map((h) => [h.id, h.metadata]), count: await docs.count(), got: [a.id, a.vector.length, a.metadata, none] };
</script>\n`,
  );
  const server = await startServer({ mounts: { '/': proj } });
  try {
    const results = await loadTwice(server.url, 'readme');
    for (const [i, r] of results.entries()) {
      assert.equal(r.failed, undefined, `load ${i + 1}: ${r.code} ${r.failed}`);
      assert.deepEqual(r, { hits: [['a', { section: 'net' }]], count: 1, got: ['a', 384, { section: 'net' }, null] }, `load ${i + 1}`);
    }
  } finally {
    await server.close();
  }
});
