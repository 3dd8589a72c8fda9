// A tiny static file server for the demo, the browser tests and the browser benchmark.
// Listens on 127.0.0.1 only, serves a fixed set of mounted directories (never anything outside
// them), with the MIME types browsers need (application/wasm for streaming compilation) and
// `Cache-Control: no-store` so a rebuilt package is always picked up.
import http from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Starts serving. `mounts` maps URL prefixes ending in '/' to directories, e.g.
 * `{ '/': 'www/app', '/pkg/': 'pkg' }` (the longest matching prefix wins).
 * Resolves to `{ url, port, close }`; `close()` stops the server and its open connections.
 */
export async function startServer({ mounts, port = 0, host = '127.0.0.1' }) {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, path.resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      const file = await resolve(table, decodeURIComponent(url.pathname));
      if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(file ? 405 : 404, { 'content-type': 'text/plain' }).end(file ? 'method not allowed' : 'not found');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file.path)] ?? 'application/octet-stream',
        'content-length': file.size,
        'cache-control': 'no-store',
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file.path).pipe(res);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** The file for a URL path inside one of the mounts, or null (missing, or outside the mount). */
async function resolve(table, pathname) {
  for (const [prefix, dir] of table) {
    if (!pathname.startsWith(prefix)) continue;
    let p = path.resolve(dir, '.' + path.posix.normalize('/' + pathname.slice(prefix.length)));
    if (p !== dir && !p.startsWith(dir + path.sep)) return null;
    let st = await fs.stat(p).catch(() => null);
    if (st?.isDirectory()) {
      p = path.join(p, 'index.html');
      st = await fs.stat(p).catch(() => null);
    }
    return st?.isFile() ? { path: p, size: st.size } : null;
  }
  return null;
}
