// Node (CommonJS): the wasm-bindgen Node glue loads and instantiates the .wasm synchronously.
// Adds the Node-only directory store: `{ store: 'fs', path }` becomes a custom store over
// pkg/fs-store.cjs (atomic across processes through link(2); see that file).
'use strict';
const akidb = require('./wasm-node/akidb.js');
const { FsStore } = require('./fs-store.cjs');

/** The class of every AkiDB rejection (see index.js: the same class for the browser entry). */
class AkiDBError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'AkiDBError';
    this.code = code;
  }

  static [Symbol.hasInstance](e) {
    return e instanceof Error && e.name === 'AkiDBError' && typeof e.code === 'string';
  }
}

/**
 * `{ store: 'fs', path, ...rest }` -> `{ store: 'custom', kv: FsStore(path), ...rest }`; the
 * browser loader's `wasm` option means nothing here (Node loads the engine from the package).
 */
function withFsStore(options) {
  if (!options || typeof options !== 'object') return options;
  if ('wasm' in options) {
    const { wasm, ...rest } = options;
    options = rest;
  }
  if (options.store !== 'fs') return options;
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
      const code = e.code && e.code.startsWith('E') ? 'STORAGE' : 'INVALID_ARGUMENT';
      return Promise.reject(new AkiDBError(code, e.message, { cause: e }));
    }
    return fn.call(self, converted, ...args);
  };
}

akidb.AkiDB.open = wrap(akidb.AkiDB.open, akidb.AkiDB);
const runConformance = wrap(akidb.runConformance, null);
// `ready()` exists for parity with the browser entry, where it loads the engine; here the
// engine loaded with this module.
akidb.AkiDB.ready = async function ready() {};
module.exports = { ...akidb, AkiDBError, runConformance };
