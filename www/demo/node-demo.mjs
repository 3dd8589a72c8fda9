// The AkiDB demo on the embedded default (memory) store, in Node:
// eight writers — separate database instances on one shared store, like eight browser tabs —
// ingest Debian package embeddings concurrently. Every commit is a compare-and-swap of the
// collection manifest; losers back off and retry. Then: the manifest, one compaction (the
// writers' automatic compaction is off, so the count of segments shows one per commit first),
// the metrics, and a "find similar packages" search.
//
//   node www/demo/node-demo.mjs [--records N] [--writers W] [--batch B]
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { AkiDB } from '../../pkg/node.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const WRITERS = arg('writers', 8);
const RECORDS = arg('records', 59000);
const BATCH = arg('batch', 1000);

// The real dataset when it is beside the repo; random vectors otherwise.
function loadData() {
  const dir = path.resolve(here, '../../../shared/datasets/debian-minilm-384');
  if (existsSync(path.join(dir, 'base.f32'))) {
    const dim = 384;
    const buf = readFileSync(path.join(dir, 'base.f32'));
    const n = Math.min(RECORDS, buf.length / 4 / dim);
    const vectors = new Float32Array(buf.buffer, buf.byteOffset, n * dim);
    const meta = readFileSync(path.join(dir, 'base.jsonl'), 'utf8').split('\n').slice(0, n).map((l) => JSON.parse(l));
    const qbuf = readFileSync(path.join(dir, 'queries.f32'));
    const queries = new Float32Array(qbuf.buffer, qbuf.byteOffset, qbuf.length / 4);
    const qmeta = readFileSync(path.join(dir, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    return { dim, n, vectors, meta, queries, qmeta, source: `Debian package descriptions (all-MiniLM-L6-v2), ${dir}` };
  }
  const dim = 64;
  const n = RECORDS;
  const vectors = new Float32Array(n * dim).map(() => Math.random() * 2 - 1);
  const meta = Array.from({ length: n }, (_, i) => ({ id: `item-${i}`, text: `random item ${i}`, source: `s${i % 10}` }));
  return { dim, n, vectors, meta, queries: vectors.slice(0, dim), qmeta: [meta[0]], source: 'random vectors (dataset not found)' };
}

const data = loadData();
console.log(`AkiDB demo — ${data.n} records × ${data.dim}-d from ${data.source}`);
console.log(`${WRITERS} concurrent writers, batches of ${BATCH}, memory store with simulated store latency (0–1 ms per operation)\n`);

const storeOptions = {
  store: 'memory',
  name: 'demo',
  simulatedLatencyMs: 1,
  retry: { maxRetries: 50, maxBackoffMs: 100 },
  logLevel: 'error',
  autoCompact: false,
};
const admin = await AkiDB.open(storeOptions);
await admin.createCollection('packages', { dimension: data.dim, distance: 'cosine' });

const t0 = performance.now();
const perWriter = await Promise.all(
  Array.from({ length: WRITERS }, async (_, w) => {
    const db = await AkiDB.open(storeOptions);
    const col = await db.collection('packages');
    let commits = 0;
    let retries = 0;
    // Writer w takes every W-th batch.
    for (let start = w * BATCH; start < data.n; start += WRITERS * BATCH) {
      const end = Math.min(start + BATCH, data.n);
      const records = [];
      for (let i = start; i < end; i++) {
        records.push({
          id: data.meta[i].id,
          vector: data.vectors.subarray(i * data.dim, (i + 1) * data.dim),
          metadata: { section: data.meta[i].source, text: data.meta[i].text },
        });
      }
      const ack = await col.upsert(records);
      commits += 1;
      retries += ack.retries;
    }
    return { writer: w, commits, retries, metrics: db.metrics(), db };
  }),
);
const seconds = (performance.now() - t0) / 1000;

console.log('| writer | commits | retries |');
console.log('|---|---|---|');
for (const r of perWriter) console.log(`| ${r.writer} | ${r.commits} | ${r.retries} |`);

const col = await admin.collection('packages');
const manifest = await col.manifest();
const commits = perWriter.reduce((a, r) => a + r.commits, 0);
const retries = perWriter.reduce((a, r) => a + r.metrics.manifestConflictRetriesTotal, 0);
const failures = perWriter.reduce((a, r) => a + r.metrics.manifestConflictFailuresTotal, 0);
console.log(`\nmanifest version ${manifest.version} (1 + ${commits} commits), ${manifest.segments.length} segments, ${manifest.total_vectors} vectors, ${await col.count()} live`);
console.log(`${commits} commits in ${seconds.toFixed(2)} s, ${retries} conflict retries, ${failures} conflict failures`);
console.log(`nothing lost: ${manifest.segments.length === commits && (await col.count()) === data.n ? 'yes' : 'NO'}`);
const compacted = await col.compact({ gc: true });
console.log(
  `compacted: ${compacted.segmentsBefore} → ${compacted.segmentsAfter} segments in ${compacted.merges} merge(s), ` +
    `${(compacted.bytesWritten / 1e6).toFixed(1)} MB rewritten, ${await col.count()} live`,
);

const q = data.queries.subarray(0, data.dim);
const qt = performance.now();
const hits = await col.search(q, { k: 5, includeMetadata: true });
const ms = performance.now() - qt;
console.log(`\nfind similar to [${data.qmeta[0].id}] "${data.qmeta[0].text.slice(0, 70)}…" (${ms.toFixed(1)} ms, first search loads segments):`);
for (const h of hits) console.log(`  ${h.score.toFixed(3)}  ${h.id.padEnd(28)} [${h.metadata.section}] ${h.metadata.text.slice(0, 60)}`);
const section = hits[0]?.metadata.section;
const ft = performance.now();
const filtered = await col.search(q, { k: 3, includeMetadata: true, filter: { must_not: [{ key: 'section', match: section }] } });
console.log(`\nsame query, excluding section '${section}' (${(performance.now() - ft).toFixed(1)} ms):`);
for (const h of filtered) console.log(`  ${h.score.toFixed(3)}  ${h.id.padEnd(28)} [${h.metadata.section}]`);

console.log('\nmetrics of writer 0 (Prometheus text, excerpt):');
const text = perWriter[0].db.metricsText().split('\n');
console.log(text.filter((l) => /^manifest_(conflict|commits|persist_duration_seconds_(count|sum))/.test(l)).join('\n'));
