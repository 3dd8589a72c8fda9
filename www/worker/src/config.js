// Settings of the REST worker from its environment (workerd bindings, or wrangler vars and
// secrets). Secrets are passed to the engine only; nothing here logs them.

/**
 * Request bodies: 16 MiB by default, `MAX_BODY_BYTES` within 1 KiB..64 MiB. A Workers isolate has
 * 128 MB; a body is held once as bytes, once as a string and once parsed (a JSON number array
 * takes ~8 bytes per element parsed), so 16 MiB leaves room for the engine's own copies.
 * `MAX_BODY_BYTES` may lower it, or raise it up to 64 MiB (larger values are capped).
 */
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const MAX_MAX_BODY = 64 * 1024 * 1024;

function number(v, fallback) {
  const n = Number(v);
  return v === undefined || v === null || v === '' || !Number.isFinite(n) || n < 0 ? fallback : n;
}

function bool(v) {
  if (v === undefined || v === null || v === '') return undefined;
  return ['1', 'true', 'yes'].includes(String(v).toLowerCase());
}

/**
 * The R2 bucket binding the worker stores in, if one is configured: `env.BUCKET` (wrangler
 * `[[r2_buckets]] binding = "BUCKET"`) when it is an object (a binding, not a text variable).
 */
export function r2Binding(env) {
  const b = env.BUCKET;
  return b !== null && typeof b === 'object' ? b : null;
}

/** Prefix of every key in the store: `STORE_PREFIX`, else `S3_PREFIX` (the older name), else none. */
export function storePrefix(env) {
  return env.STORE_PREFIX || env.S3_PREFIX || '';
}

/**
 * `AkiDB.open` options from the environment: the R2 bucket binding `BUCKET` when there is one
 * (no credentials, no request signing), else the S3 store named by the `S3_*` settings.
 */
export function openOptions(env) {
  const retry = {};
  if (env.RETRY_MAX_RETRIES) retry.maxRetries = number(env.RETRY_MAX_RETRIES, 10);
  if (env.RETRY_MAX_ELAPSED_MS) retry.maxElapsedMs = number(env.RETRY_MAX_ELAPSED_MS, 30000);
  if (env.RETRY_MAX_BACKOFF_MS) retry.maxBackoffMs = number(env.RETRY_MAX_BACKOFF_MS, 5120);
  if (env.RETRY_INITIAL_BACKOFF_MS) retry.initialBackoffMs = number(env.RETRY_INITIAL_BACKOFF_MS, 10);
  if (env.RETRY_JITTER) retry.jitter = String(env.RETRY_JITTER);
  const common = {
    prefix: storePrefix(env),
    logLevel: env.LOG_LEVEL || 'warn',
    // Group commit across the requests of this isolate. Workers cancel a request that waits on
    // another request's I/O or wake-up ("hung"), so waiting requests poll their own outcome on
    // their own timer (pollIntervalMs) instead of being woken by the committing request. 10 ms:
    // 2 ms cost a third of workerd CPU under load for less throughput (bench/load/README.md).
    groupCommit: bool(env.GROUP_COMMIT) === false ? false : groupCommit(env),
    retry: Object.keys(retry).length ? retry : undefined,
    // The engine's own automatic compaction schedules with setTimeout, which a Workers request
    // context does not outlive; the worker compacts through ctx.waitUntil instead (app.js).
    autoCompact: false,
  };
  const bucket = r2Binding(env);
  if (bucket) return { store: 'r2', bucket, ...common };
  return {
    store: 's3',
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION || 'auto',
    bucket: env.S3_BUCKET,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    sessionToken: env.S3_SESSION_TOKEN || undefined,
    forcePathStyle: bool(env.S3_FORCE_PATH_STYLE),
    ...common,
  };
}

/** Whether the worker compacts collections automatically after writes (`AUTO_COMPACT=0` disables). */
export function autoCompact(env) {
  return bool(env.AUTO_COMPACT) !== false;
}

/**
 * Group commit in polling mode, and the leader lease: a request that leads a commit and makes no
 * progress for `GROUP_COMMIT_LEASE_MS` (default 60000; e.g. workerd cancelled it) is replaced by a
 * waiting one. A set but unusable lease is passed on as it is, so opening fails loudly
 * (MISCONFIGURED) instead of silently using the default.
 */
function groupCommit(env) {
  const g = { pollIntervalMs: number(env.GROUP_COMMIT_POLL_MS, 10) || 10 };
  if (env.GROUP_COMMIT_LEASE_MS !== undefined && env.GROUP_COMMIT_LEASE_MS !== null && env.GROUP_COMMIT_LEASE_MS !== '') {
    g.leaderLeaseMs = Number(env.GROUP_COMMIT_LEASE_MS);
  }
  return g;
}

/** Request limits (docs/LIMITS.md). */
export function limits(env) {
  return {
    maxBodyBytes: Math.min(MAX_MAX_BODY, Math.floor(number(env.MAX_BODY_BYTES, DEFAULT_MAX_BODY))),
    maxVectorsPerRequest: 10000,
    maxIdsPerRequest: 10000,
    // Records per `get` request: each answer carries every vector asked for.
    maxGetIdsPerRequest: 1000,
    // The engine's dimension limit (src/limits.rs), checked here before the engine converts.
    maxVectorLength: 4096,
    maxK: 10000,
  };
}

/**
 * Allowed CORS origins from `CORS_ORIGINS`: null (unset: no CORS at all), '*' (any origin), or
 * the set of exact origins (comma-separated, e.g. `https://app.example.com,http://localhost:5173`).
 */
export function corsOrigins(env) {
  const raw = String(env.CORS_ORIGINS ?? '').trim();
  if (!raw) return null;
  const list = raw
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter((o) => o.length > 0);
  if (list.includes('*')) return '*';
  return list.length ? new Set(list) : null;
}
