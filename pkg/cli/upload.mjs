// Batched upserts applied exactly once however their attempts fail, for import and copy.
// Per the package's error contract: OUTCOME_UNKNOWN (the only error after which a write may have
// committed) is settled with collection.operationStatus(error.operationId) before anything is
// retried; CONFLICT and STORAGE mean "not committed" and are retried with backoff; any other
// error (bad input, credentials) stops the command.
import { setTimeout as sleep } from 'node:timers/promises';

import { CliError } from './args.mjs';

const RETRYABLE = new Set(['CONFLICT', 'STORAGE']);

/** Delay before retry `attempt` (1-based): 200 ms doubling, at most 5 s. */
const backoff = (attempt) => Math.min(5000, 200 * 2 ** (attempt - 1));

/**
 * Upserts `records` into `collection` exactly once. Resolves `{ version, retries, settled }`
 * (`settled`: an OUTCOME_UNKNOWN attempt turned out committed). `what` names the batch in errors
 * (e.g. "records 1-5000 of data.jsonl").
 */
export async function upsertOnce(collection, records, { what, attempts = 6, wait = sleep } = {}) {
  let retries = 0;
  for (let attempt = 1; ; attempt++) {
    let err;
    try {
      const r = await collection.upsert(records);
      return { version: r.version, retries: retries + (r.retries ?? 0), settled: false };
    } catch (e) {
      err = e;
    }
    if (err?.code === 'OUTCOME_UNKNOWN') {
      const status = await settle(collection, err.operationId, wait);
      if (status.status === 'committed') return { version: status.version, retries, settled: true };
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

/** Asks operationStatus until it is decided (bounded: about 30 s), tolerating store errors. */
async function settle(collection, operationId, wait) {
  let last = { status: 'unknown' };
  for (let i = 1; i <= 8; i++) {
    try {
      last = await collection.operationStatus(operationId);
      if (last.status !== 'unknown') return last;
    } catch (e) {
      if (!RETRYABLE.has(e?.code)) throw e;
    }
    await wait(backoff(i));
  }
  return last;
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
