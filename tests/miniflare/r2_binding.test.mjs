// The 'r2' store on Miniflare's R2 simulation (workerd + a local R2): the KV conformance suite
// through the real binding (1,100 keys: two list pages; 16 racing writers), a negative control
// (the same binding behind a check-then-write wrapper must fail it), and what we rely on from
// the binding under concurrency, measured directly: racing conditional puts have exactly one
// winner, CAS counters lose no increment — within one instance, and across three instances
// sharing one persisted bucket (where Miniflare's SQLite also throws "database is locked"
// errors, which a writer must treat as failures, not as outcomes). Needs pkg/ built.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runtimeLog, start } from './lib/mf.mjs';

const SCRIPT = `import { runConformance } from 'akidb';

// The binding behind a wrapper whose conditional puts check with head(), wait, then write
// unconditionally: correct alone, broken under concurrency.
function checkThenWrite(b) {
  return {
    get: (k, o) => b.get(k, o),
    delete: (k) => b.delete(k),
    list: (o) => b.list(o),
    async put(k, v, o) {
      const c = o?.onlyIf;
      if (c) {
        const cur = await b.head(k);
        if (c.etagMatches !== undefined && (!cur || cur.etag !== c.etagMatches)) return null;
        if (c.etagDoesNotMatch === '*' && cur) return null;
        await new Promise((r) => setTimeout(r, 2));
      }
      return b.put(k, v);
    },
  };
}

async function counter(b, key, rounds) {
  let done = 0, lost = 0, readErrors = 0, putErrors = 0;
  while (done < rounds) {
    let cur, v;
    try {
      cur = await b.get(key);
      v = cur ? Number(await cur.text()) : 0;
    } catch { readErrors++; continue; }
    const onlyIf = cur ? { etagMatches: cur.etag } : { etagDoesNotMatch: '*' };
    let r;
    try { r = await b.put(key, String(v + 1), { onlyIf }); } catch { putErrors++; continue; }
    if (r) done++; else lost++;
  }
  return { done, lost, readErrors, putErrors };
}

export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const n = Number(u.searchParams.get('n') || 0);
    switch (u.pathname) {
      case '/conformance':
        return Response.json(await runConformance({ store: 'r2', bucket: env.BUCKET, manyKeys: 1100, concurrency: 16 }));
      case '/conformance-broken':
        return Response.json(await runConformance({ store: 'r2', bucket: checkThenWrite(env.BUCKET), concurrency: 8 }));
      case '/race': {
        const key = 'race/' + crypto.randomUUID();
        const base = await env.BUCKET.put(key, 'base');
        const cas = await Promise.all(Array.from({ length: n }, (_, i) => env.BUCKET.put(key, 'w' + i, { onlyIf: { etagMatches: base.etag } })));
        const fresh = 'race/' + crypto.randomUUID();
        const create = await Promise.all(Array.from({ length: n }, (_, i) => env.BUCKET.put(fresh, 'w' + i, { onlyIf: { etagDoesNotMatch: '*' } })));
        return Response.json({ cas: cas.filter(Boolean).length, create: create.filter(Boolean).length });
      }
      case '/counter':
        return Response.json(await counter(env.BUCKET, u.searchParams.get('key'), n));
      case '/read': {
        const o = await env.BUCKET.get(u.searchParams.get('key'));
        return new Response(o ? await o.text() : '');
      }
    }
    return new Response('no such route', { status: 404 });
  },
};
`;

const instances = [];
const dirs = [];
after(async () => {
  await Promise.all(instances.map((m) => m.dispose()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function get(mf, url) {
  const res = await mf.dispatchFetch(`http://localhost${url}`);
  assert.equal(res.status, 200, url);
  return url.startsWith('/read') ? res.text() : res.json();
}

test('the KV conformance suite passes through the R2 binding (two list pages, 16 racing writers)', async () => {
  const mf = await start({ script: SCRIPT });
  instances.push(mf);
  const r = await get(mf, '/conformance');
  assert.equal(r.ok, true, r.failure);
  const left = await (await mf.getR2Bucket('BUCKET')).list();
  assert.equal(left.objects.length, 0, 'the suite cleaned up');
});

test('negative control: the suite fails when the binding sits behind a check-then-write wrapper', async () => {
  const mf = await start({ script: SCRIPT });
  instances.push(mf);
  const r = await get(mf, '/conformance-broken');
  assert.equal(r.ok, false);
  assert.match(r.failure, /^concurrent_conditional_puts: /);
});

test('Miniflare R2: racing conditional puts have one winner; CAS counters from 8 requests lose nothing', async () => {
  const mf = await start({ script: SCRIPT });
  instances.push(mf);
  for (let round = 0; round < 5; round++) {
    assert.deepEqual(await get(mf, '/race?n=32'), { cas: 1, create: 1 }, `round ${round}`);
  }
  const runs = await Promise.all(Array.from({ length: 8 }, () => get(mf, '/counter?key=c1&n=10')));
  assert.equal(await get(mf, '/read?key=c1'), '80');
  assert.ok(runs.some((r) => r.lost > 0), 'the writers did contend');
});

test('Miniflare R2, 3 instances on one persisted bucket: no lost increment; lock errors are thrown, never applied', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'akidb-r2-'));
  dirs.push(dir);
  const mfs = await Promise.all([0, 1, 2].map(() => start({ script: SCRIPT, r2Persist: dir })));
  instances.push(...mfs);
  const runs = await Promise.all(mfs.flatMap((m) => [0, 1, 2].map(() => get(m, '/counter?key=c3&n=10'))));
  const done = runs.reduce((s, r) => s + r.done, 0);
  assert.equal(done, 90);
  // Every acknowledged increment is there, and a put that threw did not apply (else > 90).
  assert.equal(await get(mfs[0], '/read?key=c3'), '90');
  const errors = runs.reduce((s, r) => s + r.readErrors + r.putErrors, 0);
  console.log(`3 instances x 3 requests x 10 CAS increments: ${runs.reduce((s, r) => s + r.lost, 0)} lost races, ${errors} thrown (${runtimeLog.sqliteBusy} SQLITE_BUSY lines from workerd)`);
  for (const m of mfs) assert.deepEqual(await get(m, '/race?n=16'), { cas: 1, create: 1 });
});
