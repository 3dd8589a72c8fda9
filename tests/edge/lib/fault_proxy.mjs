// A small HTTP proxy between S3 clients and the S3 server that counts requests and injects
// faults: 500s without forwarding, 500s after forwarding (the request was applied), connections
// cut after forwarding (the answer is lost), and added latency. Seeded, so runs are repeatable.
// The Host header is forwarded as sent, so SigV4 signatures still verify.
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

const S3_ERROR = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>injected</Message></Error>';

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
 * Rates are probabilities per request. Resolves `{ url, counts, faults, reset(), close() }`.
 */
export function startFaultProxy({ target, seed = 1, error500 = 0, error500After = 0, cutAfter = 0, maxLatencyMs = 0 }) {
  const up = new URL(target);
  const random = rng(seed);
  const counts = {};
  const faults = { error500: 0, error500After: 0, cutAfter: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const k = kind(req.method, req.url);
      counts[k] = (counts[k] ?? 0) + 1;
      const roll = random();
      if (maxLatencyMs > 0) await new Promise((r) => setTimeout(r, random() * maxLatencyMs));
      if (roll < error500) {
        faults.error500++;
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
            if (roll < error500 + error500After) {
              faults.error500After++;
              res.writeHead(500, { 'content-type': 'application/xml' }).end(S3_ERROR);
            } else if (roll < error500 + error500After + cutAfter) {
              faults.cutAfter++;
              req.socket.destroy();
            } else {
              res.writeHead(upRes.statusCode, upRes.headers).end(Buffer.concat(parts));
            }
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
        faults,
        reset() {
          for (const k of Object.keys(counts)) delete counts[k];
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
