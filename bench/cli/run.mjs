// Benchmark of the akidb command: import and export throughput (records/s) on the fs store and
// on a real S3 server (ministack, started here on 127.0.0.1 and stopped by PID), copy from fs to
// S3, and scan throughput of collection.scan in-process. Prints a markdown table and the exact
// commands it ran. Each CLI row is one child process, timed wall-clock (Node start and engine load
// included, ~0.1 s). Needs scripts/setup.sh (ministack venv) and pkg/ built.
//
//   node bench/cli/run.mjs [--records 20000] [--dim 128] [--batch 5000] [--no-s3]
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

import { AkiDB } from '../../pkg/node.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'pkg/cli.mjs');
const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    dim: { type: 'string', default: '128' },
    batch: { type: 'string', default: '5000' },
    'no-s3': { type: 'boolean', default: false },
  },
});
const N = Number(args.records);
const DIM = Number(args.dim);
const BATCH = Number(args.batch);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'akidb-bench-cli-'));
const rows = [];
const commands = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts ministack on 127.0.0.1 with SigV4 checks; resolves `{ env, stop }`. */
async function startS3() {
  const bin = path.join(ROOT, '.venv-s3/bin/ministack');
  if (!fs.existsSync(bin)) throw new Error('ministack missing: run scripts/setup.sh (or pass --no-s3)');
  const port = await freePort();
  const log = fs.openSync(path.join(work, 'ministack.log'), 'a');
  const child = spawn(bin, [], {
    env: { ...process.env, BIND_HOST: '127.0.0.1', GATEWAY_PORT: String(port), AUTH: 'true', LOG_LEVEL: 'WARNING', SERVICES: 's3,iam,sts' },
    stdio: ['ignore', log, log],
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`ministack exited; see ${work}/ministack.log`);
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (i > 120) {
        await stop();
        throw new Error('ministack did not answer within 30 s');
      }
      await sleep(250);
    }
  }
  const out = execFileSync(path.join(ROOT, '.venv-s3/bin/python'), [path.join(ROOT, 'tests/edge/s3_bootstrap.py'), endpoint, 'akidb-bench-cli'], { encoding: 'utf8' });
  const vars = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  return { vars, stop, pid: child.pid };
}

/** Runs the CLI; resolves seconds taken. */
function cli(argv, env = {}) {
  commands.push(`akidb ${argv.map((a) => (/[\s?&"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`akidb ${argv.join(' ')} exited ${code}: ${err}`));
      resolve(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

function row(store, op, seconds, extra = '') {
  rows.push({ store, op, seconds, rate: Math.round(N / seconds), extra });
}

/** Records/s of collection.scan (vectors and metadata) over one handle, in this process. */
async function scanRate(options, name) {
  const db = await AkiDB.open({ ...options, logLevel: 'error', autoCompact: false });
  const c = await db.collection(name);
  const t0 = performance.now();
  let n = 0;
  for await (const batch of c.scan({ batchSize: 1000 })) n += batch.length;
  const s = (performance.now() - t0) / 1000;
  if (n !== N) throw new Error(`scan saw ${n} records, expected ${N}`);
  return s;
}

// The input: N records of dimension DIM with small metadata, as JSON lines.
const input = path.join(work, 'input.jsonl');
{
  let x = 1;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const fd = fs.openSync(input, 'w');
  for (let i = 0; i < N; i += 1000) {
    let chunk = '';
    for (let k = i; k < Math.min(N, i + 1000); k++) {
      const v = Array.from({ length: DIM }, () => Math.fround(rand()));
      chunk += JSON.stringify({ id: `doc-${k}`, vector: v, metadata: { k, group: k % 10 } }) + '\n';
    }
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
}
const inputBytes = fs.statSync(input).size;

let s3 = null;
try {
  const fsDir = path.join(work, 'fs');
  const fsUrl = `file:${fsDir}`;
  row('fs', 'import', await cli(['import', fsUrl, 'bench', input, '--create', '--distance', 'cosine', '--batch-size', String(BATCH), '--quiet']));
  const outFs = path.join(work, 'export-fs.jsonl');
  row('fs', 'export', await cli(['export', fsUrl, 'bench', '-o', outFs, '--quiet']), `${(fs.statSync(outFs).size / 1e6).toFixed(1)} MB`);
  row('fs', 'scan (in-process)', await scanRate({ store: 'fs', path: fsDir }, 'bench'), 'collection.scan({ batchSize: 1000 })');
  if (!args['no-s3']) {
    s3 = await startS3();
    const v = s3.vars;
    const env = { AWS_ACCESS_KEY_ID: v.AKIDB_S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: v.AKIDB_S3_SECRET_ACCESS_KEY, AWS_REGION: v.AKIDB_S3_REGION };
    const s3Url = (prefix) => `s3://${v.AKIDB_S3_BUCKET}/${prefix}?endpoint=${v.AKIDB_S3_ENDPOINT}&region=${v.AKIDB_S3_REGION}`;
    row('s3 (ministack)', 'import', await cli(['import', s3Url('bench/import/'), 'bench', input, '--create', '--distance', 'cosine', '--batch-size', String(BATCH), '--quiet'], env));
    const outS3 = path.join(work, 'export-s3.jsonl');
    row('s3 (ministack)', 'export', await cli(['export', s3Url('bench/import/'), 'bench', '-o', outS3, '--quiet'], env));
    if (fs.readFileSync(outS3).length !== fs.readFileSync(outFs).length) throw new Error('the fs and S3 exports differ in size');
    row('fs -> s3', 'copy', await cli(['copy', fsUrl, s3Url('bench/copy/'), 'bench', '--batch-size', String(BATCH), '--quiet'], env));
    const s3Options = {
      store: 's3',
      endpoint: v.AKIDB_S3_ENDPOINT,
      region: v.AKIDB_S3_REGION,
      bucket: v.AKIDB_S3_BUCKET,
      prefix: 'bench/import/',
      accessKeyId: v.AKIDB_S3_ACCESS_KEY_ID,
      secretAccessKey: v.AKIDB_S3_SECRET_ACCESS_KEY,
    };
    row('s3 (ministack)', 'scan (in-process)', await scanRate(s3Options, 'bench'), 'collection.scan({ batchSize: 1000 })');
  }
} finally {
  if (s3) await s3.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

console.log(`\n### akidb CLI: ${N.toLocaleString('en-US')} records x ${DIM} dims (cosine), input ${(inputBytes / 1e6).toFixed(1)} MB JSON lines, batches of ${BATCH}; ${os.cpus().length} cores, Node ${process.version}\n`);
console.log('| store | operation | seconds | records/s | notes |');
console.log('|---|---|---:|---:|---|');
for (const r of rows) console.log(`| ${r.store} | ${r.op} | ${r.seconds.toFixed(2)} | ${r.rate.toLocaleString('en-US')} | ${r.extra} |`);
console.log('\ncommands run (FILE, DIR and the S3 bucket, endpoint and credentials are this run\'s; credentials from AWS_* variables):');
for (const c of commands) console.log(`    ${c}`);
