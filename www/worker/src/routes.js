// The routes of the AkiDB REST service: request JSON in, engine call, response JSON out.
// `ctx` gives the database, the collection handle cache and the limits.

import { HttpError, json, readJson } from './http.js';
import { LEVELS } from './auth.js';

function invalid(message) {
  return new HttpError(400, 'INVALID_ARGUMENT', message);
}

function info(m) {
  return {
    name: m.collection,
    dimension: m.dimension,
    distance: m.distance,
    totalVectors: m.total_vectors,
    version: m.version,
    segments: m.segments.length,
  };
}

/**
 * Checks the `vector` of a request (a query or a record) is an array no longer than the engine's
 * dimension limit, before the engine converts it.
 */
function checkVector(v, limit, what) {
  if (!Array.isArray(v)) throw invalid(`${what} must be an array of numbers`);
  if (v.length > limit) throw invalid(`${what} has ${v.length} numbers; the vector length limit is ${limit}`);
}

async function listCollections(ctx) {
  const all = await ctx.db.listCollections();
  return json({ collections: all.filter((c) => ctx.mayUse(c.name)) });
}

async function createCollection(ctx, request) {
  const body = await readJson(request, ctx.limits.maxBodyBytes);
  if (typeof body.name !== 'string') throw invalid('name must be a string');
  ctx.permit(LEVELS.admin, body.name);
  if (!Number.isInteger(body.dimension)) throw invalid('dimension must be a whole number');
  if (body.distance !== undefined && typeof body.distance !== 'string') throw invalid('distance must be a string');
  const created = await ctx.db.createCollection(body.name, { dimension: body.dimension, distance: body.distance });
  ctx.forget(body.name);
  return json(created, 201);
}

async function getCollection(ctx, _request, name) {
  const c = await ctx.collection(name);
  return json(info(await c.manifest()));
}

async function dropCollection(ctx, _request, name) {
  await ctx.db.dropCollection(name);
  ctx.forget(name);
  return json({ dropped: name });
}

async function upsert(ctx, request, name) {
  const body = await readJson(request, ctx.limits.maxBodyBytes);
  const vectors = body.vectors;
  if (!Array.isArray(vectors)) throw invalid('vectors must be an array of { id, vector, metadata }');
  if (vectors.length > ctx.limits.maxVectorsPerRequest) {
    throw new HttpError(
      413,
      'PAYLOAD_TOO_LARGE',
      `at most ${ctx.limits.maxVectorsPerRequest} vectors per request (the per-request limit), got ${vectors.length}`,
    );
  }
  if (vectors.length === 0) throw invalid('vectors must not be empty');
  for (let i = 0; i < vectors.length; i++) {
    const r = vectors[i];
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw invalid(`vectors[${i}] must be an object { id, vector, metadata }`);
    checkVector(r.vector, ctx.limits.maxVectorLength, `vectors[${i}].vector`);
  }
  const c = await ctx.collection(name);
  const r = await c.upsert(vectors);
  ctx.wrote(name, c);
  return json({ upserted: vectors.length, segmentId: r.segmentId, version: r.version });
}

async function search(ctx, request, name) {
  const body = await readJson(request, ctx.limits.maxBodyBytes);
  checkVector(body.vector, ctx.limits.maxVectorLength, 'vector');
  const k = body.k ?? 10;
  if (!Number.isInteger(k) || k < 1 || k > ctx.limits.maxK) throw invalid(`k must be a whole number in 1..${ctx.limits.maxK}`);
  if (body.includeMetadata !== undefined && typeof body.includeMetadata !== 'boolean') {
    throw invalid('includeMetadata must be a boolean');
  }
  const mode = body.mode ?? 'exact';
  if (!['exact', 'flat', 'ann', 'int8'].includes(mode)) throw invalid("mode must be 'exact', 'flat', 'ann' or 'int8'");
  if (body.probes !== undefined && (!Number.isInteger(body.probes) || body.probes < 1 || body.probes > 1_000_000)) {
    throw invalid('probes must be a whole number in 1..1000000');
  }
  if (body.prune !== undefined && typeof body.prune !== 'boolean') throw invalid('prune must be a boolean');
  if (body.recall !== undefined && (typeof body.recall !== 'number' || !(body.recall > 0 && body.recall <= 1) || mode !== 'ann')) {
    throw invalid("recall must be a number in (0, 1], with mode 'ann'");
  }
  const c = await ctx.collection(name);
  // Read what other instances committed: a cheap conditional GET (304 when unchanged).
  await c.refresh();
  const results = await c.search(body.vector, {
    k,
    filter: body.filter ?? undefined,
    includeMetadata: body.includeMetadata ?? false,
    mode,
    probes: body.probes,
    prune: body.prune,
    recall: body.recall,
  });
  return json({ results });
}

async function deleteRecords(ctx, request, name) {
  const body = await readJson(request, ctx.limits.maxBodyBytes);
  if (!Array.isArray(body.ids)) throw invalid('ids must be an array of strings');
  if (body.ids.length > ctx.limits.maxIdsPerRequest) {
    throw new HttpError(
      413,
      'PAYLOAD_TOO_LARGE',
      `at most ${ctx.limits.maxIdsPerRequest} ids per request (the per-request limit), got ${body.ids.length}`,
    );
  }
  if (!body.ids.every((id) => typeof id === 'string')) throw invalid('ids must be an array of strings');
  const c = await ctx.collection(name);
  const r = await c.delete(body.ids);
  ctx.wrote(name, c);
  return json({ deleted: body.ids.length, version: r.version });
}

const GET_FIELDS = ['ids', 'includeVectors', 'includeMetadata'];

// Records by id → `{ records: [{ id, vector, metadata } | null], version }`, in the order asked
// (`null`: never written or deleted); vectors as JSON numbers (shortest round-trip decimals, so
// they parse back to the same float32 bits).
async function getRecords(ctx, request, name) {
  const body = await readJson(request, ctx.limits.maxBodyBytes);
  const unknown = Object.keys(body).filter((k) => !GET_FIELDS.includes(k));
  if (unknown.length) throw invalid(`unknown field '${unknown[0]}' (get takes ${GET_FIELDS.join(', ')})`);
  if (!Array.isArray(body.ids) || !body.ids.every((id) => typeof id === 'string')) {
    throw invalid('ids must be an array of strings');
  }
  if (body.ids.length > ctx.limits.maxGetIdsPerRequest) {
    throw new HttpError(
      413,
      'PAYLOAD_TOO_LARGE',
      `at most ${ctx.limits.maxGetIdsPerRequest} ids per get request (the per-request limit), got ${body.ids.length}`,
    );
  }
  for (const k of ['includeVectors', 'includeMetadata']) {
    if (body[k] !== undefined && typeof body[k] !== 'boolean') throw invalid(`${k} must be a boolean`);
  }
  const c = await ctx.collection(name);
  await c.refresh();
  const found = await c.get(body.ids, { includeVectors: body.includeVectors ?? true, includeMetadata: body.includeMetadata ?? true });
  const records = found.map((r) => (r && r.vector ? { ...r, vector: Array.from(r.vector) } : r));
  return json({ records, version: c.version });
}

async function seal(ctx, _request, name, segmentId) {
  const c = await ctx.collection(name);
  const r = await c.seal(segmentId);
  return json({ segmentId: r.segmentId, version: r.version });
}

// After a 503 OUTCOME_UNKNOWN: did that write commit? `{ status: 'committed', version }`,
// `{ status: 'not_committed' }` (safe to send it again) or `{ status: 'unknown' }` (ask later).
// Asked of the database, not a collection handle: it also answers for a create whose outcome is
// unknown, and for a collection that cannot be opened (not created yet, dropped).
async function operationStatus(ctx, _request, name, operationId) {
  return json(await ctx.db.operationStatus(name, operationId));
}

// One garbage-collection pass: `{ generation, deleted: [keys], keptRecent, keptUnknown }`.
async function collectGarbage(ctx, _request, name) {
  return json(await ctx.db.collectGarbage(name));
}

const COMPACT_FIELDS = ['full', 'auto', 'maxInputBytes', 'maxRounds', 'gc'];

// Compacts now (body optional: { full, auto, maxInputBytes, maxRounds, gc }) → the receipt
// `{ version, segmentsBefore, segmentsAfter, recordsDropped, tombstonesRetired, bytesRead,
// bytesWritten, merges, superseded, gc? }`. The engine validates the values (400).
async function compact(ctx, request, name) {
  const body = await readJson(request, ctx.limits.maxBodyBytes, { optional: true });
  const unknown = Object.keys(body).filter((k) => !COMPACT_FIELDS.includes(k));
  if (unknown.length) throw invalid(`unknown field '${unknown[0]}' (compact takes ${COMPACT_FIELDS.join(', ')})`);
  const c = await ctx.collection(name);
  const r = await c.compact(body);
  ctx.compacted(r);
  return json(r);
}

const { read, write, admin } = LEVELS;

/**
 * Route table: path segments (`:x` captures) → { METHOD: [scope level, handler] }. `public`
 * routes need no API key (their handlers get the isolate's health info instead of a context).
 * A `:name` capture is the collection a scoped key must be allowed on; POST /collections checks
 * the body's name itself.
 */
export const ROUTES = [
  { path: ['health'], public: true, methods: { GET: [0, async (health) => json({ status: 'ok', ...health })] } },
  { path: ['metrics'], methods: { GET: [admin, async (ctx) => ctx.metricsResponse()] } },
  { path: ['collections'], methods: { GET: [read, listCollections], POST: [admin, createCollection] } },
  { path: ['collections', ':name'], methods: { GET: [read, getCollection], DELETE: [admin, dropCollection] } },
  { path: ['collections', ':name', 'vectors'], methods: { POST: [write, upsert] } },
  { path: ['collections', ':name', 'search'], methods: { POST: [read, search] } },
  { path: ['collections', ':name', 'delete'], methods: { POST: [write, deleteRecords] } },
  { path: ['collections', ':name', 'get'], methods: { POST: [read, getRecords] } },
  { path: ['collections', ':name', 'segments', ':id', 'seal'], methods: { POST: [write, seal] } },
  { path: ['collections', ':name', 'operations', ':operationId'], methods: { GET: [read, operationStatus] } },
  { path: ['collections', ':name', 'gc'], methods: { POST: [admin, collectGarbage] } },
  { path: ['collections', ':name', 'compact'], methods: { POST: [write, compact] } },
];

/** Finds the route of `pathname`: `{ route, params, label }` or null. */
export function match(pathname) {
  let parts;
  try {
    parts = pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
  } catch {
    throw invalid('the path is not valid percent-encoding');
  }
  for (const route of ROUTES) {
    if (route.path.length !== parts.length) continue;
    const params = [];
    const ok = route.path.every((seg, i) => {
      if (seg.startsWith(':')) {
        params.push(parts[i]);
        return true;
      }
      return seg === parts[i];
    });
    if (ok) return { route, params, label: '/' + route.path.join('/') };
  }
  return null;
}
