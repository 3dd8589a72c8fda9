// Where the Node entry finds the engine (pkg/wasm/akidb_bg.wasm; scripts/build-pkg.sh points the
// wasm-bindgen Node glue here). Beside this file first. Server bundlers that inline the package
// rewrite `__dirname` to a path that does not exist at run time (Next.js's Turbopack: "/ROOT/...";
// the "next build" ENOENT of issue #22), so then the installed package is looked up from the
// working directory upwards, as Node itself would resolve `node_modules/akidb`.
'use strict';
const fs = require('fs');
const path = require('path');

const REL = path.join('wasm', 'akidb_bg.wasm');

/** The engine's path, or a thrown Error (code WASM_LOAD) listing every place tried. */
function wasmPath() {
  const tried = [path.join(__dirname, REL)];
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    tried.push(path.join(dir, 'node_modules', 'akidb', REL));
    if (path.dirname(dir) === dir) break;
  }
  const found = tried.find((p) => fs.existsSync(p));
  if (found) return found;
  const err = new Error(
    `WASM_LOAD: could not find the AkiDB engine (akidb_bg.wasm); tried ${tried.join(', ')}. ` +
      "If a bundler moved the package, keep it external (Next.js: serverExternalPackages: ['akidb']).",
  );
  err.name = 'AkiDBError';
  err.code = 'WASM_LOAD';
  throw err;
}

module.exports = { wasmPath };
