// Batched upserts applied exactly once however their attempts fail, for import and copy.
// Per the package's error contract: OUTCOME_UNKNOWN (the only error after which a write may have
// committed) is settled with collection.operationStatus(error.operationId) before anything is
// retried; CONFLICT and STORAGE mean "not committed" and are retried with backoff; any other
// error (bad input, credentials) stops the command. An outcome that stays unknown (the manifest
// has not moved past the versions the attempts were based on, so a delayed attempt could still
// land) is decided by one fencing commit, a GC pass: it moves the manifest on, so no earlier
// attempt can land any more, and the status becomes committed or not_committed.
import { setTimeout as sleep } from 'node:timers/promises';

import { CliError } from './args.mjs';

const RETRYABLE = new Set(['CONFLICT', 'STORAGE']);

/** Delay before retry `attempt` (1-based): 200 ms doubling, at most 5 s. */
const backoff = (attempt) => Math.min(5000, 200 * 2 ** (attempt - 1));

/**
 * Upserts `records` into `collection` exactly once. Resolves `{ version, retries, settled,
 * fences, unknown }` (`settled`: an OUTCOME_UNKNOWN attempt turned out committed; `fences`:
 * fencing commits made; `unknown`: OUTCOME_UNKNOWN answers settled). `what` names the batch in errors
 * (e.g. "records 1-5000 of data.jsonl"); `fence()` makes one harmless commit on the collection
 * (import and copy pass `db.collectGarbage(name)`).
 */
export async function upsertOnce(collection, records, { what, fence, attempts = 6, wait = sleep } = {}) {
  let retries = 0;
  let fences = 0;
  let unknown = 0;
  for (let attempt = 1; ; attempt++) {
    let err;
    try {
      const r = await collection.upsert(records);
      return { version: r.version, retries: retries + (r.retries ?? 0), settled: false, fences, unknown };
    } catch (e) {
      err = e;
    }
    if (err?.code === 'OUTCOME_UNKNOWN') {
      unknown++;
      const status = await settle(collection, err.operationId, fence, wait);
      fences += status.fences;
      if (status.status === 'committed') return { version: status.version, retries, settled: true, fences, unknown };
      if (status.status === 'unknown') {
        throw new CliError(
          `${what}: the store could not tell whether the upsert committed (operation ${err.operationId}); ` +
            'nothing was retried. Run the same import again: upserts of the same records are idempotent',
        );
      }
      // not_committed: it never will, so retrying is safe.
    } else if (!RETRYABLE.has(err?.code)) {
      throw withWhat(err, what);
    }
    if (attempt >= attempts) throw withWhat(err, what);
    retries++;
    await wait(backoff(attempt));
  }
}

/**
 * Asks operationStatus until it is decided, fencing with one commit when it stays unknown while
 * the store answers; tolerates store errors meanwhile (bounded: about a minute).
 */
async function settle(collection, operationId, fence, wait) {
  let last = { status: 'unknown' };
  let fences = 0;
  for (let i = 1; i <= 12; i++) {
    try {
      last = await collection.operationStatus(operationId);
      if (last.status !== 'unknown') return { ...last, fences };
      if (fence && fences < 3 && i >= 2) {
        fences++;
        await fence();
        continue;
      }
    } catch (e) {
      // A fence whose own outcome is unknown may have moved the manifest on: ask again.
      if (!RETRYABLE.has(e?.code) && e?.code !== 'OUTCOME_UNKNOWN') throw e;
    }
    await wait(backoff(Math.min(i, 6)));
  }
  return { ...last, fences };
}

function withWhat(err, what) {
  if (err && typeof err === 'object' && what && typeof err.message === 'string' && !err.message.startsWith(what)) {
    err.message = `${what}: ${err.message}`;
  }
  return err;
}

/**
 * Groups records into batches of `size` with unique ids (a later record of the same id replaces
 * an earlier one of its batch, as a later upsert would): upsert rejects duplicate ids in one call.
 */
export class Batcher {
  constructor(size) {
    this.size = size;
    this.map = new Map();
  }

  /** Adds a record; returns the full batch to send, if it is full. */
  add(record) {
    this.map.delete(record.id);
    this.map.set(record.id, record);
    return this.map.size >= this.size ? this.take() : null;
  }

  /** The pending records (possibly empty) and a fresh start. */
  take() {
    const batch = [...this.map.values()];
    this.map = new Map();
    return batch;
  }
}
