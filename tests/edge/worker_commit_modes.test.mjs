// Upserts through the REST worker on workerd in its two commit modes, 20 at once as the first
// requests to a fresh isolate:
//  - group commit (default): requests that open the collection handle concurrently share one
//    handle, so the burst is coalesced into a few commits with no conflicts (each request
//    committing through its own handle was 20 contending commits);
//  - AKIDB_GROUP_COMMIT=0: one commit per request, each independent, and no request is
//    cancelled by workerd as "hung" (with the pkg of eb612b5, requests waited for a wake-up from
//    another request's commit and were).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { s3Env, freshPrefix } from './lib/env.mjs';
import { startWorkerd } from './lib/procs.mjs';
import { client } from './lib/rest.mjs';
import { metric } from './lib/seed_load.mjs';

const KEY = 'modes-key';
const BURST = 20;

async function burst(env, tag) {
  const server = await startWorkerd({
    s3: s3Env(),
    prefix: freshPrefix(tag),
    apiKeys: KEY,
    env,
    logFile: join(process.env.LOG_DIR ?? '/tmp', `workerd-${tag}.log`),
  });
  try {
    const call = client(server.url, KEY);
    assert.equal((await call('POST', '/collections', { name: 'm', dimension: 4 })).status, 201);
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        call('POST', '/collections/m/vectors', { vectors: [{ id: `r${i}`, vector: [i + 1, 1, 0, 0] }] }, { timeoutMs: 60000 }),
      ),
    );
    const metrics = (await call('GET', '/metrics')).body;
    const info = (await call('GET', '/collections/m')).body;
    return {
      statuses: answers.map((a) => a.status),
      bodies: answers.filter((a) => a.status !== 200).map((a) => a.body),
      metrics,
      commits: metric(metrics, 'akidb_manifest_commits_total'),
      retries: metric(metrics, 'akidb_manifest_conflict_retries_total'),
      info,
    };
  } finally {
    await server.stop();
  }
}

test('group commit on: a burst of 20 first upserts shares one handle: a few commits, no conflicts', async () => {
  const r = await burst({}, 'modes-on');
  assert.deepEqual(r.statuses, Array(BURST).fill(200), JSON.stringify(r.bodies));
  assert.equal(r.info.totalVectors, BURST);
  assert.equal(r.info.version, 1 + r.info.segments);
  assert.ok(r.info.segments <= 5, `${r.info.segments} commits for ${BURST} concurrent upserts`);
  assert.equal(r.retries, 0, 'one commit in flight per isolate: nothing to conflict with');
});

test('AKIDB_GROUP_COMMIT=0: a burst of 20 upserts commits one by one, none cancelled as hung', async () => {
  // AKIDB_AUTO_COMPACT=0 too: the test counts one segment per commit (and shows the switch works:
  // with automatic compaction, 20 segments would be compacted).
  const r = await burst(
    { AKIDB_GROUP_COMMIT: '0', AKIDB_AUTO_COMPACT: '0', AKIDB_RETRY_MAX_RETRIES: '100', AKIDB_RETRY_MAX_ELAPSED_MS: '60000' },
    'modes-off',
  );
  assert.deepEqual(r.statuses, Array(BURST).fill(200), JSON.stringify(r.bodies));
  assert.equal(r.info.totalVectors, BURST);
  assert.equal(r.info.segments, BURST, 'one commit per request');
  assert.equal(r.info.version, 1 + BURST);
  assert.doesNotMatch(r.metrics, /akidb_compactions_total\{trigger="auto"/, 'AUTO_COMPACT=0: no automatic compaction');
});
