// Page side of the live-update tests (tests/e2e/live.test.mjs): every export runs inside a page
// of the test origin, called as `page.evaluate((a) => import('/live.mjs').then((m) => m.fn(a)), a)`,
// so any browser driver (Chromium through playwright-core, Firefox through WebDriver BiDi) can use
// it. State lives on the page's global: a reader handle that only listens, a writer that writes.
import { AkiDB } from '/pkg/index.js';

const state = (globalThis.__akidbLive ??= {});
/** A wall clock with sub-millisecond resolution, comparable between pages of one browser. */
const now = () => performance.timeOrigin + performance.now();
const open = (name) => AkiDB.open({ store: 'indexeddb', name, logLevel: 'error', autoCompact: false });

/** Creates collection 'c' (8-d, dot) in `akidb:{name}` → its version. */
export async function create(name) {
  const db = await open(name);
  await db.createCollection('c', { dimension: 8, distance: 'dot' });
  const version = (await db.collection('c')).version;
  await db.close();
  return version;
}

/**
 * Opens a reader handle on 'c' that only subscribes (never refreshes by itself) and records
 * every listener call `{ v, at, handle }` (`handle`: the handle's version inside the call).
 * `noBroadcast` removes BroadcastChannel from this page first; `pollIntervalMs` is passed on.
 */
export async function listen({ name, noBroadcast = false, pollIntervalMs }) {
  if (noBroadcast) globalThis.BroadcastChannel = undefined;
  const db = await open(name);
  const c = await db.collection('c');
  const calls = [];
  const options = pollIntervalMs === undefined ? {} : { pollIntervalMs };
  const unsubscribe = c.subscribe((v) => calls.push({ v, at: now(), handle: c.version }), options);
  state.reader = { db, c, calls, unsubscribe };
  return c.version;
}

/** The reader's listener calls so far. */
export function calls() {
  return state.reader.calls;
}

/** Waits (at most `ms`) until the reader's listener was called with `version` or later. */
export async function waitFor({ version, ms }) {
  const end = now() + ms;
  while ((state.reader.calls.at(-1)?.v ?? 0) < version && now() < end) await new Promise((ok) => setTimeout(ok, 5));
  return state.reader.calls;
}

/** What the reader's snapshot holds (no refresh: only what its subscription brought in). */
export async function view() {
  const { c } = state.reader;
  const version = c.version;
  const count = await c.count();
  const { ids } = await c.searchIds(new Float32Array(8).fill(1), { k: 1000 });
  return { version, count, ids };
}

/** Upserts one record through this page's writer handle → `{ version, at }` (after it resolved). */
export async function write({ name, id }) {
  state.writer ??= await open(name).then(async (db) => ({ db, c: await db.collection('c') }));
  const vector = Array.from({ length: 8 }, (_, j) => Math.sin(id.length * 31 + j));
  const r = await state.writer.c.upsert([{ id, vector }]);
  return { version: r.version, at: now() };
}

/** Writes `commits` one-record upserts as `t{tab}-{i}`, starting at wall-clock time `startAt`. */
export async function writeMany({ name, tab, commits, startAt }) {
  state.writer ??= await open(name).then(async (db) => ({ db, c: await db.collection('c') }));
  await new Promise((ok) => setTimeout(ok, Math.max(0, startAt - Date.now())));
  for (let i = 0; i < commits; i++) await write({ name, id: `t${tab}-${i}` });
  return state.writer.db.metrics().manifestConflictRetriesTotal;
}

/** Stops listening and closes both handles. */
export async function close() {
  state.reader?.unsubscribe();
  await state.reader?.db.close();
  await state.writer?.db.close();
}
