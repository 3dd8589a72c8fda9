// Workers runtimes (workerd, Cloudflare): compiling wasm from bytes is forbidden, so the .wasm
// is imported as a module and instantiated synchronously.
import wasmModule from './wasm/akidb_bg.wasm';
import { initSync, AkiDB, Collection, runConformance } from './wasm/akidb.js';

initSync({ module: wasmModule });

export { AkiDB, Collection, runConformance };
export default { AkiDB, Collection, runConformance };
