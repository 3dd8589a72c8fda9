// API-key authentication and scopes of the REST worker. Keys come from the worker environment
// (`API_KEYS`, comma-separated); a request presents one as `Authorization: Bearer <key>` or
// `X-API-Key: <key>` — either header authenticates, so a non-Bearer or stale `Authorization`
// header (e.g. added by a proxy) does not hide a valid `X-API-Key`. With no key configured every
// protected route is refused (fail closed). Keys are never logged or echoed.
//
// An entry may carry a scope: `key:read`, `key:write`, `key:admin`, optionally limited to some
// collections: `key:write:docs|images` (`|` separates collection names; the comma already
// separates entries). read < write < admin; an entry without a scope has full access, as before.
// An entry whose part after the first ':' is not a scope is a plain key (keys may contain ':').

import { HttpError } from './http.js';

/** Scope levels: what each scope may do includes what the ones below may. */
export const LEVELS = { read: 1, write: 2, admin: 3 };

/** The configured keys: `[{ key, level, collections: Set | null }]`. */
export function apiKeys(env) {
  return String(env.API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0)
    .map(parseEntry);
}

function parseEntry(entry) {
  const parts = entry.split(':');
  for (let i = parts.length - 1; i >= 1; i--) {
    // `key:scope` or `key:scope:collections`, where key may itself contain ':'.
    const scope = parts[i];
    const rest = parts.slice(i + 1);
    if (scope in LEVELS && rest.length <= 1 && parts.slice(0, i).join(':').length > 0) {
      const names = rest.length ? rest[0].split('|').map((n) => n.trim()).filter((n) => n.length > 0) : [];
      return { key: parts.slice(0, i).join(':'), level: LEVELS[scope], collections: names.length ? new Set(names) : null };
    }
  }
  return { key: entry, level: LEVELS.admin, collections: null };
}

/** Compares in time independent of where the strings differ. */
function sameKey(a, b) {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** The keys a request presents: the Bearer token and the X-API-Key header, each if present. */
function presented(request) {
  const out = [];
  const auth = request.headers.get('authorization');
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  if (m && m[1].trim()) out.push(m[1].trim());
  const x = request.headers.get('x-api-key')?.trim();
  if (x) out.push(x);
  return out;
}

/**
 * The principal of the request: the configured entry of a presented key (the widest one when
 * both headers match different entries). Throws 401 unless the request presents one of `keys`.
 * Every presented key is compared with every configured one (no early exit).
 */
export function authorize(request, keys) {
  const given = presented(request);
  let found = null;
  for (const g of given) {
    for (const k of keys) {
      if (sameKey(g, k.key) && (!found || k.level > found.level || (k.level === found.level && !k.collections))) found = k;
    }
  }
  if (!found) {
    throw new HttpError(401, 'UNAUTHENTICATED', 'missing or invalid API key (Authorization: Bearer <key> or X-API-Key)', {
      'www-authenticate': 'Bearer',
    });
  }
  return { level: found.level, collections: found.collections };
}

const NAMES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, k]));

/** Throws 403 unless `principal` may act at `level` (on collection `name`, when given). */
export function permit(principal, level, name) {
  if (principal.level < level) {
    throw new HttpError(403, 'FORBIDDEN', `this API key's scope does not allow ${NAMES[level]} access`);
  }
  if (name !== undefined && !mayUse(principal, name)) {
    throw new HttpError(403, 'FORBIDDEN', 'this API key is not allowed on this collection');
  }
}

/** Whether `principal` may see collection `name`. */
export function mayUse(principal, name) {
  return !principal.collections || principal.collections.has(name);
}
