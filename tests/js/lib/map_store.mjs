// A bring-your-own store for `AkiDB.open({ store: 'custom', kv })` over a JS Map, with a random
// async delay before every call so concurrent handles really interleave. Atomic by
// construction: after the delay, a put checks its condition and writes in the same synchronous
// step (JS runs one callback at a time). With `atomic: false` it checks, awaits, then writes —
// the classic broken store the conformance suite must catch. `failAfterPut` makes a put apply
// and then throw (an ambiguous outcome the commit loop must settle).

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function mapStore({ maxDelayMs = 3, atomic = true, failAfterPut = 0, failOn = () => true } = {}) {
  const data = new Map();
  // One counter for the whole store: a deleted and re-created key never gets an old version.
  let counter = 0;
  const stats = { get: 0, put: 0, delete: 0, list: 0, thrownAfterPut: 0 };
  const pause = () => (maxDelayMs > 0 ? sleep(Math.random() * maxDelayMs) : Promise.resolve());
  return {
    data,
    stats,
    async get(key) {
      stats.get++;
      await pause();
      const e = data.get(key);
      return e ? { value: e.value.slice(), version: e.version } : null;
    },
    async put(key, value, { ifMatch, ifAbsent } = {}) {
      stats.put++;
      await pause();
      const cur = data.get(key);
      if (ifAbsent && cur) return null;
      if (ifMatch !== undefined && (!cur || cur.version !== ifMatch)) return null;
      if (!atomic) await sleep(1 + Math.random() * Math.max(1, maxDelayMs));
      const version = `v${++counter}`;
      data.set(key, { value: value.slice(), version });
      if (failAfterPut > 0 && failOn(key) && Math.random() < failAfterPut) {
        stats.thrownAfterPut++;
        throw new Error('connection reset after the write was applied');
      }
      return { version };
    },
    async delete(key) {
      stats.delete++;
      await pause();
      data.delete(key);
    },
    async list(prefix) {
      stats.list++;
      await pause();
      return [...data.keys()].filter((k) => k.startsWith(prefix));
    },
  };
}
