// Store URLs of the akidb command and how each opens through the package's public API:
//   file:PATH (or file:///abs/path)            -> AkiDB.open({ store: 'fs', path })
//   s3://bucket/prefix?endpoint=URL&region=R   -> AkiDB.open({ store: 's3', ... }) with
//                                                 credentials from AWS_ACCESS_KEY_ID,
//                                                 AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//   memory:[NAME]                              -> AkiDB.open({ store: 'memory' }) (this process only)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AkiDB } from '../node.mjs';
import { CliError } from './args.mjs';

const S3_PARAMS = ['endpoint', 'region', 'pathStyle'];

/** What every store is opened with: quiet engine logs, no background compaction (a CLI exits). */
const BASE = { logLevel: 'error', autoCompact: false };

/**
 * Parses a store URL into `{ kind, label, options }` (`options` for AkiDB.open, secrets
 * included; `label` is safe to print). Throws a CliError naming what to fix.
 */
export function parseStore(url, env = process.env) {
  if (typeof url !== 'string' || url === '') throw new CliError('missing STORE (file:PATH, s3://bucket/prefix?endpoint=URL, memory:)');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'file') return fileStore(url);
  if (scheme === 's3') return s3Store(url, env);
  if (scheme === 'memory') {
    const name = url.slice('memory:'.length);
    return { kind: 'memory', url, label: url, options: { store: 'memory', ...(name ? { name } : {}) } };
  }
  const looksLikePath = !scheme || url.startsWith('.') || url.startsWith('/') || /^[a-z]:[\\/]/i.test(url);
  throw new CliError(
    scheme && !looksLikePath
      ? `unknown store scheme '${scheme}:' in ${JSON.stringify(url)}; use file:PATH, s3://bucket/prefix?endpoint=URL or memory:`
      : `${JSON.stringify(url)} is not a store URL; for a directory write file:${url}`,
  );
}

function fileStore(url) {
  let p;
  if (url.startsWith('file://')) {
    try {
      p = fileURLToPath(url);
    } catch (e) {
      throw new CliError(`bad file URL ${JSON.stringify(url)}: ${e.message}`);
    }
  } else {
    p = url.slice('file:'.length);
  }
  if (p === '') throw new CliError('file: needs a directory, e.g. file:./data');
  const abs = path.resolve(p);
  return { kind: 'fs', url, label: `file:${p}`, path: abs, options: { store: 'fs', path: abs } };
}

function s3Store(url, env) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`bad S3 URL ${JSON.stringify(url)}; expected s3://bucket/prefix?endpoint=URL&region=REGION`);
  }
  const bucket = u.hostname;
  if (!bucket) throw new CliError(`S3 URL ${JSON.stringify(url)} names no bucket; expected s3://bucket/prefix`);
  for (const k of u.searchParams.keys()) {
    if (!S3_PARAMS.includes(k)) {
      throw new CliError(`unknown S3 URL parameter '${k}' in ${JSON.stringify(url)}; known: ${S3_PARAMS.join(', ')}`);
    }
  }
  let prefix = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  const region = u.searchParams.get('region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const endpoint =
    u.searchParams.get('endpoint') || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || `https://s3.${region}.amazonaws.com`;
  try {
    const e = new URL(endpoint);
    if (e.protocol !== 'http:' && e.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new CliError(`S3 endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const missing = [!accessKeyId && 'AWS_ACCESS_KEY_ID', !secretAccessKey && 'AWS_SECRET_ACCESS_KEY'].filter(Boolean);
  if (missing.length) {
    throw new CliError(`missing S3 credentials for ${url.split('?')[0]}: set ${missing.join(' and ')} (and AWS_SESSION_TOKEN for temporary credentials)`);
  }
  const options = { store: 's3', endpoint, region, bucket, prefix, accessKeyId, secretAccessKey };
  if (env.AWS_SESSION_TOKEN) options.sessionToken = env.AWS_SESSION_TOKEN;
  const ps = u.searchParams.get('pathStyle');
  if (ps !== null) {
    if (ps !== 'true' && ps !== 'false') throw new CliError(`pathStyle must be true or false, got ${JSON.stringify(ps)}`);
    options.forcePathStyle = ps === 'true';
  }
  return { kind: 's3', url, label: `s3://${bucket}/${prefix}`, options };
}

/**
 * Opens a store URL. `mustExist`: a file: store must be an existing directory (reading commands
 * never create one by accident).
 */
export async function openStore(url, { mustExist = false } = {}) {
  const s = parseStore(url);
  if (s.kind === 'fs' && mustExist) {
    let st;
    try {
      st = fs.statSync(s.path);
    } catch {
      throw new CliError(`no store at ${s.label}: the directory ${s.path} does not exist`);
    }
    if (!st.isDirectory()) throw new CliError(`${s.label} is not a directory`);
  }
  const db = await AkiDB.open({ ...BASE, ...retryFromEnv(), ...s.options });
  return { db, store: s };
}

/** `AKIDB_RETRY`: the engine's commit retry policy as JSON (RetryOptions of index.d.ts). */
function retryFromEnv(env = process.env) {
  if (!env.AKIDB_RETRY) return {};
  try {
    const retry = JSON.parse(env.AKIDB_RETRY);
    if (retry === null || typeof retry !== 'object' || Array.isArray(retry)) throw new Error('not an object');
    return { retry };
  } catch (e) {
    throw new CliError(`AKIDB_RETRY must be a JSON object of retry options (maxRetries, initialBackoffMs, ...): ${e.message}`);
  }
}

/** A collection handle, with a not-found error that says how to list what is there. */
export async function openCollection(db, store, name) {
  try {
    return await db.collection(name);
  } catch (e) {
    if (e?.code === 'NOT_FOUND') {
      throw new CliError(`collection '${name}' not found in ${store.label}`, { hint: `list the collections: akidb ls ${store.url}` });
    }
    throw e;
  }
}
