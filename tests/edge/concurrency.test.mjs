// Many writers, one collection, a real S3 server: 8 Node processes x 25 single-record upserts,
// first directly, then each writer through its own fault-injecting proxy (500s before and after
// forwarding, connections cut after forwarding, 503 after a manifest PUT landed, blackouts of the
// manifest that outlast a writer's retry budget, latency). Meanwhile the test process runs GC
// passes on the same collection. Afterwards:
//  - every acknowledged upsert names its own segment and a DISTINCT manifest version;
//  - 0 lost: every acknowledged id is found by a search over the whole collection;
//  - 0 duplicated: every segment is listed once, and versions are dense
//    (version = 1 + upsert commits + GC commits);
//  - every OUTCOME_UNKNOWN carries an operationId and is settled by a later operationStatus
//    call to 'committed' (its record is present, at a version no acknowledgement names) or
//    'not_committed' (its record is absent); every other error committed nothing;
//  - GC never deleted a listed segment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { AkiDB } from '../../pkg/node.mjs';
import { s3Env, s3Options, freshPrefix } from './lib/env.mjs';
import { runNode, ROOT } from './lib/procs.mjs';
import { startFaultProxy } from './lib/fault_proxy.mjs';

const WRITERS = 8;
const COMMITS = 25;
const CODES = new Set(['CONFLICT', 'STORAGE', 'OUTCOME_UNKNOWN']);
const GC_EVERY_MS = 400;

async function race(prefix, { endpoints = [], retry } = {}) {
  const setup = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error' });
  await setup.createCollection('shared', { dimension: 8, distance: 'cosine' });
  const script = join(ROOT, 'tests/edge/lib/writer.mjs');
  let running = true;
  const writers = Promise.all(
    Array.from({ length: WRITERS }, (_, w) =>
      runNode(script, [prefix, 'shared', String(w), String(COMMITS), endpoints[w] ?? '', retry ? JSON.stringify(retry) : '']),
    ),
  ).finally(() => (running = false));
  // GC passes straight against S3 while the writers race (each raises the fence with a commit).
  const gc = { passes: 0, deleted: [], keptRecent: 0, errors: [] };
  const collector = (async () => {
    while (running) {
      await sleep(GC_EVERY_MS);
      if (!running) break;
      try {
        const r = await setup.collectGarbage('shared');
        gc.passes++;
        gc.deleted.push(...r.deleted);
        gc.keptRecent = r.keptRecent;
      } catch (e) {
        gc.errors.push({ code: e.code, message: e.message, operationId: e.operationId });
      }
    }
  })();
  const runs = await writers;
  await collector;
  const results = runs.map((r, w) => {
    assert.equal(r.code, 0, `writer ${w} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  });
  // One more commit moves the manifest past every writer's last attempt, so an operation left
  // undecided at a writer's end can be decided now.
  const last = await setup.collectGarbage('shared');
  gc.passes++;
  gc.deleted.push(...last.deleted);
  const docs = await setup.collection('shared');
  const settledLate = [];
  for (const u of results.flatMap((r) => r.unsettled)) settledLate.push({ ...u, ...(await docs.operationStatus(u.operationId)) });
  const manifest = await docs.manifest();
  const hits = await docs.search(Array.from({ length: 8 }, (_, i) => i + 1), { k: 10000 });
  const count = await docs.count();
  return { results, manifest, live: hits.map((h) => h.id), count, gc, settledLate, db: setup };
}

function check({ results, manifest, live, count, gc, settledLate }) {
  const acked = results.flatMap((r) => r.acked);
  const failed = results.flatMap((r) => r.failed);
  const settled = [...results.flatMap((r) => r.settled), ...settledLate];
  const listed = manifest.segments.map((s) => s.id);
  const listedSet = new Set(listed);
  const liveSet = new Set(live);
  assert.equal(acked.length + failed.length, WRITERS * COMMITS, 'every call returned');
  for (const f of failed) {
    assert.ok(CODES.has(f.code), `clear error code, got ${JSON.stringify(f)}`);
    assert.ok(f.message.length > 0);
  }

  // Acknowledgements: own segment, own version.
  assert.equal(listedSet.size, listed.length, 'no segment listed twice');
  assert.deepEqual(acked.filter((a) => !listedSet.has(a.segmentId)), [], 'no acknowledged segment lost');
  assert.equal(new Set(acked.map((a) => a.segmentId)).size, acked.length, 'every acknowledgement names its own segment');
  const byVersion = new Map();
  for (const a of acked) byVersion.set(a.version, [...(byVersion.get(a.version) ?? []), a.id]);
  const shared = [...byVersion].filter(([, ids]) => ids.length > 1);
  assert.deepEqual(shared, [], 'every acknowledgement names a distinct manifest version');
  assert.ok(acked.every((a) => a.version >= 2 && a.version <= manifest.version), 'receipt versions are real versions');

  // OUTCOME_UNKNOWN: carries an operationId, settled later, and the answer matches the data.
  const unknown = failed.filter((f) => f.code === 'OUTCOME_UNKNOWN');
  for (const u of unknown) assert.ok(typeof u.operationId === 'string' && u.operationId.length > 0, `operationId on ${JSON.stringify(u)}`);
  assert.ok(failed.filter((f) => f.code !== 'OUTCOME_UNKNOWN').every((f) => f.operationId === null), 'only OUTCOME_UNKNOWN carries an operationId');
  const settledById = new Map(settled.map((s) => [s.id, s]));
  assert.equal(settledById.size, settled.length);
  assert.deepEqual(
    unknown.filter((u) => !['committed', 'not_committed'].includes(settledById.get(u.id)?.status)).map((u) => [u.id, settledById.get(u.id)]),
    [],
    'every OUTCOME_UNKNOWN is settled by a later operationStatus',
  );
  const committed = settled.filter((s) => s.status === 'committed');
  const notCommitted = settled.filter((s) => s.status === 'not_committed');
  assert.deepEqual(committed.filter((s) => !liveSet.has(s.id)).map((s) => s.id), [], "a 'committed' operation's record is present");
  assert.deepEqual(notCommitted.filter((s) => liveSet.has(s.id)).map((s) => s.id), [], "a 'not_committed' operation's record is absent");
  for (const s of committed) {
    assert.ok(!byVersion.has(s.version), `the version of committed ${s.id} (${s.version}) is no acknowledgement's`);
    byVersion.set(s.version, [s.id]);
  }
  assert.equal(new Set(committed.map((s) => s.version)).size, committed.length, 'settled commits have distinct versions');
  const otherFailed = failed.filter((f) => f.code !== 'OUTCOME_UNKNOWN');
  assert.deepEqual(otherFailed.filter((f) => liveSet.has(f.id)).map((f) => [f.id, f.code]), [], 'every other error committed nothing');

  // 0 lost, 0 duplicated, dense versions.
  const expected = [...acked.map((a) => a.id), ...committed.map((s) => s.id)].sort();
  assert.deepEqual(live.filter((id) => !expected.includes(id)), [], 'nothing unacknowledged is visible');
  assert.deepEqual(expected.filter((id) => !liveSet.has(id)), [], 'no acknowledged record lost');
  assert.equal(live.length, liveSet.size, 'no record returned twice');
  assert.equal(count, expected.length, 'count() agrees');
  assert.equal(listed.length, acked.length + committed.length, 'one listed segment per committed upsert');
  const gcCommits = manifest.gc_gen - 1;
  assert.equal(gcCommits, gc.passes, 'one commit per successful GC pass');
  assert.equal(manifest.version, 1 + listed.length + gcCommits, 'versions are dense: 1 + upsert commits + GC commits');

  // GC never deleted a listed segment.
  const deletedIds = gc.deleted.map((k) => /([0-9a-f-]{36})\.seg$/.exec(k)?.[1]);
  assert.deepEqual(deletedIds.filter((id) => !id || listedSet.has(id)), [], 'GC deleted only unlisted segment objects');
  for (const e of gc.errors) assert.ok(CODES.has(e.code), `GC error ${JSON.stringify(e)}`);

  const retries = results.reduce((n, r) => n + r.metrics.manifestConflictRetriesTotal, 0);
  const codes = {};
  for (const f of failed) codes[f.code] = (codes[f.code] ?? 0) + 1;
  return {
    acked: acked.length,
    failed: failed.length,
    codes,
    outcomeUnknown: unknown.length,
    settledCommitted: committed.length,
    settledNotCommitted: notCommitted.length,
    settledByWriters: settled.length - settledLate.length,
    settledByParent: settledLate.length,
    statusQueries: results.reduce((n, r) => n + r.queries.asked, 0),
    statusAnswersUnknown: results.reduce((n, r) => n + r.queries.unknown, 0),
    statusQueryErrors: results.reduce((n, r) => n + r.queries.errors.length, 0),
    listed: listed.length,
    version: manifest.version,
    retries,
    gcPasses: gc.passes,
    gcFailed: gc.errors.length,
    gcDeleted: gc.deleted.length,
  };
}

test('8 processes x 25 upserts on one collection, GC passes meanwhile: 200 segments, none lost or duplicated', async () => {
  const run = await race(freshPrefix('concurrency'));
  const s = check(run);
  console.log(`direct: ${JSON.stringify(s)}`);
  assert.equal(s.failed, 0, `no call fails without faults: ${JSON.stringify(run.results.flatMap((r) => r.failed))}`);
  assert.equal(s.listed, WRITERS * COMMITS);
  assert.ok(s.retries > 0, 'writers really contended (conflict retries in the metrics)');
  assert.ok(s.gcPasses >= 2, `GC ran during the race (${s.gcPasses} passes)`);
});

test('the same race through fault-injecting proxies: every outcome decided, none lost or duplicated', async () => {
  const proxies = await Promise.all(
    Array.from({ length: WRITERS }, (_, w) =>
      startFaultProxy({
        target: s3Env().endpoint,
        seed: 20261125 + w,
        error500: 0.03,
        error500After: 0.03,
        cutAfter: 0.03,
        manifest503After: 0.06,
        // After an ambiguous manifest PUT, sometimes refuse the manifest for longer than the
        // writer's retry budget: it cannot learn the outcome and reports OUTCOME_UNKNOWN.
        blackout: { chance: 0.3, ms: 3000, max: 1 },
        maxLatencyMs: 15,
      }),
    ),
  );
  try {
    const run = await race(freshPrefix('faults'), {
      endpoints: proxies.map((p) => p.url),
      retry: { maxRetries: 200, initialBackoffMs: 5, maxBackoffMs: 400, maxElapsedMs: 2000 },
    });
    const s = check(run);
    const injected = {};
    const requests = {};
    for (const p of proxies) {
      for (const [k, n] of Object.entries(p.faults)) injected[k] = (injected[k] ?? 0) + n;
      for (const [k, n] of Object.entries(p.counts)) requests[k] = (requests[k] ?? 0) + n;
    }
    console.log(`faults: ${JSON.stringify({ ...s, injected, requests })}`);
    assert.ok(
      injected.error500After > 0 && injected.cutAfter > 0 && injected.manifest503After > 0,
      `ambiguous faults were injected: ${JSON.stringify(injected)}`,
    );
    assert.ok(injected.error500 + injected.error500After + injected.cutAfter + injected.manifest503After >= 20, `enough faults: ${JSON.stringify(injected)}`);
    assert.ok(injected.blackouts > 0 && s.outcomeUnknown > 0, `some outcomes were really unknown: ${JSON.stringify({ injected, s })}`);
    assert.ok(s.acked >= WRITERS * COMMITS * 0.8, `most calls succeed despite faults (${s.acked})`);
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
  }
});
