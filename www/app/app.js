// The AkiDB browser demo: a collection of Debian package embeddings in IndexedDB, ingested with
// a progress bar, searched by meaning (held-out queries) or "find similar" on any row, with
// latencies, a manifest panel (segments, seal, commit timeline) and a two-tab write demo. The
// ingest runs in a Web Worker ('akidb/worker'), so this page stays responsive; the page's own
// handle hears every commit (its own, the worker's, other tabs') through collection.subscribe.
import { AkiDB } from '/pkg/index.js';
import { AkiDBWorker } from '/pkg/worker.js';
import { $, h, int, ms, toast } from './lib/dom.js';
import { loadDataset, row } from './lib/data.js';
import { Histogram } from './lib/histogram.js';
import { ManifestPanel } from './lib/manifest-panel.js';
import { runSecondTab, runTwoTabDemo } from './lib/two-tabs.js';

// Automatic compaction off: the manifest panel shows one segment per commit, and the two-tab
// demo checks that the version moved by exactly the number of writes.
const DB = { store: 'indexeddb', name: 'demo', logLevel: 'error', autoCompact: false };
const COLLECTION = 'packages';
const SEGMENT_SIZE = 1000;
const TABLE_ROWS = 25;

const setState = (s) => (document.body.dataset.state = s);
const status = (text) => ($('status').textContent = text);

/** Opens the database and the collection (creating it on first use). */
async function openCollection(dim) {
  const db = await AkiDB.open(DB);
  // Get-or-create: safe when two tabs (or a double-run effect) open it at once.
  await db.createCollection(COLLECTION, { dimension: dim, distance: 'cosine' }, { ifNotExists: true });
  return { db, coll: await db.collection(COLLECTION) };
}

async function main() {
  status('loading the dataset and opening IndexedDB…');
  const data = await loadDataset();
  const { db, coll } = await openCollection(data.dim);
  const hist = new Histogram($('histogram'), $('hist-stats'));
  const panel = new ManifestPanel(
    { version: $('manifest-version'), summary: $('manifest-summary'), segments: $('segments').tBodies[0], timeline: $('timeline') },
    (id) => guarded(async () => {
      await coll.seal(id);
      await refresh();
    }),
  );

  async function refresh() {
    panel.show(await coll.manifest());
    const n = await coll.count();
    $('record-count').textContent = `${int(n)} records`;
    status(`IndexedDB database “akidb:${DB.name}” · collection “${COLLECTION}” · ${int(n)} records persisted`);
  }

  async function search(query, label) {
    const section = $('section-select').value;
    const opts = { k: 10, includeMetadata: true, mode: $('mode-select').value };
    if (section) opts.filter = { must: [{ key: 'section', match: section }] };
    const t0 = performance.now();
    const hits = await coll.search(query, opts);
    const dt = performance.now() - t0;
    hist.add(dt);
    $('latency').textContent = `${ms(dt)} · ${opts.mode} over ${int(await coll.count())} vectors`;
    $('results-label').textContent = label;
    $('results').replaceChildren(
      ...hits.map((hit) =>
        h(
          'li',
          {},
          h('span', { class: 'score' }, hit.score.toFixed(3)),
          h('b', {}, hit.id),
          h('span', { class: 'sec' }, hit.metadata?.section ?? ''),
          h('span', { class: 'text' }, hit.metadata?.text ?? ''),
        ),
      ),
    );
    return hits;
  }

  // Dataset card.
  $('dataset-source').textContent = `${int(data.info.n)} × ${data.info.dim}-d: ${data.info.source}`;
  $('load-btn').onclick = () =>
    guarded(async () => {
      $('load-btn').disabled = true;
      setState('ingesting');
      const records = data.meta.map((m, i) => ({
        id: m.id,
        vector: row(data.vectors, data.dim, i),
        metadata: { section: m.section, text: m.text },
      }));
      // The main thread's long tasks (> 50 ms) while the worker ingests.
      const longTasks = [];
      const observer = typeof PerformanceObserver === 'function' && PerformanceObserver.supportedEntryTypes?.includes('longtask')
        ? new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => e.duration)))
        : null;
      observer?.observe({ type: 'longtask' });
      const t0 = performance.now();
      const worker = await AkiDBWorker.open(DB);
      const wcoll = await worker.collection(COLLECTION);
      const r = await wcoll.upsert(records, {
        segmentSize: SEGMENT_SIZE,
        onProgress: (done, total) => {
          $('progress').value = done / total;
          $('progress-text').textContent = `${int(done)} / ${int(total)} records written as segment objects…`;
        },
      });
      const dt = performance.now() - t0;
      await worker.close();
      observer?.disconnect();
      $('longtasks').textContent = observer
        ? `Ingested in a Web Worker: ${longTasks.length} long tasks on this page (longest ${ms(Math.max(0, ...longTasks))}).`
        : 'Ingested in a Web Worker.';
      $('progress-text').textContent =
        `${int(records.length)} records in ${(dt / 1000).toFixed(2)} s (${int(records.length / (dt / 1000))} vectors/s): ` +
        `${r.segmentIds.length} segments, one manifest commit → v${r.version}.`;
      await refresh();
      $('load-btn').textContent = 'Load again (replaces the records)';
      $('load-btn').disabled = false;
      setState('ready');
    });

  // Search card: held-out queries (their embeddings were computed offline) and sections.
  $('query-select').replaceChildren(...data.queryMeta.map((q, i) => h('option', { value: i }, q.text.slice(0, 90))));
  const sections = [...new Set(data.meta.map((m) => m.section))].sort();
  $('section-select').append(...sections.map((s) => h('option', { value: s }, s)));
  $('search-btn').onclick = () =>
    guarded(() => {
      const i = Number($('query-select').value);
      return search(row(data.queries, data.dim, i), `query: “${data.queryMeta[i].text.slice(0, 80)}…”`);
    });

  // Package table with "similar" buttons; the search box filters it.
  function renderTable() {
    const needle = $('filter-input').value.trim().toLowerCase();
    const section = $('section-select').value;
    const rows = [];
    for (let i = 0; i < data.meta.length && rows.length < TABLE_ROWS; i++) {
      const m = data.meta[i];
      if (section && m.section !== section) continue;
      if (needle && !m.id.toLowerCase().includes(needle) && !m.text.toLowerCase().includes(needle)) continue;
      rows.push(
        h(
          'tr',
          {},
          h('td', { class: 'mono' }, m.id),
          h('td', {}, m.section),
          h('td', { class: 'text', title: m.text }, m.text),
          h(
            'td',
            {},
            h('button', {
              class: 'link similar',
              dataset: { index: i },
              onclick: () => guarded(() => search(row(data.vectors, data.dim, i), `similar to ${m.id}`)),
            }, 'similar'),
          ),
        ),
      );
    }
    $('table').tBodies[0].replaceChildren(...rows);
    $('table-note').textContent = `${rows.length} shown${rows.length === TABLE_ROWS ? ' (refine the search to see others)' : ''}`;
  }
  $('filter-input').oninput = renderTable;
  $('section-select').onchange = renderTable;
  renderTable();

  $('bench-btn').onclick = () =>
    guarded(async () => {
      $('bench-btn').disabled = true;
      const mode = $('mode-select').value;
      for (let i = 0; i < 200; i++) {
        const q = row(data.vectors, data.dim, Math.floor(Math.random() * data.meta.length));
        const t0 = performance.now();
        await coll.search(q, { k: 10, mode });
        hist.add(performance.now() - t0);
      }
      $('bench-btn').disabled = false;
    });

  $('two-tab-btn').onclick = () =>
    guarded(async () => {
      $('two-tab-btn').disabled = true;
      const report = (t) => ($('two-tab-status').textContent = t);
      try {
        const r = await runTwoTabDemo({ db, coll, dim: data.dim, report });
        const ok = r.found === r.expected && r.versions === r.expected;
        $('two-tab-status').replaceChildren(
          h('span', { class: ok ? 'ok' : 'bad' }, ok ? '✔ Nothing lost: ' : '✘ Records missing: '),
          `${r.found} of ${r.expected} records found; manifest version +${r.versions}. ` +
            `Conflicts retried: this tab ${r.a.retries}, second tab ${r.b.retries} ` +
            `(${(r.a.ms / 1000).toFixed(1)} s / ${(r.b.ms / 1000).toFixed(1)} s).`,
        );
        await refresh();
      } finally {
        $('two-tab-btn').disabled = false;
      }
    });

  $('reset-btn').onclick = () =>
    guarded(async () => {
      await db.close();
      await new Promise((ok) => {
        const req = indexedDB.deleteDatabase(`akidb:${DB.name}`);
        req.onsuccess = req.onerror = req.onblocked = ok;
      });
      location.reload();
    });

  // Every commit — the worker's, other tabs', this tab's — reaches this handle through its
  // subscription (BroadcastChannel + a conditional re-read): no polling. Redraws coalesce.
  let drawing = null;
  let again = false;
  const redraw = () => {
    if (drawing) return void (again = true);
    drawing = guarded(refresh).finally(() => {
      drawing = null;
      if (again) (again = false), redraw();
    });
  };
  coll.subscribe(redraw);

  await refresh();
  for (const id of ['load-btn', 'search-btn', 'bench-btn', 'two-tab-btn', 'reset-btn']) $(id).disabled = false;
  if ((await coll.count()) > 0) $('load-btn').textContent = 'Load again (replaces the records)';
  setState('ready');
}

async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    toast(e);
  }
}

async function second(run) {
  document.body.replaceChildren(
    h('div', { class: 'card second' }, h('h2', {}, 'AkiDB demo — second tab'), h('p', { id: 'second-status' }, 'opening…')),
  );
  const report = (t) => ($('second-status').textContent = t);
  const { db, coll } = await openCollection(384);
  const s = await runSecondTab(run, { db, coll, report });
  report(`done: ${s.commits} commits in ${(s.ms / 1000).toFixed(1)} s, ${s.retries} conflicts retried. You can close this tab.`);
  document.body.dataset.state = 'done';
}

const run = new URLSearchParams(location.search).get('second');
(run ? second(run) : main()).catch((e) => {
  status(`failed: ${e.code ?? ''} ${e.message}`);
  setState('failed');
  toast(e);
});
