// The REST worker's request handler, independent of the runtime entry point: opens the
// database once per isolate (S3 settings from the environment), keeps collection handles (and
// their segment caches) between requests, checks API keys, routes, and turns every failure
// into a JSON error. Request counters go to /metrics with the engine's.

import { apiKeys, authorize } from './auth.js';
import { openOptions, limits } from './config.js';
import { HttpError, errorResponse } from './http.js';
import { match } from './routes.js';

/** Creates the handler around the AkiDB class of the package. */
export function createApp(AkiDB) {
  // Only settled objects are shared between requests, never in-flight promises: a Workers
  // request must not wait on I/O that belongs to another request.
  let db = null;
  const handles = new Map();
  const requests = new Map();

  function count(method, route, status) {
    const key = `method="${method}",route="${route}",status="${status}"`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
  }

  async function database(env) {
    if (!db) {
      try {
        db = await AkiDB.open(openOptions(env));
      } catch (e) {
        throw new HttpError(500, 'MISCONFIGURED', `the worker's store settings are invalid: ${e.message}`);
      }
    }
    return db;
  }

  function context(env) {
    return {
      db,
      limits: limits(env),
      async collection(name) {
        let h = handles.get(name);
        if (!h) {
          // Opened with this request's own I/O; kept once settled for later requests. Requests
          // that opened it concurrently use the first settled handle, not their own, so all
          // upserts of the isolate share one group committer (one commit in flight) from the
          // start instead of each committing alone and contending on the manifest.
          const opened = await db.collection(name);
          if (!handles.has(name)) handles.set(name, opened);
          h = handles.get(name);
        }
        return h;
      },
      forget(name) {
        handles.delete(name);
      },
      metricsResponse() {
        const lines = ['# HELP akidb_http_requests_total HTTP requests by route and status (this isolate).'];
        lines.push('# TYPE akidb_http_requests_total counter');
        for (const [labels, n] of requests) lines.push(`akidb_http_requests_total{${labels}} ${n}`);
        const text = `${db.metricsText().trimEnd()}\n${lines.join('\n')}\n`;
        return new Response(text, { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
      },
    };
  }

  return async function handle(request, env) {
    const url = new URL(request.url);
    let label = 'unmatched';
    let found = null;
    let response;
    try {
      found = match(url.pathname);
      if (!found) throw new HttpError(404, 'NOT_FOUND', `no route for ${url.pathname}`);
      label = found.label;
      const handler = found.route.methods[request.method];
      if (!handler) {
        const allow = Object.keys(found.route.methods).join(', ');
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allow} on ${found.label}`, { allow });
      }
      if (!found.route.public) authorize(request, apiKeys(env));
      if (!found.route.public) await database(env);
      const ctx = found.route.public ? null : context(env);
      response = await handler(ctx, request, ...found.params);
    } catch (e) {
      // A dropped collection: the next request opens a fresh handle.
      if (e?.code === 'NOT_FOUND' && found?.params.length) handles.delete(found.params[0]);
      response = errorResponse(e);
      if (response.status >= 500) console.error(`${request.method} ${label}: ${response.status} ${e?.code ?? ''} ${e?.message ?? e}`);
    }
    count(request.method, label, response.status);
    return response;
  };
}
