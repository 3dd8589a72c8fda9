// A small HTTP proxy between S3 clients and the S3 server that counts requests and injects
// faults: 500s without forwarding, 500s after forwarding (the request was applied), connections
// cut after forwarding (the answer is lost), 503 SlowDown after forwarding a manifest PUT (the
// commit landed, the client sees a throttling answer), "blackouts" (after an ambiguous manifest
// PUT, every manifest GET and PUT is answered 503 without forwarding for a while, so the writer
// cannot learn whether its commit landed before its retry budget runs out), and added latency.
// Seeded, so the fault decisions are repeatable. The Host header is forwarded as sent, so SigV4
// signatures still verify.
import { createServer, request as httpRequest } from 'node:http';

function rng(seed) {
  let x = BigInt(seed) || 88172645463325252n;
  return () => {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    return Number(x % 1000000n) / 1000000;
  };
}

const s3Error = (code) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected</Message></Error>`;
const S3_ERROR = s3Error('InternalError');
const S3_SLOW_DOWN = s3Error('SlowDown');
const CODE_OF_STATUS = { 403: 'AccessDenied', 404: 'NoSuchKey', 409: 'ConditionalRequestConflict', 412: 'PreconditionFailed', 503: 'SlowDown' };

function kind(method, url) {
  if (method === 'GET' && /[?&]list-type=2/.test(url)) return 'LIST';
  if (method === 'GET' && /\/manifest\.json/.test(url)) return 'GET manifest';
  if (method === 'PUT' && /\/manifest\.json/.test(url)) return 'PUT manifest';
  if (method === 'PUT' && /\.seg($|\?)/.test(url)) return 'PUT segment';
  if (method === 'GET' && /\.seg($|\?)/.test(url)) return 'GET segment';
  return method;
}

/**
 * Starts the proxy on 127.0.0.1 (random port) in front of `target` (`http://host:port`).
 * Rates are probabilities per request: `error500` (not forwarded), `error500After`, `cutAfter`
 * (forwarded, answer replaced or lost), `manifest503After` (manifest PUTs only: forwarded, then
 * 503 SlowDown). `blackout: { chance, ms, max }`: after an ambiguous fault on a manifest PUT,
 * with probability `chance` refuse every manifest GET and PUT with 503 for `ms` milliseconds, at
 * most `max` times. `kinds`: the request kinds ('PUT manifest', 'GET manifest', 'PUT segment',
 * 'GET segment', 'LIST', or a method) the random faults apply to (default: all). `refuse`:
 * `{ kind: status }` answered at once without forwarding (e.g. `{ 'PUT manifest': 412 }`, every
 * commit loses its compare-and-swap). Resolves `{ url, counts, bytes, faults, configure(rates), reset(), close() }`
 * (`counts`: requests per kind; `bytes`: response body bytes forwarded per kind);
 * `configure` changes any of the rates from now on (and ends a blackout).
 */
export function startFaultProxy({ target, seed = 1, ...rates }) {
  const cfg = {
    error500: 0,
    error500After: 0,
    cutAfter: 0,
    manifest503After: 0,
    blackout: { chance: 0, ms: 0, max: 0 },
    maxLatencyMs: 0,
    kinds: null,
    refuse: {},
  };
  Object.assign(cfg, rates);
  const up = new URL(target);
  const random = rng(seed);
  const counts = {};
  const bytes = {};
  const faults = { error500: 0, error500After: 0, cutAfter: 0, manifest503After: 0, blackouts: 0, blackedOut: 0, refused: 0 };
  let darkUntil = 0;

  // After an ambiguous answer to a manifest PUT: maybe go dark for the manifest.
  function maybeBlackout(k, roll) {
    const { chance = 0, ms = 0, max = 0 } = cfg.blackout ?? {};
    if (k !== 'PUT manifest' || faults.blackouts >= max) return;
    if (roll < chance) {
      faults.blackouts++;
      darkUntil = Date.now() + ms;
    }
  }

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const k = kind(req.method, req.url);
      counts[k] = (counts[k] ?? 0) + 1;
      const { error500, error500After, cutAfter, manifest503After, maxLatencyMs, kinds, refuse } = cfg;
      const roll = !kinds || kinds.includes(k) ? random() : (random(), 1);
      const darkRoll = random();
      if (maxLatencyMs > 0) await new Promise((r) => setTimeout(r, random() * maxLatencyMs));
      if ((k === 'GET manifest' || k === 'PUT manifest') && Date.now() < darkUntil) {
        faults.blackedOut++;
        res.writeHead(503, { 'content-type': 'application/xml' }).end(S3_SLOW_DOWN);
        return;
      }
      if (refuse?.[k]) {
        faults.refused++;
        res.writeHead(refuse[k], { 'content-type': 'application/xml' }).end(s3Error(CODE_OF_STATUS[refuse[k]] ?? 'InternalError'));
        return;
      }
      if (roll < error500) {
        faults.error500++;
        maybeBlackout(k, darkRoll);
        res.writeHead(500, { 'content-type': 'application/xml' }).end(S3_ERROR);
        return;
      }
      const body = Buffer.concat(chunks);
      const fwd = httpRequest(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const parts = [];
          upRes.on('data', (c) => parts.push(c));
          upRes.on('end', () => {
            let t = error500 + error500After;
            if (roll < t) {
              faults.error500After++;
              maybeBlackout(k, darkRoll);
              res.writeHead(500, { 'content-type': 'application/xml' }).end(S3_ERROR);
              return;
            }
            t += cutAfter;
            if (roll < t) {
              faults.cutAfter++;
              maybeBlackout(k, darkRoll);
              req.socket.destroy();
              return;
            }
            t += k === 'PUT manifest' ? manifest503After : 0;
            if (roll < t) {
              faults.manifest503After++;
              maybeBlackout(k, darkRoll);
              res.writeHead(503, { 'content-type': 'application/xml' }).end(S3_SLOW_DOWN);
              return;
            }
            const out = Buffer.concat(parts);
            bytes[k] = (bytes[k] ?? 0) + out.length;
            res.writeHead(upRes.statusCode, upRes.headers).end(out);
          });
        },
      );
      fwd.on('error', () => req.socket.destroy());
      fwd.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        counts,
        bytes,
        faults,
        configure(next) {
          Object.assign(cfg, next);
          darkUntil = 0;
        },
        reset() {
          for (const k of Object.keys(counts)) delete counts[k];
          for (const k of Object.keys(bytes)) delete bytes[k];
        },
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}
