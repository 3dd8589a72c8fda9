// Child processes of the edge tests: free ports, bounded readiness polling, workerd servers,
// and stopping by PID (SIGTERM, then SIGKILL after a grace period). Every process a test starts
// is stopped by that test.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { openSync, closeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers (any status) or `timeoutMs` passes. */
export async function waitForHttp(url, timeoutMs = 15000, alive = () => true) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`process for ${url} exited before it answered`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Stops a child by PID: SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/**
 * Starts the REST worker on workerd at 127.0.0.1:<port> (`port`, or a free one) with S3 settings
 * `s3` (AkiDB.open-style option names) and extra environment. Resolves once /health answers.
 */
export async function startWorkerd({ s3, prefix, apiKeys, env = {}, logFile, port: wanted }) {
  const port = wanted ?? (await freePort());
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(
    join(ROOT, 'node_modules/.bin/workerd'),
    ['serve', join(ROOT, 'www/worker/config.capnp'), '--socket-addr', `http=127.0.0.1:${port}`],
    {
      stdio: ['ignore', out, out],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AKIDB_S3_ENDPOINT: s3.endpoint,
        AKIDB_S3_REGION: s3.region,
        AKIDB_S3_BUCKET: s3.bucket,
        AKIDB_S3_ACCESS_KEY_ID: s3.accessKeyId,
        AKIDB_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AKIDB_S3_PREFIX: prefix,
        AKIDB_API_KEYS: apiKeys,
        ...env,
      },
    },
  );
  if (typeof out === 'number') closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/health`, 20000, () => child.exitCode === null);
  } catch (e) {
    await stop(child);
    throw e;
  }
  return { child, url, port, stop: () => stop(child) };
}

/** Runs `node script args…` to completion (bounded by `timeoutMs`); resolves `{ code, stdout, stderr }`. */
export function runNode(script, args, { env = {}, timeoutMs = 300000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
