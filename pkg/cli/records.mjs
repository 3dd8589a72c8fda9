// Records as JSON lines, the export/import format: one object per line,
//   {"id":"a","vector":[0.25,-1.5,...],"metadata":{...}|null}
// Vectors are written with 9 significant digits, checked to read back as the same f32 (else the
// exact decimal of the value), so every f32 survives bit for bit at ~2/3 of the bytes of
// String(x); -0 is written as -0, which JSON.stringify would turn into 0.
import fs from 'node:fs';
import readline from 'node:readline';

import { CliError } from './args.mjs';

/** One record as a JSON line (with its newline). */
export function encodeRecord(r) {
  const v = r.vector;
  const parts = new Array(v.length);
  for (let i = 0; i < v.length; i++) parts[i] = number(v[i]);
  const vec = parts.join(',');
  const meta = r.metadata === undefined ? 'null' : JSON.stringify(r.metadata);
  return `{"id":${JSON.stringify(r.id)},"vector":[${vec}],"metadata":${meta}}\n`;
}

/** The decimal of an f32 value `x` that reads back as exactly `x`. */
function number(x) {
  if (x === 0) return 1 / x < 0 ? '-0' : '0';
  const t = x.toPrecision(9);
  // Decimal -> f64 -> f32 rounds twice; where that lands elsewhere, the f64's own digits are exact.
  return Math.fround(Number(t)) === x ? t : String(x);
}

/**
 * Parses one line into `{ id, vector: Float32Array, metadata }`; `where` (`FILE:LINE`) names it
 * in errors. Checks only the shape; the engine checks the rest (dimension, limits) on upsert.
 */
export function decodeRecord(line, where) {
  let o;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw new CliError(`${where}: not a JSON object: ${e.message}`);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new CliError(`${where}: expected {"id", "vector", "metadata"}, got ${kind(o)}`);
  for (const k of Object.keys(o)) {
    if (k !== 'id' && k !== 'vector' && k !== 'metadata') throw new CliError(`${where}: unknown field "${k}" (a record has id, vector, metadata)`);
  }
  if (typeof o.id !== 'string' || o.id === '') throw new CliError(`${where}: "id" must be a non-empty string`);
  if (!Array.isArray(o.vector) || o.vector.length === 0) throw new CliError(`${where}: "vector" must be a non-empty array of numbers`);
  const vector = new Float32Array(o.vector.length);
  for (let i = 0; i < o.vector.length; i++) {
    const x = o.vector[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new CliError(`${where}: vector[${i}] is ${JSON.stringify(x)}, not a finite number`);
    vector[i] = x;
  }
  const m = o.metadata;
  if (m !== undefined && m !== null && (typeof m !== 'object' || Array.isArray(m))) {
    throw new CliError(`${where}: "metadata" must be an object or null, got ${kind(m)}`);
  }
  return m === undefined || m === null ? { id: o.id, vector } : { id: o.id, vector, metadata: m };
}

function kind(v) {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * Lines of a file (or stdin for `-`) as an async iterable of `{ line, number }`, skipping blank
 * lines. Checks the file at once: a missing one is a CliError naming it.
 */
export function readLines(file) {
  if (file !== '-') {
    let st;
    try {
      st = fs.statSync(file);
    } catch (e) {
      throw new CliError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    }
    if (st.isDirectory()) throw new CliError(`${file} is a directory, not a JSON lines file`);
  }
  return lines(file);
}

async function* lines(file) {
  const input = file === '-' ? process.stdin : fs.createReadStream(file);
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of rl) {
      number++;
      if (line.trim() === '') continue;
      yield { line, number };
    }
  } finally {
    rl.close();
    if (input !== process.stdin) input.destroy();
  }
}

/** Records of `scan` items: the engine yields arrays of records (or single records). */
export function* recordsOf(item) {
  if (Array.isArray(item)) yield* item;
  else if (item) yield item;
}
