#!/usr/bin/env node
// The import graph of both crates, from their sources: every `use crate::…`, `super::…` and
// inline `crate::…` path in non-test code, resolved to the file of the module it names. Prints
// the layers (ARCHITECTURE.md), the import cycles and the imports that run from a lower layer up
// to a higher one. `--check` fails on any cycle, any upward import not in ALLOWED_UPWARD (at most
// 2, each justified in ARCHITECTURE.md), any module outside the layer table, and any non-test
// source file over MAX_LINES. `--edges` lists every edge. No dependency: plain Node.
//
// Rules: a module using its own descendants is containment (a facade re-exporting its parts),
// not an import; test files (tests.rs, *_tests.rs) and `#[cfg(test)]` blocks are left out (tests
// may reach anything); comments and string literals are stripped before scanning.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const MAX_LINES = 500;

// Bottom (0) to top. A module may import its own layer and any layer below it, never above.
// The longest matching prefix decides (e.g. `kernels::simd128` falls under `kernels`).
const LAYERS = {
  'akidb-core': [
    ['foundation', ['limits', 'error', 'runtime', 'metrics', 'record', 'distance', 'testkit::generator']],
    ['validation and retry', ['validate', 'retry']],
    ['kernels (distances, quantization, top-k)', ['kernels']],
    ['formats (segment codec and partition index, manifest)', ['segment', 'manifest']],
    ['kv (the Kv trait, memory, chaos, S3 client, retrying and instrumented wrappers, conformance)', ['kv', 'testkit']],
    ['index build', ['index']],
    ['search (filters, query execution)', ['search']],
    ['storage (commit loop, compaction, GC, operations)', ['storage']],
    ['group commit', ['group_commit']],
    ['collection, database', ['collection', 'database']],
    ['crate root', ['']],
  ],
  'akidb-web': [
    ['JS helpers, runtime', ['js', 'runtime']],
    ['stores over JS APIs', ['stores']],
    ['bindings: errors, cached keys, value conversion, reports', ['bindings::errors', 'bindings::keys', 'bindings::convert', 'bindings::reports']],
    ['bindings: option parsing, the lean search path', ['bindings::options', 'bindings::lean']],
    ['bindings: stores and background work', ['bindings::stores', 'bindings::s3_store', 'bindings::store_indexeddb', 'bindings::storage_manager', 'bindings::auto_compact', 'bindings::live', 'bindings::conformance']],
    ['bindings: classes', ['bindings::collection']],
    ['bindings: entry', ['bindings::database', 'bindings::verify', 'bindings']],
    ['crate root', ['']],
  ],
};

// Upward imports we accept, `crate:from -> to` by file, each explained in ARCHITECTURE.md.
const ALLOWED_UPWARD = [];

const CRATES = { 'akidb-core': 'crates/core/src', 'akidb-web': 'crates/web/src' };

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : n.endsWith('.rs') ? [p] : [];
  });
}

function modulePath(rel) {
  const parts = rel.replace(/\.rs$/, '').split('/');
  if (parts.at(-1) === 'mod' || parts.at(-1) === 'lib') parts.pop();
  return parts;
}

const isTestFile = (rel) => /(^|\/)tests\.rs$|_tests\.rs$|(^|\/)tests\//.test(rel);

// Comments, strings and char literals out; lifetimes kept apart from chars.
function strip(src) {
  let out = '';
  for (let i = 0; i < src.length; ) {
    const c = src[i];
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      let depth = 1;
      i += 2;
      while (i < src.length && depth > 0) {
        if (src[i] === '/' && src[i + 1] === '*') (depth++, (i += 2));
        else if (src[i] === '*' && src[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
    } else if (c === 'r' && (n === '"' || (n === '#' && /^r#+"/.test(src.slice(i, i + 10)))) && !/\w/.test(src[i - 1] ?? '')) {
      const hashes = /^r(#*)"/.exec(src.slice(i))[1];
      const end = src.indexOf('"' + hashes, i + 2 + hashes.length);
      i = end < 0 ? src.length : end + 1 + hashes.length;
      out += '""';
    } else if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      i++;
      out += '""';
    } else if (c === "'" && (/^'\\.{1,10}?'/.test(src.slice(i, i + 12)) || src[i + 2] === "'")) {
      i = src.indexOf("'", i + 2) + 1;
      out += "' '";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// Removes `#[cfg(test)]` and `#[cfg(all(test, …))]` items (a `mod … { … }` block or `mod …;`).
function dropTestBlocks(src) {
  const re = /#\[cfg\((?:all\(\s*)?test\b[^\]]*\]\s*(?:#\[[^\]]*\]\s*)*/g;
  let out = '';
  let last = 0;
  for (let m; (m = re.exec(src)); ) {
    out += src.slice(last, m.index);
    let i = m.index + m[0].length;
    while (i < src.length && src[i] !== '{' && src[i] !== ';') i++;
    if (src[i] === '{') {
      let depth = 0;
      for (; i < src.length; i++) {
        if (src[i] === '{') depth++;
        else if (src[i] === '}' && --depth === 0) break;
      }
    }
    last = i + 1;
    re.lastIndex = last;
  }
  return out + src.slice(last);
}

// `a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e'].
function expandUse(tree) {
  tree = tree.replace(/\s+/g, '');
  const brace = tree.indexOf('{');
  if (brace < 0) return [tree.replace(/\bas\w+$/, '')];
  const prefix = tree.slice(0, brace);
  const inner = tree.slice(brace + 1, tree.lastIndexOf('}'));
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= inner.length; i++) {
    const ch = inner[i];
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if ((ch === ',' || i === inner.length) && depth === 0) {
      if (i > start) parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  return parts.flatMap((p) => expandUse(prefix + p));
}

function scanCrate(name, dir) {
  const files = walk(join(ROOT, dir)).map((abs) => relative(join(ROOT, dir), abs)).sort();
  const mods = new Map(); // 'a::b' -> rel
  for (const rel of files) if (!isTestFile(rel)) mods.set(modulePath(rel).join('::'), rel);
  const edges = new Map(); // rel -> Set(rel)
  const sizes = new Map();
  const texts = new Map();
  for (const rel of files) {
    if (!isTestFile(rel)) texts.set(rel, dropTestBlocks(strip(readFileSync(join(ROOT, dir, rel), 'utf8'))));
  }
  // `pub use child::Item;` in a facade: `facade::Item` is really `facade::child::Item`.
  const reexports = new Map(); // 'a::Item' -> ['a', 'child', 'Item']
  for (const [rel, src] of texts) {
    const here = modulePath(rel);
    for (const m of src.matchAll(/\bpub(?:\([^)]*\))?\s+use\s+([^;]+);/g)) {
      for (const p of expandUse(m[1])) {
        const segs = p.split('::').filter(Boolean);
        const alias = /\bas(\w+)$/.exec(p.replace(/\s+/g, ''));
        const item = segs.at(-1);
        if (!item || item === '*' || item === 'self') continue;
        const abs = segs[0] === 'crate' ? segs.slice(1) : segs[0] === 'super' ? [...here.slice(0, -1), ...segs.slice(1)] : segs[0] === 'self' ? [...here, ...segs.slice(1)] : [...here, ...segs];
        if (mods.has(abs.slice(0, 1).join('::')) || abs.length > here.length) reexports.set([...here, alias ? alias[1] : item].join('::'), abs);
      }
    }
  }
  const resolve = (abs) => {
    for (let hops = 0; hops < 8; hops++) {
      let k = abs.length;
      while (k > 0 && !mods.has(abs.slice(0, k).join('::'))) k--;
      const via = abs.length > k ? reexports.get(abs.slice(0, k + 1).join('::')) : undefined;
      if (!via || via.join('::') === abs.join('::')) return abs.slice(0, k);
      abs = [...via, ...abs.slice(k + 1)];
    }
    return abs;
  };
  for (const rel of files) {
    if (isTestFile(rel)) continue;
    const raw = readFileSync(join(ROOT, dir, rel), 'utf8');
    sizes.set(rel, raw.split('\n').length - (raw.endsWith('\n') ? 1 : 0));
    const src = texts.get(rel);
    const here = modulePath(rel);
    const paths = [];
    for (const m of src.matchAll(/\buse\s+([^;]+);/g)) paths.push(...expandUse(m[1]));
    for (const m of src.matchAll(/(?<![\w:])(?:crate|super|self)(?:::(?:super|\w+))+/g)) paths.push(m[0]);
    const out = new Set();
    for (const p of paths) {
      const segs = p.split('::').filter((s) => s && s !== '*');
      let abs;
      if (segs[0] === 'crate') abs = segs.slice(1);
      else if (segs[0] === 'super' || segs[0] === 'self') {
        abs = [...here];
        let i = 0;
        // A file's `super` is its parent module (for a/b.rs: a).
        while (segs[i] === 'super' || segs[i] === 'self') {
          if (segs[i] === 'super') abs.pop();
          i++;
        }
        abs.push(...segs.slice(i));
      } else continue;
      let target = resolve(abs);
      while (target.length && !mods.has(target.join('::'))) target = target.slice(0, -1);
      const targetRel = mods.get(target.join('::'));
      if (!targetRel || targetRel === rel) continue;
      // Containment: a module using its own descendants.
      if (target.length > here.length && here.every((s, i) => target[i] === s)) continue;
      out.add(targetRel);
    }
    edges.set(rel, out);
  }
  return { files: [...edges.keys()], mods, edges, sizes };
}

function layerOf(name, rel) {
  const mod = modulePath(rel).join('::');
  let best = null;
  LAYERS[name].forEach(([, prefixes], i) => {
    for (const p of prefixes) {
      const hit = p === '' ? mod === '' : mod === p || mod.startsWith(p + '::');
      if (hit && (!best || p.length > best.len)) best = { i, len: p.length };
    }
  });
  return best ? best.i : -1;
}

// Tarjan's strongly connected components.
function cycles(edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) (visit(w), low.set(v, Math.min(low.get(v), low.get(w))));
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do (w = stack.pop()), on.delete(w), scc.push(w);
      while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const args = new Set(process.argv.slice(2));
const problems = [];
let upwardTotal = 0;
for (const [name, dir] of Object.entries(CRATES)) {
  const { files, edges, sizes } = scanCrate(name, dir);
  const nEdges = [...edges.values()].reduce((a, s) => a + s.size, 0);
  console.log(`\n${name} (${dir}): ${files.length} files, ${nEdges} imports between files`);
  for (const [i, [label]] of LAYERS[name].entries()) {
    const inLayer = files.filter((f) => layerOf(name, f) === i);
    if (inLayer.length) console.log(`  layer ${i}  ${label}: ${inLayer.length} files`);
  }
  for (const f of files) {
    if (layerOf(name, f) < 0) problems.push(`${name}: ${f} is in no layer (add it to LAYERS)`);
    if (sizes.get(f) > MAX_LINES) problems.push(`${name}: ${f} has ${sizes.get(f)} lines (limit ${MAX_LINES})`);
  }
  for (const scc of cycles(edges)) problems.push(`${name}: import cycle between ${scc.join(', ')}`);
  console.log(`  cycles: ${cycles(edges).length}`);
  for (const [from, tos] of edges) {
    for (const to of tos) {
      if (args.has('--edges')) console.log(`    ${from} -> ${to}`);
      const [lf, lt] = [layerOf(name, from), layerOf(name, to)];
      if (lf >= 0 && lt > lf) {
        const key = `${name}:${from} -> ${to}`;
        upwardTotal++;
        const ok = ALLOWED_UPWARD.some((a) => a.edge === key);
        console.log(`  upward: ${from} (layer ${lf}) -> ${to} (layer ${lt})${ok ? ' [allowed]' : ''}`);
        if (!ok) problems.push(`${key}: imports from layer ${lf} up to layer ${lt}`);
      }
    }
  }
}
console.log(`\nupward imports in both crates: ${upwardTotal} (allowed: ${ALLOWED_UPWARD.length}, at most 2)`);
if (ALLOWED_UPWARD.length > 2) problems.push('more than 2 allowed upward imports');
if (problems.length) {
  console.log(`\n${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  if (args.has('--check')) process.exit(1);
} else console.log('import graph: 0 cycles, no unexplained upward imports');
