// A tiny client of the REST worker for the tests and the benchmark.

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
