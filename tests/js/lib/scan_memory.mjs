// Child process of records.test.mjs: `ingest DIR` writes 100,000 x 128 records to an fs store as
// 10 segments; `scan DIR` scans them in a fresh process while a second handle commits, and
// prints the growth of wasm memory over the scan; `warm DIR` is the control (a search first,
// which keeps the whole snapshot in memory). Prints one JSON line.
const memories = new Set();
const grab = (instance, imports) => {
  for (const v of Object.values(instance?.exports ?? {})) if (v instanceof WebAssembly.Memory) memories.add(v);
  for (const ns of Object.values(imports ?? {})) for (const v of Object.values(ns ?? {})) if (v instanceof WebAssembly.Memory) memories.add(v);
};
const Instance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const inst = new Instance(module, imports);
  grab(inst, imports);
  return inst;
};
WebAssembly.Instance.prototype = Instance.prototype;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (source, imports) {
  const r = await instantiate.call(this, source, imports);
  grab(r.instance ?? r, imports);
  return r;
};
const wasmBytes = () => [...memories].reduce((s, m) => s + m.buffer.byteLength, 0);

const { AkiDB } = await import('../../../pkg/node.mjs');
const [mode, dir] = process.argv.slice(2);
const DIM = 128;
const N = 100_000;
const SEG = 10_000;

function vec(i) {
  const v = new Float32Array(DIM);
  for (let j = 0; j < DIM; j++) v[j] = Math.sin(i * 0.013 + j * 0.7);
  return v;
}

const db = await AkiDB.open({ store: 'fs', path: dir, autoCompact: false });
if (mode === 'ingest') {
  await db.createCollection('big', { dimension: DIM, distance: 'l2' });
  const c = await db.collection('big');
  for (let s = 0; s < N; s += SEG) {
    await c.upsert(Array.from({ length: SEG }, (_, k) => ({ id: `r${s + k}`, vector: vec(s + k), metadata: { n: s + k } })));
  }
  const m = await c.manifest();
  console.log(JSON.stringify({ segments: m.segments.length }));
} else {
  const c = await db.collection('big');
  const writer = await db.collection('big');
  const m = await c.manifest();
  const largestSegmentBytes = Math.max(...m.segments.map((s) => s.size_bytes));
  if (mode === 'warm') await c.search(vec(1), { k: 1 });
  const base = wasmBytes();
  let records = 0;
  let batches = 0;
  let writerCommits = 0;
  for await (const batch of c.scan({ batchSize: 1000 })) {
    records += batch.length;
    if (++batches % 25 === 0) {
      await writer.upsert(Array.from({ length: 100 }, (_, k) => ({ id: `w${batches}-${k}`, vector: vec(k) })));
      writerCommits++;
    }
  }
  const growth = mode === 'warm' ? wasmBytes() : wasmBytes() - base;
  console.log(JSON.stringify({ records, writerCommits, largestSegmentBytes, growth, base }));
}
