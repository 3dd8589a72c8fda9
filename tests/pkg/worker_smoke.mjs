// Node side of the worker-entry smoke test, shared by every browser that runs it: the page to
// write into the scratch project (next to the installed package and smoke.mjs) and the result
// it must produce (the page side is worker_smoke_page.mjs).
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { EXPECTED } from './smoke.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Writes `worker.html` (+ the page module) into `proj`; load `/worker.html` and wait for `window.__result`. */
export function writeWorkerSmokePage(proj) {
  copyFileSync(path.join(here, 'worker_smoke_page.mjs'), path.join(proj, 'worker_smoke_page.mjs'));
  writeFileSync(
    path.join(proj, 'worker.html'),
    `<!doctype html><meta charset="utf-8"><title>worker smoke</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": {
  "akidb": "/node_modules/akidb/index.js",
  "akidb/worker": "/node_modules/akidb/worker.js"
} }</script>
<script type="module">
  import { runWorkerSmoke } from './worker_smoke_page.mjs';
  runWorkerSmoke().then(
    (r) => (window.__result = r),
    (e) => (window.__result = { failed: String((e && e.stack) || e) }),
  );
</script>\n`,
  );
}

/** What `runWorkerSmoke()` must resolve to. */
export const EXPECTED_WORKER = {
  memory: EXPECTED,
  indexeddb: EXPECTED,
  extras: {
    version: 2,
    segments: 2,
    progress: [
      [2500, 5000],
      [5000, 5000],
    ],
    callerVectorsIntact: true,
    count: 5000,
    mainThreadHeard: true,
    mainThreadCount: 5000,
    leanMatchesBruteForce: true,
    leanScoresAreFloat32: true,
    leanMatchesRich: true,
    richMetadata: { i: 7 },
    error: { isError: true, name: 'AkiDBError', code: 'INVALID_ARGUMENT' },
    persist: 'boolean',
    estimate: ['persisted', 'quota', 'usage'],
  },
  closed: 'akidb worker: closed (close() was called)',
};
