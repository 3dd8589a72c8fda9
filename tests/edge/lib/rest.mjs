// A tiny client of the REST worker for the tests and the benchmark.

import http from 'node:http';

/** `call(method, path, body?, { key, raw, timeoutMs })` → `{ status, body, headers }` (JSON or text body). */
export function client(base, key) {
  return async function call(method, path, body, opts = {}) {
    const headers = {};
    const k = opts.key === undefined ? key : opts.key;
    if (k) headers.authorization = `Bearer ${k}`;
    let payload;
    if (opts.raw !== undefined) payload = opts.raw;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: payload, signal: AbortSignal.timeout(opts.timeoutMs ?? 120000) });
    const text = await res.text();
    let parsed = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

/**
 * The same call over node:http with a keep-alive agent, for load generators: Node's fetch costs
 * ~0.7 ms of CPU per request, which on a 2-core machine is CPU taken from the servers being
 * measured; this costs a fraction of that. JSON bodies only; rejects on timeout or socket error.
 */
export function lightClient(base, key, { sockets = 256 } = {}) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const call = (method, path, body, opts = {}, retried = false) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = { authorization: `Bearer ${key}` };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const req = http.request({ host: url.hostname, port: url.port, path, method, headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            const json = (res.headers['content-type'] ?? '').includes('json');
            resolve({ status: res.statusCode, body: json ? JSON.parse(text) : text, headers: res.headers });
          } catch (e) {
            reject(e);
          }
        });
      });
      req.setTimeout(opts.timeoutMs ?? 120000, () => req.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError' })));
      req.on('error', (e) => {
        // The server closed an idle keep-alive socket just as we reused it: the request never
        // reached it, so send it once more on a fresh socket (the pattern of Node's docs).
        if (req.reusedSocket && e.code === 'ECONNRESET' && !retried) resolve(call(method, path, body, opts, true));
        else reject(e);
      });
      req.end(payload);
    });
  return call;
}

/** Runs `tasks` (functions returning promises) with at most `limit` in flight. */
export async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  async function lane() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}
