// Serves the browser demo on 127.0.0.1: www/app at /, the built package at /pkg/, and the dataset
// slice (built first if missing) at /data/. Runs until Ctrl-C, or:
//   --check        start, fetch every part once (page, package, wasm, dataset), stop; exit 1 on failure
//   --timeout S    stop by itself after S seconds
//   --port P       listen on P (default 8080; a free port if P is taken)
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../server.mjs';
import { DEFAULT_OUT, REPO, ensureDataset } from './make-dataset.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Builds the dataset if needed and starts the demo server; resolves to `{ url, close, info }`. */
export async function startDemo({ port = 0, records = 5000 } = {}) {
  const info = ensureDataset({ out: DEFAULT_OUT, records });
  const mounts = { '/': here, '/pkg/': path.join(REPO, 'pkg'), '/data/': DEFAULT_OUT };
  const server = await startServer({ mounts, port }).catch((e) => {
    if (e.code !== 'EADDRINUSE') throw e;
    console.log(`port ${port} is taken; using a free one`);
    return startServer({ mounts, port: 0 });
  });
  return { ...server, info };
}

async function check(url) {
  for (const p of ['', 'app.js', 'pkg/index.js', 'pkg/wasm/akidb_bg.wasm', 'data/info.json', 'data/vectors.f32']) {
    const r = await fetch(url + p);
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`GET /${p}: HTTP ${r.status}`);
    console.log(`ok  GET /${p} (${r.headers.get('content-type')})`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const demo = await startDemo({ port: Number(arg('port') ?? 8080) });
  console.log(`dataset: ${demo.info.n} × ${demo.info.dim} — ${demo.info.source}`);
  console.log(`\nAkiDB browser demo: ${demo.url}\n`);
  const stop = async (code = 0) => {
    await demo.close();
    process.exit(code);
  };
  if (process.argv.includes('--check')) {
    await check(demo.url).then(
      () => stop(0),
      (e) => {
        console.error(`check failed: ${e.message}`);
        return stop(1);
      },
    );
  } else {
    console.log('Open it in a browser (open it in a second tab too). Ctrl-C stops the server.');
    process.on('SIGINT', () => stop(0));
    process.on('SIGTERM', () => stop(0));
    const timeout = Number(arg('timeout') ?? 0);
    if (timeout > 0) setTimeout(() => stop(0), timeout * 1000);
  }
}
