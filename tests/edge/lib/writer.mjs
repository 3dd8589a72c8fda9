// One writer process of the concurrency and fault tests: opens the S3 store (directly or
// through a fault proxy) and commits N single-record upserts (ids `w{writer}-c{i}`) to one
// collection, one after another. An OUTCOME_UNKNOWN is not retried: its operationId is asked
// about (`operationStatus`) after each later call and at the end, until it is settled or a
// deadline passes. Prints one JSON line: acknowledged upserts (id, segmentId, version), failed
// calls (id, code, message, operationId), how each OUTCOME_UNKNOWN was settled (or that it was
// not yet), and the process's commit metrics.
//   node writer.mjs <prefix> <collection> <writer> <commits> [endpoint] [retry JSON]
import { AkiDB } from '../../../pkg/node.mjs';
import { s3Options } from './env.mjs';

const [prefix, name, writer, commits, endpoint, retryJson] = process.argv.slice(2);
const db = await AkiDB.open({
  ...s3Options(prefix, endpoint || undefined),
  // Eight processes contend for one manifest: give the CAS loop room (bounded by time).
  retry: retryJson ? JSON.parse(retryJson) : { maxRetries: 200, initialBackoffMs: 5, maxBackoffMs: 400, maxElapsedMs: 120000 },
  logLevel: 'error',
  // The tests check every acknowledged segment is listed: no compaction (tests/edge/compaction.test.mjs races it).
  autoCompact: false,
});
const acked = [];
const failed = [];
const pending = [];
const settled = [];
const queries = { asked: 0, unknown: 0, errors: [] };
let coll = null;

// Asks about every unsettled OUTCOME_UNKNOWN once; keeps those still 'unknown' (or unanswered).
async function settle() {
  for (const u of pending.splice(0)) {
    queries.asked++;
    try {
      const s = await coll.operationStatus(u.operationId);
      if (s.status === 'unknown') {
        queries.unknown++;
        pending.push(u);
      } else {
        settled.push({ ...u, ...s });
      }
    } catch (e) {
      queries.errors.push({ code: e.code ?? null, message: String(e.message) });
      pending.push(u);
    }
  }
}

for (let i = 0; i < Number(commits); i++) {
  const id = `w${writer}-c${i}`;
  try {
    coll ??= await db.collection(name);
    const vector = Array.from({ length: 8 }, () => Math.random() * 2 - 1);
    const r = await coll.upsert([{ id, vector, metadata: { writer: Number(writer), i } }]);
    acked.push({ id, segmentId: r.segmentId, version: r.version });
  } catch (e) {
    failed.push({ i, id, code: e.code ?? null, message: String(e.message), operationId: e.operationId ?? null });
    if (e.code === 'OUTCOME_UNKNOWN' && typeof e.operationId === 'string') pending.push({ id, operationId: e.operationId });
  }
  if (pending.length && coll) await settle();
}
// The last calls' operations are decided once the manifest moves past them (any writer's
// commit); the parent settles what is left after its own commit.
const deadline = Date.now() + 10000;
while (pending.length && coll && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 200));
  await settle();
}
console.log(JSON.stringify({ writer: Number(writer), acked, failed, settled, unsettled: pending, queries, metrics: db.metrics() }));
