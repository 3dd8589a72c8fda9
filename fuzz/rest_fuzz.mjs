// Fuzzes the REST worker's request handling (www/worker/src: routing, API keys, body reading,
// validation, error mapping) in Node, with the engine replaced by a stub, so only the worker's
// own code is under test. Mutation-based (not coverage-guided): seeds are valid requests for
// every route; mutations change the method, the path (percent-escapes, dot segments, long and
// odd unicode segments), the headers (content-length lies, auth variants) and the body (JSON
// tree mutations: wrong types, huge numbers, deep nesting, long strings, big arrays,
// `__proto__`; byte mutations: truncation, invalid UTF-8, random chunking of the stream).
//
//   node fuzz/rest_fuzz.mjs [--seconds N | --iterations N] [--seed N] [--crashes DIR] [--outcomes]
//
// Properties checked for every request:
// - `handle` settles (never rejects, never hangs: 5 s) with a Response whose status is 100..599;
// - every error response is JSON `{ error: { code, message } }` with a documented code
//   (`INTERNAL` means something other than an HttpError or a coded engine error escaped);
// - errors the worker produces itself (no engine error injected) are 4xx, and bodies over the
//   limit are 413;
// - protected routes never reach the engine without a valid key;
// - arguments that reach the engine were validated as the routes promise (k in 1..maxK, ids an
//   array of strings, non-empty vectors within the per-request limit, name a string,
//   dimension an integer);
// and directly: `match(pathname)` returns null or a route, or throws HttpError 400;
// `readJson` resolves to a plain object or throws HttpError 400/413.
//
// Prints `target=rest execs=… secs=… execs_per_sec=… crashes=… note=…`; each distinct failure
// (by property) is saved to DIR as JSON and printed. Exit code 1 when anything failed.

import { createApp } from '../www/worker/src/app.js';
import { HttpError, readJson } from '../www/worker/src/http.js';
import { match } from '../www/worker/src/routes.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ---------------------------------------------------------------- options
const args = process.argv.slice(2);
function opt(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const SECONDS = Number(opt('seconds', args.includes('--iterations') ? 'Infinity' : '10'));
const ITERATIONS = Number(opt('iterations', 'Infinity'));
const SEED = Number(opt('seed', String(Date.now() % 2 ** 31)));
const CRASH_DIR = opt('crashes', null);
const QUIET = args.includes('--quiet');

// ---------------------------------------------------------------- rng (mulberry32)
let state = SEED >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(rand() * n);
const oneIn = (n) => below(n) === 0;
const pick = (a) => a[below(a.length)];

// ---------------------------------------------------------------- the engine stub
const ENGINE_CODES = ['INVALID_ARGUMENT', 'NOT_FOUND', 'ALREADY_EXISTS', 'CONFLICT', 'CORRUPT', 'STORAGE', 'AUTH', 'OUTCOME_UNKNOWN', 'UNSUPPORTED_FORMAT'];
/** Codes the worker itself answers with. */
const WORKER_CODES = ['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'UNAUTHENTICATED', 'FORBIDDEN', 'MISCONFIGURED'];
const KEY = 'key-1';
const MAX_K = 10000;
const MAX_VECTORS = 10000;

/** Per-request record of what reached the engine, and whether an engine error was injected. */
let trace;

function engineError(code) {
  const e = new Error(`stub ${code}`);
  e.code = code;
  if (code === 'OUTCOME_UNKNOWN') e.operationId = 'op-1';
  return e;
}

/** Sometimes the stub fails the way the engine can (coded errors only). */
function maybeFail() {
  if (trace.injectRate && rand() < trace.injectRate) {
    trace.injected = pick(ENGINE_CODES);
    throw engineError(trace.injected);
  }
}

function call(name, ...a) {
  trace.calls.push(name);
  trace.args.push([name, a]);
  maybeFail();
}

class StubCollection {
  constructor(name) {
    this.name = name;
  }
  async manifest() {
    call('manifest');
    return { collection: this.name, dimension: 3, distance: 'cosine', total_vectors: 0, version: 1, segments: [] };
  }
  async upsert(vectors) {
    call('upsert', vectors);
    return { segmentId: 'seg', version: 2 };
  }
  async refresh() {
    call('refresh');
  }
  async search(vector, options) {
    call('search', vector, options);
    return [];
  }
  async delete(ids) {
    call('delete', ids);
    return { version: 3 };
  }
  async seal(id) {
    call('seal', id);
    return { segmentId: id, version: 4 };
  }
  async operationStatus(id) {
    call('operationStatus', id);
    return { status: 'unknown' };
  }
  async compact(options) {
    call('compact', options);
    return { version: 5, segmentsBefore: 9, segmentsAfter: 2, recordsDropped: 0, tombstonesRetired: 0, bytesRead: 1, bytesWritten: 1, merges: 1, superseded: 0 };
  }
  needsCompaction() {
    // Automatic compaction after writes runs through ctx.waitUntil: sometimes wanted.
    return oneIn(2);
  }
}

const StubAkiDB = {
  async open(options) {
    if (typeof options !== 'object' || options === null) throw new Error('bad options');
    return {
      async listCollections() {
        call('listCollections');
        return [];
      },
      async createCollection(name, o) {
        call('createCollection', name, o);
        return { name, dimension: o.dimension, distance: o.distance ?? 'cosine' };
      },
      async dropCollection(name) {
        call('dropCollection', name);
      },
      async collection(name) {
        call('collection', name);
        return new StubCollection(name);
      },
      async collectGarbage(name) {
        call('collectGarbage', name);
        return { generation: 1, deleted: [], keptRecent: 0, keptUnknown: 0 };
      },
      async operationStatus(name, id) {
        call('operationStatus', name, id);
        return { status: 'unknown' };
      },
      metricsText() {
        return '# akidb_manifest_conflict_retries_total 0\n';
      },
    };
  },
};

// ---------------------------------------------------------------- seeds
const V = [0.1, 0.2, 0.3];
const SEEDS = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/collections' },
  { method: 'POST', path: '/collections', body: { name: 'docs', dimension: 3, distance: 'cosine' } },
  { method: 'GET', path: '/collections/docs' },
  { method: 'DELETE', path: '/collections/docs' },
  {
    method: 'POST',
    path: '/collections/docs/vectors',
    body: { vectors: [{ id: 'a', vector: V, metadata: { section: 'net', year: 2020 } }, { id: 'b', vector: V }] },
  },
  {
    method: 'POST',
    path: '/collections/docs/search',
    body: {
      vector: V,
      k: 5,
      includeMetadata: true,
      filter: { must: [{ key: 'section', match: 'net' }], must_not: [{ key: 'year', range: { lt: 2020 } }] },
    },
  },
  { method: 'POST', path: '/collections/docs/delete', body: { ids: ['a', 'b'] } },
  { method: 'POST', path: '/collections/docs/segments/0123456789abcdef0123456789abcdef/seal' },
  { method: 'GET', path: '/collections/docs/operations/00000000000000000000000000000001' },
  { method: 'POST', path: '/collections/docs/gc' },
  { method: 'POST', path: '/collections/docs/compact', body: { full: true, auto: false, maxInputBytes: 1048576, maxRounds: 2, gc: true } },
  { method: 'POST', path: '/collections/docs/compact' },
];

// ---------------------------------------------------------------- mutations
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'post', 'TRACE', 'X-CUSTOM'];
const SEGMENTS = ['', '.', '..', '%2e', '%2E%2E', '%2F', '%zz', '%', '%e9', '%C3%A9', '%00', '%F0%9F%98%80', '%ED%A0%80', 'é', '😀', ' ', '%20', '+', 'collections', 'docs', 'search', 'vectors', 'delete', 'segments', 'seal', 'operations', 'gc', 'compact', 'health', 'metrics', '__proto__', 'constructor', 'hasOwnProperty', 'x'.repeat(5000), '?', '#'];
const KEYS = ['name', 'dimension', 'distance', 'vectors', 'vector', 'id', 'metadata', 'k', 'filter', 'includeMetadata', 'ids', 'must', 'should', 'must_not', 'key', 'match', 'range', 'exists', 'any', 'value', 'gt', 'lt', 'full', 'auto', 'maxInputBytes', 'maxRounds', 'gc', '__proto__', 'constructor', 'toString', 'length'];
const NUMBERS = [0, -0, 1, -1, 0.5, 3, 4096, 4097, 10000, 10001, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, 5e-324, Number.MAX_SAFE_INTEGER];
const NUMBER_TEXT = ['1e999', '-1e999', '1e-999', '18446744073709551616', '-0.0', '1E400', '0.' + '0'.repeat(400) + '1'];

function randomValue(depth = 0) {
  switch (below(depth > 3 ? 6 : 10)) {
    case 0: return null;
    case 1: return oneIn(2);
    case 2: return pick(NUMBERS);
    case 3: return pick(['', 'docs', 'a'.repeat(pick([1, 1000, 70000])), '\u0000', '\ud800', '😀', 'cosine', 'l2', 'dot', '.', '..', 'a/b']);
    case 4: return pick(SEGMENTS);
    case 5: return below(1000) - 500;
    case 6: return Array.from({ length: below(4) }, () => randomValue(depth + 1));
    case 7: return Array.from({ length: pick([0, 3, 10001]) }, () => pick(NUMBERS));
    case 8: {
      const o = {};
      for (let i = below(3); i >= 0; i--) o[pick(KEYS)] = randomValue(depth + 1);
      return o;
    }
    default: {
      let v = randomValue(depth + 1);
      for (let i = pick([32, 33, 100, 1000]); i > 0; i--) v = oneIn(2) ? [v] : { must: [v] };
      return v;
    }
  }
}

/** All [parent, key] slots of a JSON value (without recursion), to pick one to mutate. */
function slots(root) {
  const out = [];
  const stack = [root];
  while (stack.length && out.length < 5000) {
    const x = stack.pop();
    if (x && typeof x === 'object') {
      for (const k of Object.keys(x)) {
        out.push([x, k]);
        stack.push(x[k]);
      }
    }
  }
  return out;
}

function mutateJson(body) {
  const root = { body: structuredClone(body ?? {}) };
  const all = slots(root);
  const [parent, key] = pick(all);
  switch (below(7)) {
    case 0: parent[key] = randomValue(); break;
    case 1: if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key]; break;
    case 2: parent[pick(KEYS)] = randomValue(); break;
    case 3: parent[key] = Array.isArray(parent[key]) ? parent[key].concat(parent[key]) : [parent[key]]; break;
    case 4: parent[key] = typeof parent[key] === 'number' ? pick(NUMBERS) : { value: parent[key] }; break;
    case 5: if (parent[key] && typeof parent[key] === 'object') Object.defineProperty(parent[key], '__proto__', { value: randomValue(), enumerable: true, configurable: true, writable: true }); break;
    default: {
      let v = parent[key];
      for (let i = pick([2, 33, 200, 1000]); i > 0; i--) v = [v];
      parent[key] = v;
    }
  }
  return root.body;
}

const enc = new TextEncoder();

function mutateBytes(bytes) {
  const b = Array.from(bytes);
  for (let n = 1 + below(4); n > 0; n--) {
    switch (below(7)) {
      case 0: if (b.length) b[below(b.length)] ^= 1 << below(8); break;
      case 1: b.splice(below(b.length + 1), 0, pick([0x00, 0xff, 0xc3, 0xed, 0xa0, 0x22, 0x5c, 0x7b, 0x5b, 0x2c])); break;
      case 2: if (b.length) b.length = below(b.length); break;
      case 3: b.splice(below(b.length + 1), 0, ...enc.encode(pick(NUMBER_TEXT))); break;
      case 4: b.unshift(0xef, 0xbb, 0xbf); break;
      case 5: if (b.length) b.splice(below(b.length), 1 + below(8)); break;
      default: b.splice(below(b.length + 1), 0, ...enc.encode(pick(['"\\ud800"', '"\\u0000"', '{', '}', '[', ']', ',', ':', 'null', ' ']))); break;
    }
  }
  return new Uint8Array(b);
}

function mutatePath(path) {
  const parts = path.split('/');
  switch (below(6)) {
    case 0: parts[below(parts.length)] = pick(SEGMENTS); break;
    case 1: parts.splice(below(parts.length + 1), 0, pick(SEGMENTS)); break;
    case 2: if (parts.length > 1) parts.splice(1 + below(parts.length - 1), 1); break;
    case 3: return path + pick(['/', '//', '?x=1', '#f', '/%', '%2F..%2F']);
    case 4: return pick(SEEDS).path;
    default: parts[below(parts.length)] += pick(SEGMENTS);
  }
  return parts.join('/');
}

/** One request description: { method, path, headers, body (bytes or undefined), chunks, env }. */
function generate() {
  const seed = pick(SEEDS);
  const r = { method: seed.method, path: seed.path, headers: {}, body: undefined, chunks: 1 + below(4), env: {} };
  let json = seed.body;
  if (oneIn(4)) r.method = pick(METHODS);
  if (oneIn(4)) r.path = mutatePath(r.path);
  if (json !== undefined || oneIn(6)) {
    let text;
    try {
      for (let n = below(3); n >= 0; n--) if (!oneIn(3)) json = mutateJson(json);
      text = JSON.stringify(json ?? {}) ?? 'null';
    } catch {
      text = '{}'; // nested too deeply for this harness's own clone / stringify
    }
    if (oneIn(20)) {
      // Nesting far past any recursion limit, as text (JSON.stringify could not make it).
      const n = pick([129, 10000, 100000]);
      const [open, close] = pick([['[', ']'], ['{"must":[', ']}'], ['{"a":', '}']]);
      const inner = open.repeat(n) + '1' + close.repeat(n);
      text = pick([`{"filter":${inner},"vector":[1,2,3]}`, `{"vectors":[{"id":"a","vector":[1,2,3],"metadata":${inner}}]}`, inner]);
    }
    let bytes = enc.encode(text);
    if (oneIn(4)) bytes = mutateBytes(bytes);
    r.body = bytes;
  }
  // Auth: usually the right key, sometimes none or a wrong / oddly presented one.
  switch (below(10)) {
    case 0: break;
    case 1: r.headers.authorization = `Bearer ${KEY}x`; break;
    case 2: r.headers.authorization = `Basic ${KEY}`; r.headers['x-api-key'] = KEY; break;
    case 3: r.headers['x-api-key'] = ` ${KEY} `; break;
    case 4: r.headers.authorization = pick(['Bearer', 'Bearer ', 'bearer  ' + KEY, '\u00e9', 'Bearer ' + 'k'.repeat(10000)]); break;
    default: r.headers.authorization = `Bearer ${KEY}`;
  }
  if (oneIn(5)) {
    r.headers['content-length'] = pick(['0', '-1', '1e9', 'abc', '99999999999999999999', '4097', String(r.body?.length ?? 0), ' 5 ', '0x10']);
  }
  if (oneIn(6)) r.headers['content-type'] = pick(['text/plain', 'application/json; charset=latin1', '']);
  if (oneIn(8)) r.headers.origin = pick(['https://example.com', 'null']);
  r.env = { API_KEYS: pick([KEY, `${KEY},other`, ` ${KEY} ,`, `${KEY},`]) };
  if (oneIn(3)) r.env.MAX_BODY_BYTES = pick(['4096', '', '-1', 'abc', '1e3', '0', '100000']);
  if (oneIn(8)) r.env.CORS_ORIGINS = pick(['*', 'https://example.com', '']);
  r.inject = oneIn(4) ? 0.5 : 0;
  return r;
}

function maxBodyOf(env) {
  const v = env.MAX_BODY_BYTES;
  const n = Number(v);
  return v === undefined || v === null || v === '' || !Number.isFinite(n) || n < 0 ? 64 * 1024 * 1024 : n;
}

function makeRequest(r) {
  let body;
  if (r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD' && r.method.toUpperCase() !== 'GET' && r.method.toUpperCase() !== 'HEAD') {
    const bytes = r.body;
    const n = r.chunks;
    body = new ReadableStream({
      start(c) {
        const step = Math.max(1, Math.ceil(bytes.length / n));
        for (let i = 0; i < bytes.length; i += step) c.enqueue(bytes.slice(i, i + step));
        c.close();
      },
    });
  }
  return new Request(`http://worker.test${r.path.startsWith('/') ? '' : '/'}${r.path}`, {
    method: r.method,
    headers: r.headers,
    body,
    duplex: body ? 'half' : undefined,
  });
}

// ---------------------------------------------------------------- properties
class Finding extends Error {
  constructor(property, detail) {
    super(`${property}: ${detail}`);
    this.property = property;
  }
}
const fail = (property, detail) => {
  throw new Finding(property, detail);
};

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Finding('hang', `${what} did not settle in ${ms} ms`)), ms);
    }),
  ]);
}

async function checkHandle(app, r) {
  let request;
  try {
    request = makeRequest(r);
  } catch {
    return 'unsendable';
  }
  trace = { calls: [], args: [], injected: null, injectRate: r.inject };
  let response;
  // The Workers execution context: automatic compaction is handed to waitUntil after a write.
  const background = [];
  const executionCtx = { waitUntil: (p) => background.push(p) };
  try {
    response = await withTimeout(app(request, r.env, executionCtx), 5000, 'handle()');
    for (const p of background) {
      await withTimeout(
        Promise.resolve(p).catch((e) => fail('waitUntil task rejects', `${e?.name}: ${e?.message}`)),
        5000,
        'waitUntil task',
      );
    }
  } catch (e) {
    if (e instanceof Finding) throw e;
    fail('handle rejects', `${e?.name}: ${e?.message}`);
  }
  if (!(response instanceof Response)) fail('not a Response', String(response));
  const status = response.status;
  if (!(status >= 100 && status <= 599)) fail('bad status', String(status));
  const text = await withTimeout(response.text(), 5000, 'response body');
  const url = new URL(request.url);
  const authed = r.headers.authorization === `Bearer ${KEY}` && !r.headers['x-api-key'];
  const isPublic = url.pathname === '/health';
  // Protected routes never reach the engine without a valid key.
  const presented = [r.headers.authorization, r.headers['x-api-key']].filter(Boolean).join(' ');
  if (trace.calls.length && !isPublic && !presented.includes(KEY)) {
    fail('engine reached without a key', `${r.method} ${url.pathname} called ${trace.calls.join(',')}`);
  }
  if (status >= 400) {
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      if (r.method === 'HEAD' || r.method === 'OPTIONS') return `status ${status}`;
      fail('error body is not JSON', `${status} ${text.slice(0, 200)}`);
    }
    const code = body?.error?.code;
    if (typeof code !== 'string' || typeof body.error.message !== 'string') {
      fail('error shape', `${status} ${text.slice(0, 200)}`);
    }
    if (code === 'INTERNAL') fail('INTERNAL error (an uncoded exception escaped)', `${r.method} ${url.pathname}: ${body.error.message}`);
    if (!ENGINE_CODES.includes(code) && !WORKER_CODES.includes(code)) fail('undocumented code', `${code} (${status})`);
    if (!trace.injected && status >= 500 && code !== 'MISCONFIGURED') {
      fail('5xx without an engine failure', `${status} ${code} for ${r.method} ${url.pathname}: ${body.error.message}`);
    }
    if (trace.injected && ENGINE_CODES.includes(code) && code !== trace.injected && code !== 'INVALID_ARGUMENT' && code !== 'NOT_FOUND') {
      fail('engine code changed', `injected ${trace.injected}, answered ${code}`);
    }
    return `${status} ${code}`;
  }
  // A success: the body limit held and what reached the engine was validated.
  const max = maxBodyOf(r.env);
  if (r.body && r.body.length > max && trace.calls.some((c) => ['upsert', 'search', 'delete', 'createCollection'].includes(c))) {
    fail('body over the limit accepted', `${r.body.length} > ${max} for ${url.pathname}`);
  }
  for (const [name, a] of trace.args) {
    if (name === 'search') {
      const [vector, o] = a;
      if (!Array.isArray(vector)) fail('search vector not validated', typeof vector);
      if (!Number.isInteger(o.k) || o.k < 1 || o.k > MAX_K) fail('search k not validated', String(o.k));
      if (typeof o.includeMetadata !== 'boolean') fail('includeMetadata not validated', String(o.includeMetadata));
    }
    if (name === 'upsert' && (!Array.isArray(a[0]) || a[0].length === 0 || a[0].length > MAX_VECTORS)) {
      fail('upsert vectors not validated', `${Array.isArray(a[0]) ? a[0].length : typeof a[0]}`);
    }
    if (name === 'delete' && (!Array.isArray(a[0]) || !a[0].every((x) => typeof x === 'string') || a[0].length > MAX_VECTORS)) {
      fail('delete ids not validated', JSON.stringify(a[0])?.slice(0, 100));
    }
    if (name === 'createCollection' && (typeof a[0] !== 'string' || !Number.isInteger(a[1]?.dimension))) {
      fail('create not validated', JSON.stringify(a).slice(0, 100));
    }
    if (name === 'compact' && a[0] !== undefined && Object.keys(a[0]).some((k) => !['full', 'auto', 'maxInputBytes', 'maxRounds', 'gc'].includes(k))) {
      fail('compact options not validated', JSON.stringify(a[0])?.slice(0, 100));
    }
    if ((name === 'collection' || name === 'dropCollection' || name === 'collectGarbage') && typeof a[0] !== 'string') {
      fail('collection name not a string', typeof a[0]);
    }
  }
  return `${status}`;
}

async function checkMatch(path) {
  try {
    const m = match(path);
    if (m !== null && (!m.route || !Array.isArray(m.params) || typeof m.label !== 'string')) fail('match shape', JSON.stringify(m));
    if (m && m.params.some((p) => typeof p !== 'string' || p.length === 0)) fail('match params', JSON.stringify(m.params));
    return m ? 'match' : 'nomatch';
  } catch (e) {
    if (e instanceof Finding) throw e;
    if (!(e instanceof HttpError) || e.status !== 400) fail('match throws', `${e?.name}: ${e?.message}`);
    return 'match 400';
  }
}

async function checkReadJson(r) {
  const max = oneIn(2) ? 64 : 1 << 20;
  const bytes = r.body ?? new Uint8Array(0);
  const request = new Request('http://worker.test/x', {
    method: 'POST',
    headers: r.headers['content-length'] ? { 'content-length': r.headers['content-length'] } : {},
    body: oneIn(8) ? undefined : bytes,
  });
  try {
    const v = await withTimeout(readJson(request, max), 5000, 'readJson');
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('readJson result', typeof v);
    if (bytes.length > max) fail('readJson over the limit', `${bytes.length} > ${max}`);
    return 'read ok';
  } catch (e) {
    if (e instanceof Finding) throw e;
    if (!(e instanceof HttpError) || (e.status !== 400 && e.status !== 413)) fail('readJson throws', `${e?.name}: ${e?.message}`);
    return `read ${e.status}`;
  }
}

// ---------------------------------------------------------------- main loop
const origError = console.error;
const origWarn = console.warn;
console.error = () => {};
console.warn = () => {};
const app = createApp(StubAkiDB);
const findings = new Map();
const outcomes = new Map();
const SHOW_OUTCOMES = args.includes('--outcomes');
let execs = 0;
const start = Date.now();
const deadline = start + SECONDS * 1000;

function describe(r) {
  const body = r.body ? new TextDecoder().decode(r.body.slice(0, 2000)) : undefined;
  return { method: r.method, path: r.path.slice(0, 2000), headers: r.headers, env: r.env, chunks: r.chunks, inject: r.inject, body };
}

while (execs < ITERATIONS && Date.now() < deadline) {
  const r = generate();
  for (const check of [() => checkHandle(app, r), () => checkMatch(r.path), () => checkReadJson(r)]) {
    execs++;
    try {
      const outcome = await check();
      if (SHOW_OUTCOMES) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    } catch (e) {
      const property = e instanceof Finding ? e.property : `harness: ${e?.message}`;
      const entry = findings.get(property) ?? { count: 0, message: e.message, request: describe(r) };
      entry.count++;
      findings.set(property, entry);
    }
  }
}
console.error = origError;
console.warn = origWarn;

const secs = (Date.now() - start) / 1000;
const note = findings.size ? [...findings.keys()].join('|').replace(/\s+/g, '_').slice(0, 200) : 'none';
console.log(`target=rest execs=${execs} secs=${secs.toFixed(1)} execs_per_sec=${Math.round(execs / secs)} crashes=${findings.size} seed=${SEED} note=${note}`);
for (const [property, f] of findings) {
  if (!QUIET) console.log(`crash at ${property} (${f.count} hits): ${f.message.slice(0, 300)}\n  request: ${JSON.stringify(f.request).slice(0, 600)}`);
  if (CRASH_DIR) {
    mkdirSync(CRASH_DIR, { recursive: true });
    const name = property.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    writeFileSync(join(CRASH_DIR, `${name}.json`), JSON.stringify({ property, message: f.message, hits: f.count, request: f.request }, null, 2));
  }
}
if (SHOW_OUTCOMES) for (const [o, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(8)} ${o}`);
process.exitCode = findings.size ? 1 : 0;
