// The REST worker's request handler, independent of the runtime entry point: opens the
// database once per isolate (the R2 bucket binding `BUCKET` if there is one, else the S3
// settings of the environment), keeps collection handles (and their segment caches) between
// requests, checks API keys, routes, and turns every failure
// into a JSON error. After a write whose collection needs compaction, compacts it (+ one GC
// pass) through `ctx.waitUntil`, after the response, at most one at a time per collection in
// this isolate. Request and compaction counters go to /metrics with the engine's.

import { apiKeys, authorize, mayUse, permit } from './auth.js';
import { autoCompact, corsOrigins, openOptions, limits, storePrefix } from './config.js';
import { HttpError, errorResponse, isGeneric } from './http.js';
import { match } from './routes.js';

/** How long an automatic compaction that never finished blocks the next one (ms). */
const COMPACT_LEASE_MS = 120000;
/** Automatic compaction waits up to this long (random) before it looks again. */
const COMPACT_JITTER_MS = 250;
/**
 * A GC pass follows an automatic compaction only when this long has passed since this isolate's
 * first automatic compaction of the collection and since its last GC pass there. Every pass
 * raises the fence, and a group commit in flight across two passes re-uploads its segments (five
 * rounds, then CONFLICT for every caller in the group): a pass after every compaction — 5 busy
 * isolates crossing the threshold together — failed 4-7 % of the seed load test's upserts that
 * way (docs/EDGE.md). Retired segments wait two passes, so they go within about two intervals.
 */
const AUTO_GC_INTERVAL_MS = 30000;

/**
 * The automatic compaction of one handle: after a random pause, re-read the manifest (a 304 when
 * unchanged) and compact only if it still needs it. Several isolates see the same collection
 * cross the threshold at once; the pause lets one of them go first and the others find its
 * result, instead of all merging the same segments and all but one being superseded. Resolves
 * the receipt, or null when it was skipped.
 */
async function settleThenCompact(c, gc) {
  await new Promise((r) => setTimeout(r, Math.random() * COMPACT_JITTER_MS));
  await c.refresh();
  if (!c.needsCompaction()) return null;
  return c.compact({ auto: true, gc });
}

/** Request headers a browser may send cross-origin (CORS preflight). */
const CORS_ALLOW_HEADERS = 'authorization, x-api-key, content-type';
/** Response headers a cross-origin script may read. */
const CORS_EXPOSE_HEADERS = 'retry-after, www-authenticate, allow';
/** How long a browser may cache a preflight answer (s). */
const CORS_MAX_AGE = '86400';

/**
 * CORS headers for a request from `origin` under `allowed` (corsOrigins()): {} when CORS is off
 * or the origin is not allowed. With a list of origins, `Vary: Origin` is always set.
 */
function corsHeaders(allowed, origin) {
  if (!allowed) return {};
  const h = allowed === '*' ? {} : { vary: 'Origin' };
  if (origin && (allowed === '*' || allowed.has(origin))) {
    h['access-control-allow-origin'] = allowed === '*' ? '*' : origin;
    h['access-control-expose-headers'] = CORS_EXPOSE_HEADERS;
  }
  return h;
}

/** Creates the handler around the AkiDB class of the package. */
export function createApp(AkiDB) {
  // Only settled objects are shared between requests, never in-flight promises: a Workers
  // request must not wait on I/O that belongs to another request.
  let db = null;
  const handles = new Map();
  const requests = new Map();
  // Collection name → start (ms) of its automatic compaction in this isolate.
  const compacting = new Map();
  // Collection name → time (ms) of the last GC pass after an automatic compaction here.
  const collected = new Map();
  const compactions = new Map();
  const compacted = { merges: 0, superseded: 0, recordsDropped: 0, bytesRead: 0, bytesWritten: 0 };
  // This isolate on /health: an id drawn on its first request (Workers forbid random numbers at
  // module scope) and how many requests it has served, so a client can tell it was not replaced.
  let instance = null;
  let served = 0;

  function count(method, route, status) {
    const key = `method="${method}",route="${route}",status="${status}"`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
  }

  function countCompaction(trigger, outcome, r) {
    const key = `trigger="${trigger}",outcome="${outcome}"`;
    compactions.set(key, (compactions.get(key) ?? 0) + 1);
    if (r) for (const k of Object.keys(compacted)) compacted[k] += r[k] ?? 0;
  }

  /**
   * After a successful write on handle `c`: when its snapshot needs compaction (≥ 8 segments or
   * ≥ 1,000 tombstones, and a merge the policy wants; no I/O to find out) and no compaction of
   * that collection is running in this isolate, compact it after the response, followed by a GC
   * pass at most every AUTO_GC_INTERVAL_MS.
   * A task the runtime never finishes (cancelled past the waitUntil limit) blocks the next one
   * for at most COMPACT_LEASE_MS; two compactions at once are safe anyway (one is superseded).
   */
  function maybeCompact(name, c, env, executionCtx) {
    if (!autoCompact(env) || typeof executionCtx?.waitUntil !== 'function') return;
    const since = compacting.get(name);
    if (since !== undefined && Date.now() - since < COMPACT_LEASE_MS) return;
    if (!c.needsCompaction()) return;
    const started = Date.now();
    compacting.set(name, started);
    if (!collected.has(name)) collected.set(name, started);
    const gc = started - collected.get(name) >= AUTO_GC_INTERVAL_MS;
    const task = settleThenCompact(c, gc)
      .then(
        (r) => {
          if (!r) return countCompaction('auto', 'skipped');
          countCompaction('auto', r.merges > 0 ? 'merged' : 'nothing', r);
          if (r.gc) collected.set(name, started);
          if (r.gcError) console.warn(`GC after compacting '${name}' failed: ${r.gcError.code} ${r.gcError.message}`);
        },
        (e) => {
          countCompaction('auto', 'error');
          console.warn(`automatic compaction of '${name}' failed: ${e?.code ?? ''} ${e?.message ?? e}`);
        },
      )
      .finally(() => {
        if (compacting.get(name) === started) compacting.delete(name);
      });
    executionCtx.waitUntil(task);
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

  function context(env, principal) {
    return {
      db,
      limits: limits(env),
      // Scope checks of the API key (auth.js) for routes that find the collection in the body.
      permit(level, name) {
        permit(principal, level, name);
      },
      mayUse(name) {
        return mayUse(principal, name);
      },
      // Set by write routes: { name, handle } of the collection they changed.
      written: null,
      wrote(name, handle) {
        this.written = { name, handle };
      },
      compacted(r) {
        countCompaction('request', r.merges > 0 ? 'merged' : 'nothing', r);
      },
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
        lines.push('# HELP akidb_compactions_total Compaction calls by trigger (auto: after a write; request: the compact route) and outcome (this isolate).');
        lines.push('# TYPE akidb_compactions_total counter');
        for (const [labels, n] of compactions) lines.push(`akidb_compactions_total{${labels}} ${n}`);
        for (const [k, name, help] of [
          ['merges', 'akidb_compaction_merges_total', 'Merges committed by compactions of this isolate.'],
          ['superseded', 'akidb_compaction_superseded_total', 'Merges abandoned because another compaction replaced an input first.'],
          ['recordsDropped', 'akidb_compaction_records_dropped_total', 'Shadowed or deleted records dropped by compaction.'],
          ['bytesRead', 'akidb_compaction_read_bytes_total', 'Bytes of segments compaction read.'],
          ['bytesWritten', 'akidb_compaction_written_bytes_total', 'Bytes of segments compaction wrote.'],
        ]) {
          lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${compacted[k]}`);
        }
        const text = `${db.metricsText().trimEnd()}\n${lines.join('\n')}\n`;
        return new Response(text, { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
      },
    };
  }

  return async function handle(request, env, executionCtx) {
    instance ??= crypto.randomUUID();
    served++;
    const url = new URL(request.url);
    const cors = corsOrigins(env);
    const origin = request.headers.get('origin');
    let label = 'unmatched';
    let found = null;
    let response;
    try {
      found = match(url.pathname);
      if (!found) throw new HttpError(404, 'NOT_FOUND', `no route for ${url.pathname}`);
      label = found.label;
      const allow = Object.keys(found.route.methods).join(', ');
      if (request.method === 'OPTIONS' && cors) {
        // A CORS preflight (CORS_ORIGINS set): answered for allowed origins, no key needed.
        if (!origin || !(cors === '*' || cors.has(origin))) {
          throw new HttpError(403, 'FORBIDDEN', 'origin not allowed (CORS_ORIGINS)');
        }
        response = new Response(null, {
          status: 204,
          headers: {
            'access-control-allow-methods': `${allow}, OPTIONS`,
            'access-control-allow-headers': CORS_ALLOW_HEADERS,
            'access-control-max-age': CORS_MAX_AGE,
          },
        });
      } else {
        const entry = found.route.methods[request.method];
        if (!entry) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allow} on ${found.label}`, { allow });
        const [level, handler] = entry;
        if (found.route.public) {
          response = await handler({ instance, requests: served });
        } else {
          const principal = authorize(request, apiKeys(env));
          // A `:name` capture is the collection; POST /collections checks the body's name.
          permit(principal, level, found.route.path[1] === ':name' ? found.params[0] : undefined);
          await database(env);
          const ctx = context(env, principal);
          response = await handler(ctx, request, ...found.params);
          if (ctx.written && response.status < 300) {
            // The write is answered whatever happens here.
            try {
              maybeCompact(ctx.written.name, ctx.written.handle, env, executionCtx);
            } catch (e) {
              console.warn(`could not schedule compaction of '${ctx.written.name}': ${e?.message ?? e}`);
            }
          }
        }
      }
    } catch (e) {
      // A dropped collection: the next request opens a fresh handle.
      if (e?.code === 'NOT_FOUND' && found?.params.length) handles.delete(found.params[0]);
      response = errorResponse(e, { prefix: storePrefix(env) });
      // The detail (object keys, prefix, S3 codes) only in the log; the caller gets a generic
      // message for storage, credential, corruption and internal failures.
      if (response.status >= 500 || (!(e instanceof HttpError) && isGeneric(e?.code ?? 'INTERNAL'))) {
        console.error(`${request.method} ${label}: ${response.status} ${e?.code ?? ''} ${e?.message ?? e}`);
      }
    }
    for (const [k, v] of Object.entries(corsHeaders(cors, origin))) response.headers.set(k, v);
    count(request.method, label, response.status);
    return response;
  };
}
