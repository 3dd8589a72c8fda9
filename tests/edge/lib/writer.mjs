// One writer process of the concurrency and fault tests: opens the S3 store (directly or
// through the fault proxy) and commits N single-record upserts to one collection, one after
// another. Prints one JSON line: acknowledged segment ids, failed calls (code + message), and
// the process's commit metrics.
//   node writer.mjs <prefix> <collection> <writer> <commits> [endpoint]
import { AkiDB } from '../../../pkg/node.mjs';
import { s3Options } from './env.mjs';

const [prefix, name, writer, commits, endpoint] = process.argv.slice(2);
const db = await AkiDB.open({
  ...s3Options(prefix, endpoint || undefined),
  // Eight processes contend for one manifest: give the CAS loop room (bounded by time).
  retry: { maxRetries: 200, initialBackoffMs: 5, maxBackoffMs: 400, maxElapsedMs: 120000 },
  logLevel: 'error',
});
const acked = [];
const failed = [];
let coll = null;
for (let i = 0; i < Number(commits); i++) {
  try {
    coll ??= await db.collection(name);
    const vector = Array.from({ length: 8 }, () => Math.random() * 2 - 1);
    const r = await coll.upsert([{ id: `w${writer}-c${i}`, vector, metadata: { writer: Number(writer), i } }]);
    acked.push(r.segmentId);
  } catch (e) {
    failed.push({ i, code: e.code ?? null, message: String(e.message) });
  }
}
console.log(JSON.stringify({ writer: Number(writer), acked, failed, metrics: db.metrics() }));
