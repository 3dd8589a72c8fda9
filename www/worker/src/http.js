// HTTP helpers of the REST worker: JSON responses, JSON errors with stable codes, and a
// size-bounded JSON body reader. No engine or routing knowledge here.

/** An error that becomes a JSON response `{ error: { code, message } }` with `status`. */
export class HttpError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** HTTP status of each engine error code (`error.code` of the AkiDB package). */
const STATUS_OF_CODE = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  // Only reached after the engine's retries are exhausted.
  CONFLICT: 409,
  CORRUPT: 500,
  // The object store failed or timed out after retries: try again later.
  STORAGE: 503,
  // The object store rejected the worker's own credentials: a gateway problem, not the caller's.
  AUTH: 502,
  // The write may or may not have committed (e.g. the answer to the manifest PUT was lost and
  // re-reading could not decide). NOT safe to retry blindly: the body carries `operationId`,
  // and GET /collections/:name/operations/:operationId says whether it landed.
  OUTCOME_UNKNOWN: 503,
  // The collection's manifest was written by a newer AkiDB; this build reads it but will not rewrite it.
  UNSUPPORTED_FORMAT: 409,
  // Only from searchIdsSync, which the worker never calls: a bug in the worker, not the caller's.
  NOT_LOADED: 500,
};

/** Codes whose operation did not commit and may simply be sent again later (`Retry-After`). */
const RETRYABLE = new Set(['CONFLICT', 'STORAGE']);

/** A JSON response. */
export function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/**
 * What a caller is told for failures that are not about its input. The engine's message for these
 * may name object keys, the key prefix, the bucket or S3 error codes: it goes to the log only.
 */
const GENERIC_MESSAGES = {
  STORAGE: 'storage temporarily unavailable; nothing was committed, retry later',
  AUTH: 'the storage backend rejected the service credentials',
  CORRUPT: 'stored data of this collection failed validation',
  OUTCOME_UNKNOWN:
    'the write may or may not have committed; ask GET /collections/:name/operations/:operationId before sending it again',
  INTERNAL: 'internal error',
};

/** Whether the caller gets a generic message for `code` (and the detail goes to the log). */
export function isGeneric(code) {
  return code in GENERIC_MESSAGES;
}

/** `message` without any occurrence of the store's key prefix (a non-empty `prefix`). */
export function scrub(message, prefix) {
  let m = String(message);
  if (prefix) m = m.split(prefix).join('');
  return m;
}

/**
 * The JSON error response for anything thrown by a handler. Messages about the caller's input
 * (INVALID_ARGUMENT, NOT_FOUND, CONFLICT, …) are kept, minus the key prefix; STORAGE, AUTH,
 * CORRUPT, OUTCOME_UNKNOWN and INTERNAL get a generic message (the caller logs the detail).
 */
export function errorResponse(e, { prefix = '' } = {}) {
  if (e instanceof HttpError) {
    return json({ error: { code: e.code, message: scrub(e.message, prefix) } }, e.status, e.headers);
  }
  const code = typeof e?.code === 'string' && e.code in STATUS_OF_CODE ? e.code : 'INTERNAL';
  const status = STATUS_OF_CODE[code] ?? 500;
  // No Retry-After for OUTCOME_UNKNOWN: repeating the request could apply it twice; the client
  // must ask the operation's status first.
  const headers = RETRYABLE.has(code) ? { 'retry-after': '1' } : {};
  const message = GENERIC_MESSAGES[code] ?? scrub(e?.message ?? e, prefix);
  const error = { code, message };
  if (code === 'OUTCOME_UNKNOWN' && typeof e?.operationId === 'string') error.operationId = e.operationId;
  return json({ error }, status, headers);
}

function tooLarge(maxBytes) {
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than MAX_BODY_BYTES (${maxBytes} bytes)`);
}

/**
 * Reads the request body as JSON, refusing more than `maxBytes` (413) and anything that is not
 * a JSON object (400). Streams into one buffer (sized by Content-Length when declared, else
 * grown by doubling up to the limit) and cancels the stream as soon as it passes the limit, so
 * an oversized body is never held; the JSON is parsed from that buffer. With `optional`, an
 * absent or empty body reads as `{}`.
 */
export async function readJson(request, maxBytes, { optional = false } = {}) {
  const header = request.headers.get('content-length');
  const declared = header === null ? NaN : Number(header);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge(maxBytes);
  }
  if (!request.body) {
    if (optional) return {};
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body must be a JSON object');
  }
  const reader = request.body.getReader();
  let buffer = new Uint8Array(Number.isInteger(declared) && declared > 0 ? declared : Math.min(maxBytes, 64 * 1024));
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    if (size + value.byteLength > buffer.byteLength) {
      let capacity = Math.max(1024, buffer.byteLength * 2);
      while (capacity < size + value.byteLength) capacity *= 2;
      const grown = new Uint8Array(Math.min(maxBytes, capacity));
      grown.set(buffer.subarray(0, size));
      buffer = grown;
    }
    buffer.set(value, size);
    size += value.byteLength;
  }
  if (optional && size === 0) return {};
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, size));
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body is not valid UTF-8');
  }
  buffer = null;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body must be a JSON object');
  }
  return body;
}
