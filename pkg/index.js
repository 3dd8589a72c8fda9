// Browsers (ES module, no bundler needed): fetch and instantiate the .wasm next to this file.
import init, { AkiDB, Collection, runConformance } from './wasm/akidb.js';

await init({ module_or_path: new URL('./wasm/akidb_bg.wasm', import.meta.url) });

export { AkiDB, Collection, runConformance };
export default { AkiDB, Collection, runConformance };
