// Browsers (ES module, no bundler needed). Importing this module does no I/O: the .wasm is
// fetched and instantiated by the first `AkiDB.open()` / `runConformance()` (or an explicit
// `await AkiDB.ready()` to warm up), so a failed load is a rejected promise with code WASM_LOAD
// that the app can catch, not a dead module graph. Bundlers that do not emit the .wasm next to
// this file (esbuild without a file loader, some SSR setups) pass it themselves:
// `AkiDB.ready({ wasm: url | Response | bytes | WebAssembly.Module })`, or `wasm` in open options.
import init, { AkiDB, Collection, runConformance as rawConformance } from './wasm/akidb.js';

const DEFAULT_WASM = () => new URL('./wasm/akidb_bg.wasm', import.meta.url);

/**
 * The class of every AkiDB rejection: `err instanceof AkiDBError` holds for any `Error` with
 * `name === 'AkiDBError'` and a string `code`, wherever it was created (the engine, a worker
 * proxy, another copy of the package), so `instanceof` and `err.code` never disagree.
 */
export class AkiDBError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'AkiDBError';
    this.code = code;
  }

  static [Symbol.hasInstance](e) {
    return e instanceof Error && e.name === 'AkiDBError' && typeof e.code === 'string';
  }
}
let loading = null;

function describe(source) {
  if (source instanceof URL || typeof source === 'string') return String(source);
  if (typeof WebAssembly !== 'undefined' && source instanceof WebAssembly.Module) return 'the WebAssembly.Module passed';
  if (typeof Response !== 'undefined' && source instanceof Response) return `the Response passed (${source.url || 'no url'})`;
  return 'the bytes passed';
}

function wasmLoadError(cause, source) {
  return new AkiDBError(
    'WASM_LOAD',
    `WASM_LOAD: could not load the AkiDB engine from ${describe(source)}: ${cause?.message ?? cause}. ` +
      'If your bundler does not serve akidb_bg.wasm next to the package, pass its URL, a Response, ' +
      "its bytes or a compiled WebAssembly.Module: await AkiDB.ready({ wasm: '/assets/akidb_bg.wasm' }) " +
      '(or `wasm` in the options of AkiDB.open).',
    { cause },
  );
}

/** Instantiates the engine once; a failed attempt may be retried (e.g. with another source). */
function load(source) {
  if (!loading) {
    let src = source;
    if (src === undefined) {
      try {
        src = DEFAULT_WASM();
      } catch (e) {
        // No usable import.meta.url (e.g. esbuild's default iife output): say how to pass it.
        return Promise.reject(wasmLoadError(e, "./wasm/akidb_bg.wasm (beside this module's import.meta.url)"));
      }
    }
    loading = init({ module_or_path: src }).catch((e) => {
      loading = null;
      throw wasmLoadError(e, src);
    });
  }
  return loading;
}

/** Splits the loader's own option (`wasm`) from the engine's. */
function split(options) {
  if (!options || typeof options !== 'object' || !('wasm' in options)) return [undefined, options];
  const { wasm, ...rest } = options;
  return [wasm, rest];
}

const rawOpen = AkiDB.open;
AkiDB.open = async function open(options) {
  const [wasm, rest] = split(options);
  await load(wasm);
  return rawOpen.call(AkiDB, rest);
};
AkiDB.ready = async function ready(options) {
  await load(split(options)[0]);
};

export async function runConformance(options) {
  const [wasm, rest] = split(options);
  await load(wasm);
  return rawConformance(rest);
}

export { AkiDB, Collection };
export default { AkiDB, AkiDBError, Collection, runConformance };
