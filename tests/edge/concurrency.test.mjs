// Many writers, one collection, a real S3 server: 8 Node processes x 25 upsert commits, first
// directly, then through a fault-injecting proxy (500s before and after forwarding, connections
// cut after forwarding, latency). Every acknowledged segment must be in the final manifest
// exactly once; nothing unacknowledged may appear beyond the calls that reported an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { AkiDB } from '../../pkg/node.mjs';
import { s3Env, s3Options, freshPrefix } from './lib/env.mjs';
import { runNode, ROOT } from './lib/procs.mjs';
import { startFaultProxy } from './lib/fault_proxy.mjs';

const WRITERS = 8;
const COMMITS = 25;
const CODES = new Set(['CONFLICT', 'STORAGE', 'NOT_FOUND', 'AUTH', 'CORRUPT', 'INVALID_ARGUMENT', 'ALREADY_EXISTS']);

async function race(prefix, endpoint) {
  const setup = await AkiDB.open(s3Options(prefix));
  await setup.createCollection('shared', { dimension: 8, distance: 'cosine' });
  const script = join(ROOT, 'tests/edge/lib/writer.mjs');
  const runs = await Promise.all(
    Array.from({ length: WRITERS }, (_, w) => runNode(script, [prefix, 'shared', String(w), String(COMMITS), endpoint ?? ''])),
  );
  const results = runs.map((r, w) => {
    assert.equal(r.code, 0, `writer ${w} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  });
  const manifest = await (await setup.collection('shared')).manifest();
  return { results, manifest, db: setup };
}

function check({ results, manifest }) {
  const acked = results.flatMap((r) => r.acked);
  const failed = results.flatMap((r) => r.failed);
  const listed = manifest.segments.map((s) => s.id);
  const unique = new Set(listed);
  assert.equal(unique.size, listed.length, 'no segment listed twice');
  const lost = acked.filter((id) => !unique.has(id));
  assert.deepEqual(lost, [], 'no acknowledged segment lost');
  assert.equal(new Set(acked).size, acked.length, 'every acknowledgement names its own segment');
  assert.ok(listed.length - acked.length <= failed.length, 'only calls that reported an error may have landed unacknowledged');
  assert.equal(manifest.version, 1 + listed.length, 'one commit per listed segment: versions stay dense');
  assert.equal(acked.length + failed.length, WRITERS * COMMITS, 'every call returned');
  for (const f of failed) {
    assert.ok(CODES.has(f.code), `clear error code, got ${JSON.stringify(f)}`);
    assert.ok(f.message.length > 0);
  }
  const retries = results.reduce((n, r) => n + r.metrics.manifestConflictRetriesTotal, 0);
  return { acked: acked.length, failed: failed.length, listed: listed.length, retries };
}

test('8 processes x 25 upserts on one collection: 200 segments, none lost or duplicated', async () => {
  const run = await race(freshPrefix('concurrency'));
  const s = check(run);
  console.log(`direct: ${JSON.stringify(s)}`);
  assert.equal(s.failed, 0, `no call fails without faults: ${JSON.stringify(run.results.flatMap((r) => r.failed))}`);
  assert.equal(s.listed, WRITERS * COMMITS);
  assert.ok(s.retries > 0, 'writers really contended (conflict retries in the metrics)');
  const docs = await run.db.collection('shared');
  assert.equal(await docs.count(), WRITERS * COMMITS, 'every record is searchable');
});

test('the same race through a fault-injecting proxy: still none lost or duplicated', async () => {
  const proxy = await startFaultProxy({
    target: s3Env().endpoint,
    seed: 20261125,
    error500: 0.03,
    error500After: 0.03,
    cutAfter: 0.03,
    maxLatencyMs: 15,
  });
  try {
    const run = await race(freshPrefix('faults'), proxy.url);
    const s = check(run);
    console.log(`faults: ${JSON.stringify({ ...s, injected: proxy.faults, requests: proxy.counts })}`);
    const injected = proxy.faults.error500 + proxy.faults.error500After + proxy.faults.cutAfter;
    assert.ok(proxy.faults.error500After > 0 && proxy.faults.cutAfter > 0, `ambiguous faults were injected: ${JSON.stringify(proxy.faults)}`);
    assert.ok(injected >= 20, `enough faults: ${injected}`);
    assert.ok(s.acked >= WRITERS * COMMITS * 0.9, `most calls succeed despite faults (${s.acked})`);
  } finally {
    await proxy.close();
  }
});
