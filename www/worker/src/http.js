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

/** The JSON error response for anything thrown by a handler. */
export function errorResponse(e) {
  if (e instanceof HttpError) {
    return json({ error: { code: e.code, message: e.message } }, e.status, e.headers);
  }
  const code = typeof e?.code === 'string' && e.code in STATUS_OF_CODE ? e.code : 'INTERNAL';
  const status = STATUS_OF_CODE[code] ?? 500;
  // No Retry-After for OUTCOME_UNKNOWN: repeating the request could apply it twice; the client
  // must ask the operation's status first.
  const headers = RETRYABLE.has(code) ? { 'retry-after': '1' } : {};
  const message = code === 'INTERNAL' ? 'internal error' : String(e?.message ?? e);
  const error = { code, message };
  if (code === 'OUTCOME_UNKNOWN' && typeof e?.operationId === 'string') error.operationId = e.operationId;
  return json({ error }, status, headers);
}

/**
 * Reads the request body as JSON, refusing more than `maxBytes` (413) and anything that is not
 * a JSON object (400). Streams, so an oversized body is never held whole. With `optional`, an
 * absent or empty body reads as `{}`.
 */
export async function readJson(request, maxBytes, { optional = false } = {}) {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${maxBytes} bytes`);
  }
  if (!request.body) {
    if (optional) return {};
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body must be a JSON object');
  }
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  if (optional && size === 0) return {};
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  let body;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body must be a JSON object');
  }
  return body;
}
