// API-key authentication of the REST worker. Keys come from the worker environment
// (`API_KEYS`, comma-separated); a request presents one as `Authorization: Bearer <key>` or
// `X-API-Key: <key>`. With no key configured every protected route is refused (fail closed).
// Keys are never logged or echoed.

import { HttpError } from './http.js';

/** The configured keys. */
export function apiKeys(env) {
  return String(env.API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

/** Compares in time independent of where the strings differ. */
function sameKey(a, b) {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** The key a request presents, if any. */
function presented(request) {
  const auth = request.headers.get('authorization');
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return m ? m[1].trim() : null;
  }
  return request.headers.get('x-api-key')?.trim() || null;
}

/** Throws 401 unless the request presents one of `keys`. */
export function authorize(request, keys) {
  const key = presented(request);
  let ok = false;
  for (const k of keys) ok = sameKey(key ?? '', k) || ok;
  if (!key || !ok) {
    throw new HttpError(401, 'UNAUTHENTICATED', 'missing or invalid API key (Authorization: Bearer <key> or X-API-Key)', {
      'www-authenticate': 'Bearer',
    });
  }
}
