// "Two tabs, one collection": this tab opens a second tab of the demo; both write N one-record
// upserts into the same IndexedDB collection at the same instant, then this tab checks that all
// 2N records are there and the manifest version moved by exactly 2N. The tabs coordinate over a
// BroadcastChannel; the data itself only travels through IndexedDB.

const CHANNEL = 'akidb-demo-two-tabs';
export const PER_TAB = 100;

function unit(dim) {
  const v = Float32Array.from({ length: dim }, () => Math.random() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));

/** Resolves with the first message of `type` for `run` on `channel` (rejects after `timeout` ms). */
function nextMessage(channel, run, type, timeout, onOther) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      channel.removeEventListener('message', on);
      fail(new Error(`no '${type}' message from the other tab within ${timeout / 1000} s`));
    }, timeout);
    function on(ev) {
      if (ev.data?.run !== run) return;
      if (ev.data.type === type) {
        clearTimeout(timer);
        channel.removeEventListener('message', on);
        ok(ev.data);
      } else onOther?.(ev.data);
    }
    channel.addEventListener('message', on);
  });
}

/** Both roles: wait for `at`, then `n` one-record upserts tagged with the run and tab. */
async function writeMany(db, coll, { run, tab, n, at, dim }, onProgress) {
  await sleep(at - Date.now());
  const retries0 = db.metrics().manifestConflictRetriesTotal;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const id = `two-tabs-${run}-${tab}-${i}`;
    await coll.upsert([{ id, vector: unit(dim), metadata: { section: 'two-tab-demo', run, tab, text: `written by tab ${tab}` } }]);
    onProgress?.(i + 1);
  }
  return { tab, commits: n, retries: db.metrics().manifestConflictRetriesTotal - retries0, ms: performance.now() - t0 };
}

/** Tab A: opens tab B, writes together with it, verifies. `report(text)` shows progress. */
export async function runTwoTabDemo({ db, coll, dim, report }) {
  const run = Math.random().toString(36).slice(2, 8);
  const channel = new BroadcastChannel(CHANNEL);
  try {
    const ready = nextMessage(channel, run, 'ready', 30_000);
    const win = window.open(`./?second=${run}`, `akidb-second-${run}`);
    if (!win) throw new Error('the browser blocked the second tab: allow pop-ups for this page');
    report('waiting for the second tab to open the database…');
    await ready;
    const before = await coll.manifest();
    const go = { run, type: 'go', at: Date.now() + 500, n: PER_TAB, dim };
    let theirs = 0;
    let mine = 0;
    const show = () => report(`writing at the same time… this tab ${mine}/${PER_TAB}, second tab ${theirs}/${PER_TAB}`);
    const done = nextMessage(channel, run, 'done', 180_000, (m) => {
      if (m.type !== 'progress') return;
      theirs = m.done;
      show();
    });
    channel.postMessage(go);
    const [a, b] = await Promise.all([
      writeMany(db, coll, { ...go, tab: 'A' }, (i) => {
        mine = i;
        show();
      }),
      done,
    ]);
    const after = await coll.manifest();
    const found = await coll.search(unit(dim), { k: 10_000, filter: { must: [{ key: 'run', match: run }] } });
    return { run, expected: 2 * PER_TAB, found: found.length, versions: after.version - before.version, a, b };
  } finally {
    channel.close();
  }
}

/** Tab B (opened with `?second=<run>`): joins the run, writes, reports back. */
export async function runSecondTab(run, { db, coll, report }) {
  const channel = new BroadcastChannel(CHANNEL);
  try {
    const go = nextMessage(channel, run, 'go', 30_000);
    channel.postMessage({ run, type: 'ready' });
    report('ready; waiting for the first tab…');
    const g = await go;
    const stats = await writeMany(db, coll, { ...g, tab: 'B' }, (i) => {
      if (i % 5 === 0 || i === g.n) channel.postMessage({ run, type: 'progress', done: i });
      report(`writing… ${i}/${g.n}`);
    });
    channel.postMessage({ run, type: 'done', ...stats });
    return stats;
  } finally {
    channel.close();
  }
}
