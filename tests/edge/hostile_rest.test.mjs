// Hostile input through the REST worker on workerd (issue 12): a battery of bad requests —
// oversized bodies (declared and streamed), too many vectors or ids, deep metadata, a filter
// nested 100,000 levels, filters with hundreds of thousands of conditions, non-finite numbers,
// bad names, k out of range, wrong vector lengths, bad JSON — each answered with its documented
// status and code, nothing committed (version, names, search results unchanged), no error body
// naming the key prefix or an object key; a stream of hostile requests interleaved with good
// ones, every good one served by the same workerd process and the same isolate (its id and
// request counter on /health). Then API keys (both headers honoured, scopes → 403) and opt-in
// CORS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { s3Env, freshPrefix } from './lib/env.mjs';
import { startWorkerd } from './lib/procs.mjs';
import { client } from './lib/rest.mjs';

const KEY = 'hostile-key-0123456789';
const PREFIX = freshPrefix('hostile');
const MiB = 1024 * 1024;
let server;
let call;

before(async () => {
  server = await startWorkerd({
    s3: s3Env(),
    prefix: PREFIX,
    apiKeys: `${KEY},reader-key:read,writer-key:write:docs|extra,admin-key:admin,odd:key:with:colons`,
    logFile: join(process.env.LOG_DIR ?? '/tmp', 'workerd-hostile.log'),
  });
  call = client(server.url, KEY);
});

after(async () => {
  await server?.stop();
});

/** Raw request (any body bytes and headers) → { status, text, body, headers }; never throws on HTTP errors. */
async function raw(method, path, { body, headers = {}, key = KEY, base = server.url } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  const init = { method, headers: h, body, signal: AbortSignal.timeout(120000) };
  if (body && typeof body.getReader === 'function') init.duplex = 'half';
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, text, body: parsed, headers: res.headers };
}

/** An error body names neither the store's key prefix nor an object key. */
function assertNoKeys(text, what) {
  assert.ok(!text.includes(PREFIX), `${what}: body names the prefix: ${text.slice(0, 300)}`);
  assert.ok(!text.includes(PREFIX.replace(/\/$/, '')), `${what}: body names the prefix: ${text.slice(0, 300)}`);
  assert.ok(!/collections\/[^"' ]*\/(manifest|segments)|\.seg\b|manifest\.json/.test(text), `${what}: body names an object key: ${text.slice(0, 300)}`);
}

async function health() {
  const r = await raw('GET', '/health', { key: null });
  assert.equal(r.status, 200);
  return r.body;
}

/** What must not change: version, segments, names, and exact search results with metadata. */
async function state() {
  const info = await call('GET', '/collections/docs');
  const list = await call('GET', '/collections');
  const hits = await call('POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: 100, includeMetadata: true });
  assert.equal(hits.status, 200, JSON.stringify(hits.body));
  return { info: info.body, names: list.body.collections.map((c) => c.name).sort(), hits: hits.body.results };
}

const deep = (levels) => {
  let v = { leaf: 1 };
  for (let i = 0; i < levels; i++) v = { d: v };
  return v;
};

/** Bad requests: [what, method, path, body (object, or { raw } bytes/string), status, code, message pattern]. */
function battery() {
  const rec = (over) => ({ vectors: [{ id: 'bad', vector: [1, 2, 3, 4], ...over }] });
  const deepFilter = (n) => '{"must":['.repeat(n) + '{"key":"a","match":1}' + ']}'.repeat(n);
  return [
    ['more than 10,000 vectors', 'POST', '/collections/docs/vectors', { vectors: Array.from({ length: 10001 }, (_, i) => ({ id: `v${i}`, vector: [1, 0, 0, 0] })) }, 413, 'PAYLOAD_TOO_LARGE', /10000 vectors per request/],
    ['more than 10,000 ids', 'POST', '/collections/docs/delete', { ids: Array.from({ length: 10001 }, (_, i) => `v${i}`) }, 413, 'PAYLOAD_TOO_LARGE', /10000 ids per request/],
    ['metadata 200 levels deep', 'POST', '/collections/docs/vectors', rec({ metadata: deep(200) }), 400, 'INVALID_ARGUMENT', /deep|depth|levels|nest/i],
    ['metadata 33 levels deep', 'POST', '/collections/docs/vectors', rec({ metadata: deep(33) }), 400, 'INVALID_ARGUMENT', /deep|depth|levels|nest/i],
    ['metadata over 64 KiB', 'POST', '/collections/docs/vectors', rec({ metadata: { s: 'x'.repeat(70000) } }), 400, 'INVALID_ARGUMENT', /KiB|bytes|size|large/i],
    ['filter nested 100,000 levels', 'POST', '/collections/docs/search', { raw: `{"vector":[1,0,0,0],"filter":${deepFilter(100000)}}` }, 400, 'INVALID_ARGUMENT', /./],
    ['filter nested 40 levels', 'POST', '/collections/docs/search', { raw: `{"vector":[1,0,0,0],"filter":${deepFilter(40)}}` }, 400, 'INVALID_ARGUMENT', /nest|deep|depth|levels/i],
    ['filter with 700,000 conditions (15 MB)', 'POST', '/collections/docs/search', { raw: `{"vector":[1,0,0,0],"filter":{"should":[${Array(700000).fill('{"key":"a","match":1}').join(',')}]}}` }, 400, 'INVALID_ARGUMENT', /./],
    ['filter with 2,000 conditions', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], filter: { should: Array.from({ length: 2000 }, () => ({ key: 'a', match: 1 })) } }, 400, 'INVALID_ARGUMENT', /1024|1,024|conditions/],
    ['any list of 1,000,000 values', 'POST', '/collections/docs/search', { raw: `{"vector":[1,0,0,0],"filter":{"must":[{"key":"a","match":{"any":[${Array(1000000).fill(0).join(',')}]}}]}}` }, 400, 'INVALID_ARGUMENT', /./],
    ['NaN literal', 'POST', '/collections/docs/vectors', { raw: '{"vectors":[{"id":"n","vector":[NaN,0,0,0]}]}' }, 400, 'INVALID_ARGUMENT', /not valid JSON/],
    ['Infinity literal', 'POST', '/collections/docs/search', { raw: '{"vector":[Infinity,0,0,0]}' }, 400, 'INVALID_ARGUMENT', /not valid JSON/],
    ['1e400 in a vector', 'POST', '/collections/docs/vectors', { raw: '{"vectors":[{"id":"n","vector":[1e400,0,0,0]}]}' }, 400, 'INVALID_ARGUMENT', /finite|NaN|infin/i],
    ['1e400 in a query', 'POST', '/collections/docs/search', { raw: '{"vector":[1e400,0,0,0]}' }, 400, 'INVALID_ARGUMENT', /finite|NaN|infin/i],
    ['prune that is not a boolean', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], mode: 'ann', prune: 'yes' }, 400, 'INVALID_ARGUMENT', /prune/],
    ['1e400 in metadata', 'POST', '/collections/docs/vectors', { raw: '{"vectors":[{"id":"n","vector":[1,0,0,0],"metadata":{"x":1e400}}]}' }, 400, 'INVALID_ARGUMENT', /finite|number|infin/i],
    ['string in a vector', 'POST', '/collections/docs/vectors', rec({ vector: [1, '2', 3, 4] }), 400, 'INVALID_ARGUMENT', /./],
    ["collection name '.'", 'POST', '/collections', { name: '.', dimension: 4 }, 400, 'INVALID_ARGUMENT', /name/],
    ["collection name '..'", 'POST', '/collections', { name: '..', dimension: 4 }, 400, 'INVALID_ARGUMENT', /name/],
    ['collection name with /', 'POST', '/collections', { name: 'a/b', dimension: 4 }, 400, 'INVALID_ARGUMENT', /name/],
    ['empty collection name', 'POST', '/collections', { name: '', dimension: 4 }, 400, 'INVALID_ARGUMENT', /name/],
    ['collection name of 200 bytes', 'POST', '/collections', { name: 'n'.repeat(200), dimension: 4 }, 400, 'INVALID_ARGUMENT', /name|128/],
    ['collection name with a control character', 'POST', '/collections', { name: 'a\u0001b', dimension: 4 }, 400, 'INVALID_ARGUMENT', /name|control/],
    ['dimension 0', 'POST', '/collections', { name: 'dim0', dimension: 0 }, 400, 'INVALID_ARGUMENT', /dimension/],
    ['dimension 5000', 'POST', '/collections', { name: 'dim5000', dimension: 5000 }, 400, 'INVALID_ARGUMENT', /dimension|4096|4,096/],
    ['record id of 2,000 bytes', 'POST', '/collections/docs/vectors', { vectors: [{ id: 'i'.repeat(2000), vector: [1, 0, 0, 0] }] }, 400, 'INVALID_ARGUMENT', /id/],
    ['empty record id', 'POST', '/collections/docs/vectors', { vectors: [{ id: '', vector: [1, 0, 0, 0] }] }, 400, 'INVALID_ARGUMENT', /id/],
    ['k = 0', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: 0 }, 400, 'INVALID_ARGUMENT', /k must be/],
    ['k = 10,001', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: 10001 }, 400, 'INVALID_ARGUMENT', /k must be/],
    ['k = 1.5', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: 1.5 }, 400, 'INVALID_ARGUMENT', /k must be/],
    ["k = '5'", 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: '5' }, 400, 'INVALID_ARGUMENT', /k must be/],
    ['record vector of 3 numbers (dimension 4)', 'POST', '/collections/docs/vectors', { vectors: [{ id: 'w', vector: [1, 0, 0] }] }, 400, 'INVALID_ARGUMENT', /dimension/],
    ['query of 5 numbers (dimension 4)', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0, 0] }, 400, 'INVALID_ARGUMENT', /dimension/],
    ['empty query', 'POST', '/collections/docs/search', { vector: [] }, 400, 'INVALID_ARGUMENT', /./],
    ['record vector of 100,000 numbers', 'POST', '/collections/docs/vectors', { vectors: [{ id: 'w', vector: Array(100000).fill(0) }] }, 400, 'INVALID_ARGUMENT', /vector length limit is 4096/],
    ['query of 1,000,000 numbers', 'POST', '/collections/docs/search', { raw: `{"vector":[${Array(1000000).fill(0).join(',')}]}` }, 400, 'INVALID_ARGUMENT', /vector length limit is 4096/],
    ['zero vector under cosine', 'POST', '/collections/docs/vectors', { vectors: [{ id: 'z', vector: [0, 0, 0, 0] }] }, 400, 'INVALID_ARGUMENT', /zero|norm/i],
    ['vectors not an array', 'POST', '/collections/docs/vectors', { vectors: { 0: 1 } }, 400, 'INVALID_ARGUMENT', /vectors must be/],
    ['a record that is not an object', 'POST', '/collections/docs/vectors', { vectors: [7] }, 400, 'INVALID_ARGUMENT', /vectors\[0\]/],
    ['empty vectors', 'POST', '/collections/docs/vectors', { vectors: [] }, 400, 'INVALID_ARGUMENT', /empty/],
    ['duplicate ids in one batch', 'POST', '/collections/docs/vectors', { vectors: [{ id: 'd', vector: [1, 0, 0, 0] }, { id: 'd', vector: [0, 1, 0, 0] }] }, 400, 'INVALID_ARGUMENT', /duplicate|twice/i],
    ['ids that are not strings', 'POST', '/collections/docs/delete', { ids: [1, 2] }, 400, 'INVALID_ARGUMENT', /ids must be/],
    ['truncated JSON', 'POST', '/collections/docs/vectors', { raw: '{"vectors": [' }, 400, 'INVALID_ARGUMENT', /not valid JSON/],
    ['JSON array body', 'POST', '/collections/docs/search', { raw: '[1,2]' }, 400, 'INVALID_ARGUMENT', /JSON object/],
    ['JSON null body', 'POST', '/collections/docs/search', { raw: 'null' }, 400, 'INVALID_ARGUMENT', /JSON object/],
    ['empty body', 'POST', '/collections/docs/search', { raw: '' }, 400, 'INVALID_ARGUMENT', /./],
    ['invalid UTF-8', 'POST', '/collections/docs/search', { raw: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) }, 400, 'INVALID_ARGUMENT', /UTF-8/],
    ['a filter that is not an object', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], filter: 'all' }, 400, 'INVALID_ARGUMENT', /filter/],
    ['an unknown filter clause', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], filter: { maybe: [] } }, 400, 'INVALID_ARGUMENT', /./],
    ['__proto__ keys', 'POST', '/collections/docs/search', { raw: '{"vector":[1,0,0,0],"__proto__":{"k":0},"filter":{"must":[{"key":"__proto__","match":{"constructor":1}}]}}' }, 400, 'INVALID_ARGUMENT', /./],
    ['includeMetadata not a boolean', 'POST', '/collections/docs/search', { vector: [1, 0, 0, 0], includeMetadata: 'yes' }, 400, 'INVALID_ARGUMENT', /includeMetadata/],
    ['bad operation id', 'GET', '/collections/docs/operations/..%2F..%2Fmanifest', undefined, 400, 'INVALID_ARGUMENT', /./],
    ['seal of a segment id that is a path', 'POST', '/collections/docs/segments/..%2F..%2Fx/seal', undefined, 400, 'INVALID_ARGUMENT', /UUID/],
    ['unknown collection', 'POST', '/collections/nope/search', { vector: [1, 0, 0, 0] }, 404, 'NOT_FOUND', /nope/],
    ['compact with an unknown option', 'POST', '/collections/docs/compact', { everything: true }, 400, 'INVALID_ARGUMENT', /unknown field/],
    ['body over MAX_BODY_BYTES (17 MiB, Content-Length)', 'POST', '/collections/docs/vectors', { raw: `{"vectors":[],"pad":"${'x'.repeat(17 * MiB)}"}` }, 413, 'PAYLOAD_TOO_LARGE', /MAX_BODY_BYTES/],
  ];
}

/**
 * Sends a battery case. A body over MAX_BODY_BYTES is refused from its Content-Length without
 * being read: the client sees the 413, or — when workerd closes the connection while the client
 * is still sending — a failed send (`{ cut }`), which is as good.
 */
async function send([what, method, path, body, status]) {
  try {
    if (body && Object.hasOwn(body, 'raw')) return await raw(method, path, { body: body.raw, headers: { 'content-type': 'application/json' } });
    return await raw(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' } });
  } catch (e) {
    if (status === 413 && /MAX_BODY_BYTES/.test(what)) return { cut: e };
    throw e;
  }
}

function checkAnswer(c, r) {
  const [what, , , , status, code, pattern] = c;
  if (r.cut) return;
  assert.equal(r.status, status, `${what}: ${r.text.slice(0, 300)}`);
  assert.equal(r.body?.error?.code, code, `${what}: ${r.text.slice(0, 300)}`);
  assert.match(r.body.error.message, pattern, what);
  assertNoKeys(r.text, what);
}

/** A body streamed in chunks, without Content-Length: `total` bytes of a JSON string. */
function streamedBody(total) {
  let sent = 0;
  const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
  return new ReadableStream({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('{"pad":"'));
      if (sent >= total) {
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
}

test('bad-input battery: documented status and code, nothing committed, no keys or prefix in any body, same isolate', async () => {
  assert.equal((await call('POST', '/collections', { name: 'docs', dimension: 4, distance: 'cosine' })).status, 201);
  let r = await call('POST', '/collections/docs/vectors', {
    vectors: [
      { id: 'a', vector: [1, 0, 0, 0], metadata: { tag: 'x', n: 1, nested: { deep: [1, 2, { k: 'v' }] } } },
      { id: 'b', vector: [0, 1, 0, 0], metadata: { tag: 'y', n: 2 } },
      { id: 'c', vector: [1, 1, 0, 0], metadata: { tag: 'x', n: 3 } },
    ],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const before = await state();
  assert.equal(before.info.version, 2);
  const pid = server.child.pid;
  const h0 = await health();

  for (const c of battery()) {
    const t = Date.now();
    const answer = await send(c);
    checkAnswer(c, answer);
    const ms = Date.now() - t;
    if (ms > 300 || c[6].source === '.') console.log(`  ${c[0]}: ${answer.cut ? `send cut off (${answer.cut.cause?.code ?? answer.cut.message})` : `${answer.status}: ${answer.body.error.message.slice(0, 140)}`} in ${ms} ms`);
  }

  // Streamed without Content-Length: cut off once past the limit (the worker cancels the stream).
  // The client may see the 413 or, when the server stops reading, a reset connection.
  let streamed;
  try {
    streamed = await raw('POST', '/collections/docs/vectors', { body: streamedBody(20 * MiB), headers: { 'content-type': 'application/json' } });
  } catch (e) {
    streamed = { error: e };
  }
  console.log(`  streamed 20 MiB body: ${streamed.error ? `connection ended (${streamed.error.cause?.code ?? streamed.error.message})` : `${streamed.status} ${streamed.body?.error?.code}`}`);
  if (!streamed.error) checkAnswer(['streamed 20 MiB body', '', '', '', 413, 'PAYLOAD_TOO_LARGE', /MAX_BODY_BYTES/], streamed);
  // Just under the limit, streamed: read and parsed (a body with no vectors field is a 400).
  r = await raw('POST', '/collections/docs/vectors', { body: streamedBody(15 * MiB), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400, r.text.slice(0, 300));
  assert.match(r.body.error.message, /vectors must be/);

  assert.deepEqual(await state(), before, 'no bad request changed the collection');
  const h1 = await health();
  assert.equal(h1.instance, h0.instance, 'the same isolate served every request');
  assert.ok(h1.requests > h0.requests + battery().length, `${h0.requests} -> ${h1.requests}`);
  assert.equal(server.child.pid, pid);
  assert.equal(server.child.exitCode, null, 'workerd is still running');
  // The isolate still answers a normal search and takes a normal write.
  r = await call('POST', '/collections/docs/search', { vector: [1, 0.1, 0, 0], k: 1 });
  assert.deepEqual(r.body.results.map((h) => h.id), ['a']);
});

test('a stream of hostile requests interleaved with good ones: every good one succeeds, no restart', async () => {
  const pid = server.child.pid;
  const h0 = await health();
  const hostile = battery().filter((c) => !/700,000|1,000,000|17 MiB|100,000 levels/.test(c[0]));
  const heavy = battery().filter((c) => /700,000|1,000,000|17 MiB|100,000 levels/.test(c[0]));
  let good = 0;
  let version = (await call('GET', '/collections/docs')).body.version;
  for (let i = 0; i < 60; i++) {
    const c = i % 10 === 9 ? heavy[(i / 10) % heavy.length | 0] : hostile[(i * 7) % hostile.length];
    // A hostile request and a good write and search at the same time.
    const [bad, w, s] = await Promise.all([
      send(c),
      call('POST', '/collections/docs/vectors', { vectors: [{ id: `good${i}`, vector: [1, i + 1, 0, 0], metadata: { i } }] }),
      call('POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: 3, filter: { must: [{ key: 'tag', match: 'x' }] } }),
    ]);
    if (c[5] === 'INVALID_ARGUMENT' || c[5] === 'PAYLOAD_TOO_LARGE' || c[5] === 'NOT_FOUND') checkAnswer(c, bad);
    assert.equal(w.status, 200, `good write ${i}: ${JSON.stringify(w.body)}`);
    assert.ok(w.body.version > version, `version ${w.body.version} after ${version}`);
    version = w.body.version;
    assert.equal(s.status, 200, `good search ${i}: ${JSON.stringify(s.body)}`);
    assert.deepEqual(s.body.results.map((h) => h.id).sort(), ['a', 'c']);
    good += 2;
  }
  const r = await call('POST', '/collections/docs/search', { vector: [1, 0, 0, 0], k: 100 });
  for (let i = 0; i < 60; i++) assert.ok(r.body.results.some((h) => h.id === `good${i}`), `good${i} is stored`);
  const h1 = await health();
  assert.equal(h1.instance, h0.instance, 'same isolate');
  assert.ok(h1.requests >= h0.requests + 180, `${h0.requests} -> ${h1.requests}`);
  assert.equal(server.child.pid, pid, 'same workerd process');
  assert.equal(server.child.exitCode, null);
  console.log(`  ${good} good requests among 60 hostile ones, isolate ${h1.instance} served ${h1.requests - h0.requests} requests`);
});

test('API keys: Authorization and X-API-Key are both honoured; scoped keys get 403 out of scope', async () => {
  const get = (headers) => raw('GET', '/collections', { key: null, headers });
  assert.equal((await get({ authorization: 'Bearer wrong', 'x-api-key': KEY })).status, 200, 'wrong Bearer + right X-API-Key');
  assert.equal((await get({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': KEY })).status, 200, 'Basic + right X-API-Key');
  assert.equal((await get({ authorization: `Bearer ${KEY}`, 'x-api-key': 'wrong' })).status, 200, 'right Bearer + wrong X-API-Key');
  assert.equal((await get({ authorization: 'odd:key:with:colons' })).status, 401, 'not a Bearer header');
  assert.equal((await get({ 'x-api-key': 'odd:key:with:colons' })).status, 200, 'a key containing colons is a plain key');
  for (const headers of [{ authorization: 'Bearer wrong', 'x-api-key': 'wrong' }, { authorization: 'Basic x' }, {}, { 'x-api-key': '' }]) {
    const r = await get(headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.body.error.code, 'UNAUTHENTICATED');
    assert.ok(!r.text.includes(KEY));
  }
  assert.equal((await get({ 'x-api-key': 'reader-key:read' })).status, 401, 'the scope is not part of the key');

  const as = (key) => (method, path, body) => raw(method, path, { key, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const forbidden = (r, what) => {
    assert.equal(r.status, 403, `${what}: ${r.text}`);
    assert.equal(r.body.error.code, 'FORBIDDEN', what);
  };
  const reader = as('reader-key');
  assert.equal((await reader('GET', '/collections')).status, 200);
  assert.equal((await reader('GET', '/collections/docs')).status, 200);
  assert.equal((await reader('POST', '/collections/docs/search', { vector: [1, 0, 0, 0] })).status, 200);
  forbidden(await reader('POST', '/collections/docs/vectors', { vectors: [{ id: 'r', vector: [1, 0, 0, 0] }] }), 'reader upserts');
  forbidden(await reader('POST', '/collections/docs/delete', { ids: ['a'] }), 'reader deletes');
  forbidden(await reader('POST', '/collections/docs/compact'), 'reader compacts');
  forbidden(await reader('POST', '/collections', { name: 'r', dimension: 2 }), 'reader creates');
  forbidden(await reader('GET', '/metrics'), 'reader reads metrics');

  const writer = as('writer-key');
  const version = (await call('GET', '/collections/docs')).body.version;
  let r = await writer('POST', '/collections/docs/vectors', { vectors: [{ id: 'w', vector: [0, 0, 1, 0] }] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.version, version + 1);
  assert.equal((await writer('POST', '/collections/docs/search', { vector: [1, 0, 0, 0] })).status, 200, 'write includes read');
  assert.equal((await writer('POST', '/collections/docs/delete', { ids: ['w'] })).status, 200);
  forbidden(await writer('POST', '/collections/docs/gc'), 'writer runs GC');
  forbidden(await writer('DELETE', '/collections/docs'), 'writer drops');
  forbidden(await writer('POST', '/collections', { name: 'extra', dimension: 2 }), 'writer creates');
  assert.equal((await call('POST', '/collections', { name: 'other', dimension: 2 })).status, 201);
  forbidden(await writer('POST', '/collections/other/search', { vector: [1, 0] }), 'writer outside its collections');
  forbidden(await writer('GET', '/collections/other'), 'writer reads another collection');
  assert.deepEqual((await writer('GET', '/collections')).body.collections.map((c) => c.name), ['docs'], 'listing shows only allowed collections');

  const admin = as('admin-key');
  assert.equal((await admin('GET', '/metrics')).status, 200);
  assert.equal((await admin('POST', '/collections', { name: 'tmp', dimension: 2 })).status, 201);
  assert.equal((await admin('POST', '/collections/tmp/vectors', { vectors: [{ id: 'x', vector: [1, 0] }] })).status, 200);
  assert.equal((await admin('POST', '/collections/tmp/gc')).status, 200);
  assert.equal((await admin('DELETE', '/collections/tmp')).status, 200);
  assert.equal((await admin('DELETE', '/collections/other')).status, 200);
  // Without a key a scope check never runs: 401 before 403.
  assert.equal((await as(null)('POST', '/collections/docs/vectors', { vectors: [] })).status, 401);
});

test('CORS: off by default (OPTIONS 405, no headers); CORS_ORIGINS answers preflights for allowed origins and labels responses; MAX_BODY_BYTES', async () => {
  const origin = 'https://app.example';
  let r = await raw('OPTIONS', '/collections/docs/search', { key: null, headers: { origin, 'access-control-request-method': 'POST' } });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  r = await raw('GET', '/collections', { headers: { origin } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), null, 'no CORS headers when CORS_ORIGINS is unset');
  assert.equal(r.headers.get('vary'), null);

  for (const setting of [`${origin}, http://localhost:5173`, '*']) {
    const cors = await startWorkerd({
      s3: s3Env(),
      prefix: PREFIX,
      apiKeys: KEY,
      // A small body limit too: small bodies are sent whole, so the 413 always arrives.
      env: { AKIDB_CORS_ORIGINS: setting, AKIDB_MAX_BODY_BYTES: '4096' },
      logFile: join(process.env.LOG_DIR ?? '/tmp', 'workerd-hostile-cors.log'),
    });
    const wild = setting === '*';
    try {
      const base = cors.url;
      r = await raw('OPTIONS', '/collections/docs/search', {
        base,
        key: null,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.equal(r.status, 204, r.text);
      assert.equal(r.headers.get('access-control-allow-origin'), wild ? '*' : origin);
      assert.match(r.headers.get('access-control-allow-methods'), /POST/);
      for (const h of ['authorization', 'x-api-key', 'content-type']) assert.match(r.headers.get('access-control-allow-headers'), new RegExp(h));
      assert.ok(Number(r.headers.get('access-control-max-age')) > 0);
      if (!wild) assert.match(r.headers.get('vary'), /Origin/);

      r = await raw('OPTIONS', '/collections/docs/search', { base, key: null, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      if (wild) assert.equal(r.status, 204);
      else {
        assert.equal(r.status, 403, 'a preflight from another origin is refused');
        assert.equal(r.body.error.code, 'FORBIDDEN');
        assert.equal(r.headers.get('access-control-allow-origin'), null);
      }
      r = await raw('POST', '/collections/docs/search', { base, body: `{"vector":[1,0,0,0],"pad":"${'x'.repeat(4100)}"}`, headers: { origin } });
      assert.equal(r.status, 413, r.text);
      assert.equal(r.body.error.code, 'PAYLOAD_TOO_LARGE');
      assert.match(r.body.error.message, /MAX_BODY_BYTES \(4096 bytes\)/);
      assert.equal(r.headers.get('access-control-allow-origin'), wild ? '*' : origin);
      r = await raw('POST', '/collections/docs/search', { base, body: `{"vector":[1,0,0,0],"pad":"${'x'.repeat(4000)}"}`, headers: { origin } });
      assert.equal(r.status, 200, 'a body under the limit is read');
      r = await raw('OPTIONS', '/nowhere', { base, key: null, headers: { origin, 'access-control-request-method': 'GET' } });
      assert.equal(r.status, 404);

      r = await raw('POST', '/collections/docs/search', { base, body: JSON.stringify({ vector: [1, 0, 0, 0], k: 1 }), headers: { origin, 'content-type': 'application/json' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('access-control-allow-origin'), wild ? '*' : origin);
      assert.match(r.headers.get('access-control-expose-headers'), /retry-after/);
      r = await raw('GET', '/collections', { base, key: 'wrong', headers: { origin } });
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('access-control-allow-origin'), wild ? '*' : origin, 'errors are readable cross-origin too');
      r = await raw('GET', '/collections', { base, headers: { origin: 'https://evil.example' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), wild ? '*' : null);
      if (!wild) assert.match(r.headers.get('vary'), /Origin/);
    } finally {
      await cors.stop();
    }
  }
});

test('storage failures: generic messages (AUTH 502, STORAGE 503), the detail only in the log', async () => {
  const { readFileSync } = await import('node:fs');
  const { freePort } = await import('./lib/procs.mjs');
  const cases = [
    ['AUTH', 502, { ...s3Env(), secretAccessKey: 'wrong-secret' }, /credentials/],
    ['STORAGE', 503, { ...s3Env(), endpoint: `http://127.0.0.1:${await freePort()}` }, /storage temporarily unavailable/],
  ];
  for (const [code, status, s3, pattern] of cases) {
    const logFile = join(process.env.LOG_DIR ?? '/tmp', `workerd-hostile-${code}.log`);
    const bad = await startWorkerd({
      s3,
      prefix: PREFIX,
      apiKeys: KEY,
      env: { AKIDB_RETRY_MAX_RETRIES: '1', AKIDB_RETRY_MAX_ELAPSED_MS: '500' },
      logFile,
    });
    try {
      for (const [method, path, body] of [
        ['GET', '/collections/docs', undefined],
        ['POST', '/collections/docs/search', { vector: [1, 0, 0, 0] }],
        ['POST', '/collections', { name: 'n', dimension: 2 }],
        ['GET', '/collections', undefined],
      ]) {
        const r = await raw(method, path, { base: bad.url, body: body && JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, status, `${code} ${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, code);
        assert.match(r.body.error.message, pattern);
        assertNoKeys(r.text, `${code} ${method} ${path}`);
      }
    } finally {
      await bad.stop();
    }
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, new RegExp(`${status} ${code} `), 'the detail is logged');
  }
});
