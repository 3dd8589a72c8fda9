// Compaction racing writers on a real S3 server (issue 11): 8 Node processes run mixed operations
// (upserts of new ids, overwrites, deletes of live ids, deletes of ids that never existed), each
// through its own fault-injecting proxy (500s before and after forwarding, cut connections, 503
// after a manifest PUT landed, manifest blackouts longer than the retry budget, so some outcomes
// really are unknown). Meanwhile the test process runs three compactors — A straight on S3
// (policy merges, every third call followed by a GC pass), B straight on S3 (full merges, which
// also retire tombstones that hide nothing), C through a fault proxy of its own (policy merges
// with a small input budget, its OUTCOME_UNKNOWNs settled by db.operationStatus) — plus GC passes
// and a reader that opens fresh handles and searches while their segments are retired and
// collected.
// Afterwards, against each writer's model of its ids:
//  - 0 lost: every id whose newest committed operation is an upsert is found by a search with
//    its exact vector, k = 1, L2 score 0, with the metadata of that newest upsert;
//  - no deleted record reappears: a full listing holds exactly the live ids, and no vector an id
//    had before its newest one is found with score 0;
//  - versions dense: version = 1 + writer commits + compaction commits (receipts' `commits`:
//    merges plus B's tombstone-retiring commits) + GC passes (gc_gen - 1), and every receipt
//    names a distinct version;
//  - every OUTCOME_UNKNOWN (writers' and compactor C's) is settled by a later operationStatus;
//  - the segment count ends bounded, the reader never failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

import { AkiDB } from '../../pkg/node.mjs';
import { s3Env, s3Options, freshPrefix } from './lib/env.mjs';
import { runNode, ROOT } from './lib/procs.mjs';
import { startFaultProxy } from './lib/fault_proxy.mjs';

const WRITERS = 8;
const OPS = 40;
const DIM = 8;
const CODES = new Set(['CONFLICT', 'STORAGE', 'OUTCOME_UNKNOWN']);
const PATIENT = { maxRetries: 200, initialBackoffMs: 5, maxBackoffMs: 200, maxElapsedMs: 30000 };

/** Runs `step(i)` every `everyMs` while `running()`; collects thrown errors. */
async function loop(running, everyMs, step, errors) {
  for (let i = 0; running(); i++) {
    await sleep(everyMs);
    if (!running()) break;
    try {
      await step(i);
    } catch (e) {
      errors.push({ code: e.code ?? null, message: String(e.message), operationId: e.operationId ?? null });
    }
  }
}

test('compaction racing 8 writers (upserts, overwrites, deletes) through fault proxies on S3: 0 lost, nothing resurrected, newest wins, versions dense', { timeout: 240000 }, async () => {
  const prefix = freshPrefix('compaction-race');
  const setup = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error', autoCompact: false, retry: PATIENT });
  await setup.createCollection('shared', { dimension: DIM, distance: 'l2' });
  const proxies = await Promise.all(
    Array.from({ length: WRITERS + 1 }, (_, w) =>
      startFaultProxy({
        target: s3Env().endpoint,
        seed: 20261202 + w,
        error500: 0.03,
        error500After: 0.03,
        cutAfter: 0.03,
        // Compactor C's proxy answers 503 after a quarter of its manifest PUTs landed.
        manifest503After: w < WRITERS ? 0.06 : 0.25,
        // After an ambiguous manifest PUT, sometimes refuse the manifest for longer than the
        // writer's (or compactor C's) budget, so it reports OUTCOME_UNKNOWN.
        blackout: w < WRITERS ? { chance: 0.3, ms: 3000, max: 1 } : { chance: 1, ms: 3000, max: 2 },
        maxLatencyMs: 15,
      }),
    ),
  );
  const retry = { maxRetries: 200, initialBackoffMs: 5, maxBackoffMs: 400, maxElapsedMs: 2000 };
  const faulty = await AkiDB.open({ ...s3Options(prefix, proxies[WRITERS].url), logLevel: 'error', autoCompact: false, retry });
  try {
    const script = join(ROOT, 'tests/edge/lib/mixed_writer.mjs');
    let running = true;
    const alive = () => running;
    const writers = Promise.all(
      Array.from({ length: WRITERS }, (_, w) =>
        runNode(script, [prefix, 'shared', String(w), String(OPS), proxies[w].url, JSON.stringify(retry)]),
      ),
    ).finally(() => (running = false));

    // Compactor A, straight on S3: the policy, one merge per call, a GC pass every third call.
    const a = { calls: 0, merges: 0, commits: 0, superseded: 0, gcPasses: 0, gcErrors: [], versions: [], errors: [], mostSegments: 0 };
    const ca = await setup.collection('shared');
    const compactorA = loop(alive, 150, async (i) => {
      const r = await ca.compact({ maxRounds: 1, gc: i % 3 === 2 });
      a.calls++;
      a.merges += r.merges;
      a.commits += r.commits;
      a.superseded += r.superseded;
      a.mostSegments = Math.max(a.mostSegments, r.segmentsBefore);
      if (r.merges) a.versions.push(r.version);
      if (r.gc) a.gcPasses++;
      if (r.gcError) a.gcErrors.push(r.gcError);
    }, a.errors);
    // Compactor B, straight on S3: full merges (they retire tombstones too).
    const b = { calls: 0, merges: 0, commits: 0, retirements: 0, superseded: 0, versions: [], errors: [] };
    const cb = await setup.collection('shared');
    const compactorB = loop(alive, 400, async () => {
      const r = await cb.compact({ full: true, maxRounds: 1 });
      b.calls++;
      b.merges += r.merges;
      // A full compaction may add one commit retiring tombstones that hide nothing.
      b.commits += r.commits;
      b.retirements += r.commits - r.merges;
      b.superseded += r.superseded;
      if (r.commits) b.versions.push(r.version);
    }, b.errors);
    // Compactor C, through a faulty proxy: policy merges with a small budget; an OUTCOME_UNKNOWN
    // (one merge: maxRounds 1) is settled later by db.operationStatus straight on S3 — asked
    // before each call, while the manifest's history (128 versions) still covers it.
    const settleC = async () => {
      for (const op of c.unknown.splice(0)) {
        const st = await setup.operationStatus('shared', op);
        if (st.status === 'unknown') c.unknown.push(op);
        else c.settled.push({ op, ...st });
      }
    };
    const c = { calls: 0, merges: 0, commits: 0, superseded: 0, versions: [], errors: [], unknown: [], settled: [] };
    const compactorC = (async () => {
      const cc = await faulty.collection('shared');
      await loop(alive, 250, async () => {
        await settleC();
        try {
          const r = await cc.compact({ maxInputBytes: 4096, maxRounds: 1 });
          c.calls++;
          c.merges += r.merges;
          c.commits += r.commits;
          c.superseded += r.superseded;
          if (r.merges) c.versions.push(r.version);
        } catch (e) {
          if (e.code === 'OUTCOME_UNKNOWN') c.unknown.push(e.operationId);
          throw e;
        }
      }, c.errors);
    })();
    // GC passes straight on S3.
    const gc = { passes: 0, deleted: 0, errors: [] };
    const collector = loop(alive, 700, async () => {
      const r = await setup.collectGarbage('shared');
      gc.passes++;
      gc.deleted += r.deleted.length;
    }, gc.errors);
    // A reader: fresh handles, searched a moment later (their segments may be retired and
    // collected meanwhile: the handle must reload, never fail).
    const reader = { searches: 0, errors: [] };
    const rdb = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error', autoCompact: false });
    const reading = loop(alive, 50, async (i) => {
      const h = await rdb.collection('shared');
      await sleep((i * 37) % 400);
      await h.search(Array.from({ length: DIM }, (_, j) => j - i), { k: 5 });
      reader.searches++;
    }, reader.errors);

    const runs = await writers;
    await Promise.all([compactorA, compactorB, compactorC, collector, reading]);
    const results = runs.map((r, w) => {
      assert.equal(r.code, 0, `writer ${w} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    });

    // One more commit (a GC pass) moves the manifest past every last attempt; then settle what
    // is left: the writers' operations and the compactor's merges.
    const last = await setup.collectGarbage('shared');
    gc.passes++;
    gc.deleted += last.deleted.length;
    await settleC();
    c.settled.push(...c.unknown.map((op) => ({ op, status: 'unknown' })));
    const settledLate = [];
    for (const r of results) {
      for (const u of r.unsettled) {
        const s = await setup.operationStatus('shared', u.operationId);
        settledLate.push({ writer: r.writer, ...s, version: s.version });
        if (s.status === 'committed') {
          // Apply to the writer's model (its ids were left alone since).
          for (const rec of u.op.kind === 'upsert' ? u.op.records : []) {
            if (r.model[rec.id]?.live) (r.old[rec.id] ??= []).push(r.model[rec.id].vector);
            r.model[rec.id] = { live: true, vector: rec.vector, metadata: rec.metadata };
          }
          for (const id of u.op.kind === 'delete' ? u.op.ids : []) {
            if (r.model[id]?.live) (r.old[id] ??= []).push(r.model[id].vector);
            r.model[id] = { live: false };
          }
        }
      }
    }

    // The final state, read by a fresh database straight from S3.
    const check = await AkiDB.open({ ...s3Options(prefix), logLevel: 'error', autoCompact: false });
    const docs = await check.collection('shared');
    const manifest = await docs.manifest();
    const listing = await docs.search(Array.from({ length: DIM }, () => 0), { k: 10000, includeMetadata: true });

    // Every call returned; errors are clear; only OUTCOME_UNKNOWN carries an operationId.
    const acked = results.flatMap((r) => r.acked);
    const failed = results.flatMap((r) => r.failed);
    const settled = [...results.flatMap((r) => r.settled), ...settledLate];
    for (const f of failed) assert.ok(CODES.has(f.code), `clear error code: ${JSON.stringify(f)}`);
    assert.ok(failed.filter((f) => f.code !== 'OUTCOME_UNKNOWN').every((f) => f.operationId === null));
    const unknown = failed.filter((f) => f.code === 'OUTCOME_UNKNOWN');
    assert.equal(settled.length, unknown.length, 'every OUTCOME_UNKNOWN was looked up');
    assert.deepEqual(settled.filter((s) => !['committed', 'not_committed'].includes(s.status)), [], 'every writer OUTCOME_UNKNOWN is settled');
    assert.deepEqual(c.settled.filter((s) => !['committed', 'not_committed'].includes(s.status)), [], "every compactor OUTCOME_UNKNOWN is settled");
    for (const e of c.errors) assert.ok(CODES.has(e.code), `compactor C error: ${JSON.stringify(e)}`);
    assert.deepEqual([...a.errors, ...b.errors, ...gc.errors], [], 'the compactors and GC straight on S3 never failed');
    assert.deepEqual(a.gcErrors, [], 'the GC passes after compaction (straight on S3) succeeded');

    // 0 lost, newest wins, nothing resurrected.
    const expected = new Map();
    const gone = new Set();
    const oldVectors = [];
    for (const r of results) {
      for (const [id, s] of Object.entries(r.model)) (s.live ? expected.set(id, s) : gone.add(id));
      for (const [id, vs] of Object.entries(r.old)) for (const v of vs) oldVectors.push([id, v]);
    }
    const listed = new Map(listing.map((h) => [h.id, h.metadata]));
    assert.equal(listed.size, listing.length, 'no record returned twice');
    assert.deepEqual([...gone].filter((id) => listed.has(id)), [], 'no deleted record reappears');
    assert.deepEqual([...expected.keys()].filter((id) => !listed.has(id)), [], 'no live record lost');
    assert.deepEqual([...listed.keys()].filter((id) => !expected.has(id)), [], 'nothing uncommitted is visible');
    const wrong = [];
    for (const [id, s] of expected) {
      const [top] = await docs.search(s.vector, { k: 1, includeMetadata: true });
      if (top?.id !== id || top.score !== 0 || !isDeepStrictEqual(top.metadata, s.metadata)) wrong.push({ id, top, want: s.metadata });
    }
    assert.deepEqual(wrong, [], 'each live id is found by its newest vector (L2 score 0) with its newest metadata');
    const stale = [];
    for (const [id, v] of oldVectors) {
      const [top] = await docs.search(v, { k: 1 });
      if (top && top.score === 0) stale.push({ id, found: top.id });
    }
    assert.deepEqual(stale, [], 'no replaced or deleted version is found');
    assert.equal(await docs.count(), expected.size);

    // Versions: dense, and every receipt names its own.
    const writerCommits = acked.length + settled.filter((s) => s.status === 'committed').length;
    const merges = a.merges + b.merges + c.merges + c.settled.filter((s) => s.status === 'committed').length;
    const compactionCommits = a.commits + b.commits + c.commits + c.settled.filter((s) => s.status === 'committed').length;
    assert.equal(a.commits + c.commits, a.merges + c.merges, 'handles without a view that compact by policy only merge');
    const gcCommits = manifest.gc_gen - 1;
    assert.equal(gcCommits, gc.passes + a.gcPasses, 'every successful GC pass raised the fence once');
    assert.equal(
      manifest.version,
      1 + writerCommits + compactionCommits + gcCommits,
      `versions are dense: 1 + writer commits + compaction commits + GC passes: ${JSON.stringify({ version: manifest.version, writerCommits, compactionCommits, gcCommits })}`,
    );
    const receipts = [
      ...results.flatMap((r) => r.acked.map((x) => ({ who: `writer ${r.writer} acked`, ...x }))),
      ...results.flatMap((r) => r.settled.filter((s) => s.status === 'committed').map((s) => ({ who: `writer ${r.writer} settled`, ...s }))),
      ...settledLate.filter((s) => s.status === 'committed').map((s) => ({ who: 'settled late', ...s })),
      ...a.versions.map((version) => ({ who: 'compactor A', version })),
      ...b.versions.map((version) => ({ who: 'compactor B', version })),
      ...c.versions.map((version) => ({ who: 'compactor C', version })),
      ...c.settled.filter((s) => s.status === 'committed').map((s) => ({ who: 'compactor C settled', ...s })),
    ];
    const versions = receipts.map((r) => r.version);
    const shared = receipts.filter((r) => versions.indexOf(r.version) !== versions.lastIndexOf(r.version));
    assert.deepEqual(shared, [], 'every receipt names a distinct version');
    assert.ok(versions.every((v) => v >= 2 && v <= manifest.version));
    assert.equal(new Set(manifest.segments.map((s) => s.id)).size, manifest.segments.length, 'no segment listed twice');
    assert.equal(manifest.total_vectors, manifest.segments.reduce((n, s) => n + s.record_count, 0));

    // Compaction really raced the writers, and kept the collection small.
    assert.deepEqual(reader.errors, [], `the reader never failed (${reader.searches} searches)`);
    assert.ok(merges >= 5, `compactions merged while the writers ran (${merges})`);
    assert.ok(unknown.length > 0, 'some writer outcomes were really unknown');
    const segmentsWithoutCompaction = acked.filter((x) => x.kind === 'upsert').length;
    const final = await docs.compact({ gc: true });
    const summary = {
      acked: acked.length,
      failed: failed.length,
      outcomeUnknown: unknown.length,
      settledCommitted: settled.filter((s) => s.status === 'committed').length,
      settledNotCommitted: settled.filter((s) => s.status === 'not_committed').length,
      settledByParent: settledLate.length,
      live: expected.size,
      deleted: gone.size,
      replacedVersions: oldVectors.length,
      mergesA: a.merges,
      mergesB: b.merges,
      mergesC: c.merges,
      superseded: a.superseded + b.superseded + c.superseded,
      tombstoneRetiringCommits: b.retirements,
      compactorCUnknown: c.errors.filter((e) => e.code === 'OUTCOME_UNKNOWN').length,
      compactorCUnknownCommitted: c.settled.filter((s) => s.status === 'committed').length,
      compactorCErrors: c.errors.map((e) => e.code),
      gcPasses: gcCommits,
      gcDeleted: gc.deleted,
      readerSearches: reader.searches,
      version: manifest.version,
      segments: manifest.segments.length,
      peakSegmentsSeenByA: a.mostSegments,
      upsertCommits: segmentsWithoutCompaction,
      tombstones: manifest.tombstones.length,
      retired: manifest.retired?.length ?? 0,
      segmentsAfterFinalCompact: final.segmentsAfter,
    };
    console.log(`compaction race: ${JSON.stringify(summary)}`);
    assert.ok(manifest.segments.length < segmentsWithoutCompaction / 2, `${manifest.segments.length} segments for ${segmentsWithoutCompaction} upsert commits`);
    assert.ok(final.segmentsAfter <= 8, `after one more policy compaction: ${final.segmentsAfter} segments`);
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
  }
});
