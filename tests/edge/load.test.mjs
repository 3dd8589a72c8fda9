// Load on the edge: 3 workerd processes on different ports share one bucket and collection;
// 2,000 requests (upserts and searches) at concurrency 50 spread over them. Afterwards every
// acknowledged record must be found by a search (its own vector, k = 1) on any instance.
// Half the requests are upserts of 1-3 records, half are searches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { s3Env, freshPrefix } from './lib/env.mjs';
import { startWorkerd } from './lib/procs.mjs';
import { client, pool } from './lib/rest.mjs';

const KEY = 'load-key';
const DIM = 16;
const REQUESTS = 2000;
const CONCURRENCY = 50;
let servers = [];

before(async () => {
  const prefix = freshPrefix('load');
  for (let i = 0; i < 3; i++) {
    servers.push(
      await startWorkerd({
        s3: s3Env(),
        prefix,
        apiKeys: KEY,
        // 50 requests in flight commit to one manifest: give the CAS loop room, bounded by time.
        env: { AKIDB_RETRY_MAX_RETRIES: '100', AKIDB_RETRY_MAX_ELAPSED_MS: '120000', AKIDB_RETRY_MAX_BACKOFF_MS: '1000' },
        logFile: join(process.env.LOG_DIR ?? '/tmp', `workerd-load-${i}.log`),
      }),
    );
  }
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

function randomVector() {
  return Array.from({ length: DIM }, () => Math.random() * 2 - 1);
}

test('3 workerd instances, 2,000 requests at concurrency 50: every acknowledged record is searchable', async () => {
  const calls = servers.map((s) => client(s.url, KEY));
  const created = await calls[0]('POST', '/collections', { name: 'load', dimension: DIM, distance: 'cosine' });
  assert.equal(created.status, 201);

  const acked = new Map();
  const outcomes = {};
  const tasks = Array.from({ length: REQUESTS }, (_, i) => async () => {
    const call = calls[i % calls.length];
    let r;
    if (i % 2 === 1) {
      r = await call('POST', '/collections/load/search', { vector: randomVector(), k: 5 });
    } else {
      const batch = Array.from({ length: 1 + (i % 3) }, (_, j) => ({ id: `r${i}-${j}`, vector: randomVector(), metadata: { i } }));
      r = await call('POST', '/collections/load/vectors', { vectors: batch });
      if (r.status === 200) for (const rec of batch) acked.set(rec.id, rec.vector);
    }
    const key = `${i % 2 === 1 ? 'search' : 'upsert'} ${r.status}${r.status === 200 ? '' : ' ' + r.body?.error?.code}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (r.status !== 200) assert.ok(r.body?.error?.code, `errors are JSON with a code: ${JSON.stringify(r.body)}`);
  });
  const t0 = Date.now();
  await pool(tasks, CONCURRENCY);
  const seconds = (Date.now() - t0) / 1000;
  console.log(`load: ${REQUESTS} requests in ${seconds.toFixed(1)} s; outcomes ${JSON.stringify(outcomes)}; ${acked.size} records acknowledged`);
  const upserts = Object.entries(outcomes).filter(([k]) => k.startsWith('upsert')).reduce((n, [, v]) => n + v, 0);
  assert.ok((outcomes['upsert 200'] ?? 0) >= upserts * 0.99, `at least 99% of upserts succeed: ${JSON.stringify(outcomes)}`);
  assert.equal(outcomes['search 200'], REQUESTS / 2, 'every search succeeds');

  // Every acknowledged record, searched by its own vector on a round-robin instance.
  const missing = [];
  const ids = [...acked.keys()];
  await pool(
    ids.map((id, n) => async () => {
      const r = await calls[n % calls.length]('POST', '/collections/load/search', { vector: acked.get(id), k: 1 });
      assert.equal(r.status, 200);
      if (r.body.results[0]?.id !== id) missing.push(id);
    }),
    CONCURRENCY,
  );
  assert.deepEqual(missing, [], `${missing.length} of ${ids.length} acknowledged records not found`);
  const info = await calls[1]('GET', '/collections/load');
  assert.equal(info.body.totalVectors, acked.size + 0, 'no unacknowledged records listed');
  console.log(`load: all ${ids.length} acknowledged records found; manifest version ${info.body.version}, ${info.body.segments} segments`);
});
