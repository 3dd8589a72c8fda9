// Miniflare (npm `miniflare` 3.x: workerd with a local R2 simulation) for the tests and the
// bench: the AkiDB package's workerd entry as module `akidb` next to either the REST worker
// (www/worker/src) or a small test script. Every instance listens on 127.0.0.1 only and is
// disposed by its owner.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = path.join(ROOT, 'www/worker/src');

/** The package's workerd entry and its wasm, as modules under `SRC`. */
function akidbModules() {
  const pkg = (p) => path.join(ROOT, 'pkg', p);
  return [
    { type: 'ESModule', path: path.join(SRC, 'akidb'), contents: readFileSync(pkg('workerd.js'), 'utf8') },
    { type: 'ESModule', path: path.join(SRC, 'wasm/akidb.js'), contents: readFileSync(pkg('wasm/akidb.js'), 'utf8') },
    { type: 'CompiledWasm', path: path.join(SRC, 'wasm/akidb_bg.wasm'), contents: readFileSync(pkg('wasm/akidb_bg.wasm')) },
  ];
}

/** Lines workerd wrote to stderr about SQLite lock contention (shared persisted buckets). */
export const runtimeLog = { sqliteBusy: 0, lines: [] };

/** workerd's stdout/stderr: kept out of the test output, remembered for assertions. */
function drain(stdout, stderr) {
  stdout.resume();
  stderr.setEncoding('utf8');
  let rest = '';
  stderr.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (!line.trim() || line.startsWith('stack:')) continue;
      if (line.includes('SQLITE_BUSY')) runtimeLog.sqliteBusy++;
      if (runtimeLog.lines.length < 200) runtimeLog.lines.push(line.slice(0, 300));
    }
  });
}

const WORKER_FILES = ['index.js', 'app.js', 'auth.js', 'config.js', 'http.js', 'routes.js'];

/**
 * A Miniflare instance. `script`: the source of a module worker that may `import ... from
 * 'akidb'` (default: the REST worker). `bindings`: plain env vars. `r2Persist`: a directory to
 * share one bucket between instances (default: in memory). The R2 bucket binding is `BUCKET`.
 */
export async function start({ script, bindings = {}, r2Persist, r2Bucket = 'BUCKET' } = {}) {
  const modules = script
    ? [{ type: 'ESModule', path: path.join(SRC, '__test.js'), contents: script }, ...akidbModules()]
    : [...WORKER_FILES.map((f) => ({ type: 'ESModule', path: path.join(SRC, f) })), ...akidbModules()];
  const mf = new Miniflare({
    modules,
    modulesRoot: SRC,
    compatibilityDate: '2025-07-18',
    host: '127.0.0.1',
    port: 0,
    bindings,
    r2Buckets: [r2Bucket],
    r2Persist: r2Persist ?? false,
    handleRuntimeStdio: drain,
  });
  await mf.ready;
  return mf;
}

/** POSTs/GETs JSON to an instance: `{ status, body }`. */
export async function call(mf, method, url, body, headers = {}) {
  const init = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await mf.dispatchFetch(`http://localhost${url}`, init);
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}
