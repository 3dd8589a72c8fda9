// One writer process of the compaction race (tests/edge/compaction.test.mjs): opens the S3 store
// (directly or through a fault proxy; automatic compaction off, the test compacts) and runs N
// mixed operations on its own ids `w{writer}-k{j}`, one after another: upserts of 1-3 records
// (new ids and overwrites), deletes of live ids, and deletes of ids that never existed. It
// keeps a model of what each id must be at the end: live with the vector and metadata of the
// newest committed upsert, or deleted.
//
// An OUTCOME_UNKNOWN is not retried: its ids are left alone until a later `operationStatus`
// settles it — 'committed' applies it to the model, 'not_committed' drops it — so the model's
// order of operations per id is the order they committed in. What is still unsettled at the end
// is printed with the operation, for the parent to settle after its own commit.
//
// Prints one JSON line: the model, every vector an id ever had before its current one (they must
// not be found any more), acknowledged commits (kind, version), failures, settled and unsettled
// operations, and the process's commit metrics.
//   node mixed_writer.mjs <prefix> <collection> <writer> <ops> [endpoint] [retry JSON]
// Environment: MIXED_IDS (ids per writer, default 8), MIXED_DIM (default 8), MIXED_QUIET=1 (print
// counts instead of the model).
import { AkiDB } from '../../../pkg/node.mjs';
import { s3Options } from './env.mjs';

const [prefix, name, writerArg, opsArg, endpoint, retryJson] = process.argv.slice(2);
const writer = Number(writerArg);
// Ids per writer and vector length (the benchmark uses more and longer ones).
const IDS = Number(process.env.MIXED_IDS ?? 8);
const DIM = Number(process.env.MIXED_DIM ?? 8);

const db = await AkiDB.open({
  ...s3Options(prefix, endpoint || undefined),
  retry: retryJson ? JSON.parse(retryJson) : { maxRetries: 200, initialBackoffMs: 5, maxBackoffMs: 400, maxElapsedMs: 120000 },
  logLevel: 'error',
  autoCompact: false,
});

// Seeded choices (xorshift), so a failing schedule can be replayed; vectors are random.
let seed = 0x9e3779b9 ^ (writer * 2654435761);
function rand() {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const vector = () => Array.from({ length: DIM }, () => Math.random() * 2 - 1);

/** id → { live: true, vector, metadata } | { live: false } (absent: never written). */
const model = {};
/** id → vectors it had before its current one. */
const old = {};
/** Ids with an unsettled operation: not touched until it is settled. */
const blocked = new Set();
const acked = [];
const failed = [];
const pending = [];
const settled = [];
const queries = { asked: 0, unknown: 0, errors: 0 };
let coll = null;

function apply(op) {
  if (op.kind === 'upsert') {
    for (const r of op.records) {
      const cur = model[r.id];
      if (cur?.live) (old[r.id] ??= []).push(cur.vector);
      model[r.id] = { live: true, vector: r.vector, metadata: r.metadata };
    }
  } else {
    for (const id of op.ids) {
      const cur = model[id];
      if (cur?.live) (old[id] ??= []).push(cur.vector);
      model[id] = { live: false };
    }
  }
}

const idsOf = (op) => (op.kind === 'upsert' ? op.records.map((r) => r.id) : op.ids);

async function settle() {
  for (const u of pending.splice(0)) {
    queries.asked++;
    try {
      const s = await coll.operationStatus(u.operationId);
      if (s.status === 'unknown') {
        queries.unknown++;
        pending.push(u);
        continue;
      }
      if (s.status === 'committed') apply(u.op);
      for (const id of idsOf(u.op)) blocked.delete(id);
      settled.push({ operationId: u.operationId, kind: u.op.kind, ids: idsOf(u.op), status: s.status, version: s.version });
    } catch {
      queries.errors++;
      pending.push(u);
    }
  }
}

for (let i = 0; i < Number(opsArg); i++) {
  const free = Array.from({ length: IDS }, (_, j) => `w${writer}-k${j}`).filter((id) => !blocked.has(id));
  const live = free.filter((id) => model[id]?.live);
  const roll = rand();
  let op;
  if (roll < 0.3 && live.length) {
    const ids = [...new Set([pick(live), pick(live)])];
    op = { kind: 'delete', ids };
  } else if (roll < 0.4) {
    // A delete of an id that never existed (a tombstone that hides nothing), sometimes with a live one.
    op = { kind: 'delete', ids: [`w${writer}-ghost${i}`, ...(live.length && rand() < 0.5 ? [pick(live)] : [])] };
  } else if (free.length) {
    const ids = [...new Set([pick(free), pick(free), pick(free)].slice(0, 1 + Math.floor(rand() * 3)))];
    op = { kind: 'upsert', records: ids.map((id) => ({ id, vector: vector(), metadata: { writer, op: i, id } })) };
  } else {
    continue;
  }
  try {
    coll ??= await db.collection(name);
    const r = op.kind === 'upsert' ? await coll.upsert(op.records) : await coll.delete(op.ids);
    apply(op);
    acked.push({ op: i, kind: op.kind, ids: idsOf(op), version: r.version });
  } catch (e) {
    failed.push({ op: i, kind: op.kind, ids: idsOf(op), code: e.code ?? null, message: String(e.message), operationId: e.operationId ?? null });
    if (e.code === 'OUTCOME_UNKNOWN' && typeof e.operationId === 'string') {
      pending.push({ operationId: e.operationId, op });
      for (const id of idsOf(op)) blocked.add(id);
    }
  }
  if (pending.length && coll) await settle();
}
const deadline = Date.now() + 10000;
while (pending.length && coll && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 200));
  await settle();
}
const quiet = process.env.MIXED_QUIET === '1';
console.log(
  JSON.stringify({
    writer,
    model: quiet ? Object.keys(model).length : model,
    old: quiet ? Object.values(old).flat().length : old,
    acked,
    failed,
    settled,
    unsettled: pending,
    queries,
    metrics: db.metrics(),
  }),
);
