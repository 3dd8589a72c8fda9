// Node (CommonJS): the wasm-bindgen Node glue loads and instantiates the .wasm synchronously.
// Adds the Node-only directory store: `{ store: 'fs', path }` becomes a custom store over
// pkg/fs-store.cjs (atomic across processes through link(2); see that file).
'use strict';
const akidb = require('./wasm-node/akidb.js');
const { FsStore } = require('./fs-store.cjs');

/** `{ store: 'fs', path, ...rest }` -> `{ store: 'custom', kv: FsStore(path), ...rest }`. */
function withFsStore(options) {
  if (!options || typeof options !== 'object' || options.store !== 'fs') return options;
  const { path, kv, ...rest } = options;
  if (kv !== undefined) throw new TypeError("options.kv is for store: 'custom'; store: 'fs' takes options.path");
  return { ...rest, store: 'custom', kv: new FsStore(path) };
}

// A thrown TypeError from option checking becomes a coded rejection, as the engine's own are.
function wrap(fn, self) {
  return function (options, ...args) {
    let converted;
    try {
      converted = withFsStore(options);
    } catch (e) {
      const err = new Error(e.message);
      err.name = 'AkiDBError';
      err.code = e.code && e.code.startsWith('E') ? 'STORAGE' : 'INVALID_ARGUMENT';
      return Promise.reject(err);
    }
    return fn.call(self, converted, ...args);
  };
}

akidb.AkiDB.open = wrap(akidb.AkiDB.open, akidb.AkiDB);
const runConformance = wrap(akidb.runConformance, null);
module.exports = { ...akidb, runConformance };
