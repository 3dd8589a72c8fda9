// The worker side of `akidb/web-worker` (worker.js starts this file as a module worker; exported
// as `akidb/web-worker-host` for bundlers that build workers from their own entry, e.g. esbuild).
// It runs the browser entry of the package and answers the proxy's messages: { id, op, ... } →
// { id, ok, value } or { id, ok: false, error }, plus { event: 'progress' | 'update' | 'subError' }.
// A static import: bundlers that emit workers as one classic script (Vite's default 'iife')
// cannot split a dynamic one, and index.js does no I/O at import (the engine loads inside the
// first open), so the message handler below is still installed before any message arrives.
import * as engineModule from './index.js';

const engine = Promise.resolve(engineModule);
const handles = new Map(); // handle → AkiDB | Collection
const batches = new Map(); // upsert batch → { target, records }
const subs = new Map(); // subscription id → unsubscribe()
let next = 1;

function errorOf(e) {
  return { name: e?.name, message: e?.message ?? String(e), code: e?.code, operationId: e?.operationId };
}

function target(h) {
  const t = handles.get(h);
  if (!t) throw Object.assign(new Error(`akidb worker: no handle ${h} (closed?)`), { name: 'AkiDBError', code: 'STORAGE' });
  return t;
}

/** Records of a packed chunk: vectors are views into the transferred buffer (no copy). */
function unpack(m) {
  if (m.records) return m.records;
  const out = new Array(m.ids.length);
  for (let i = 0; i < m.ids.length; i++) {
    const r = { id: m.ids[i], vector: m.vectors.subarray(i * m.dim, (i + 1) * m.dim) };
    if (m.metadata[i] !== undefined) r.metadata = m.metadata[i];
    out[i] = r;
  }
  return out;
}

async function handle(m) {
  const { AkiDB } = await engine;
  switch (m.op) {
    case 'open': {
      const db = await AkiDB.open(m.options);
      handles.set(next, db);
      return { value: next++ };
    }
    case 'collection': {
      const c = await target(m.target).collection(m.name);
      handles.set(next, c);
      return { value: next++ };
    }
    case 'begin':
      target(m.target);
      batches.set(next, { target: m.target, records: [] });
      return { value: next++ };
    case 'chunk': {
      const b = batches.get(m.batch);
      if (!b) throw new Error(`akidb worker: no upsert batch ${m.batch}`);
      for (const r of unpack(m)) b.records.push(r);
      return { value: b.records.length };
    }
    case 'abort':
      batches.delete(m.batch);
      return { value: true };
    case 'commit': {
      const b = batches.get(m.batch);
      batches.delete(m.batch);
      if (!b) throw new Error(`akidb worker: no upsert batch ${m.batch}`);
      const options = { ...m.options };
      if (m.progress) options.onProgress = (done, total) => postMessage({ event: 'progress', id: m.id, done, total });
      return { value: await target(b.target).upsert(b.records, options) };
    }
    case 'subscribe': {
      const sub = m.sub;
      const unsubscribe = target(m.target).subscribe((version) => postMessage({ event: 'update', sub, version }), {
        ...m.options,
        onError: (e) => postMessage({ event: 'subError', sub, error: errorOf(e) }),
      });
      subs.set(sub, unsubscribe);
      return { value: true };
    }
    case 'scanOpen': {
      const it = target(m.target).scan(m.options);
      handles.set(next, it);
      return { value: next++ };
    }
    case 'scanNext': {
      const r = await target(m.scan).next();
      if (r.done) handles.delete(m.scan);
      return { value: { done: r.done, value: r.value } };
    }
    case 'scanClose':
      handles.get(m.scan)?.return();
      handles.delete(m.scan);
      return { value: true };
    case 'unsubscribe':
      subs.get(m.sub)?.();
      subs.delete(m.sub);
      return { value: true };
    case 'call': {
      const t = target(m.target);
      if (typeof t[m.method] !== 'function' || m.method.startsWith('_') || m.method === 'free') {
        throw new Error(`akidb worker: no method ${m.method}`);
      }
      const value = await t[m.method](...m.args);
      if (m.method === 'close') handles.delete(m.target);
      if (m.method === 'searchIds') return { value, transfer: [value.scores.buffer] };
      return { value };
    }
    default:
      throw new Error(`akidb worker: unknown message ${m.op}`);
  }
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    const { value, transfer = [] } = await handle(m);
    postMessage({ id: m.id, ok: true, value }, transfer);
  } catch (err) {
    postMessage({ id: m.id, ok: false, error: errorOf(err) });
  }
};
