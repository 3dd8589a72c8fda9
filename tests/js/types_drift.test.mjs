// Drift between the engine and the hand-written types: every method wasm-bindgen generated
// (pkg/wasm/akidb.d.ts) is declared in pkg/index.d.ts, and every option key the bindings
// accept (the `*_KEYS` lists in crates/web/src/bindings) is a property of the d.ts interface
// users write, and the other way round: a declared option the engine would reject as unknown
// is a failure here, not a user's INVALID_ARGUMENT. Requires pkg/ to be built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const generated = readFileSync(join(root, 'pkg/wasm/akidb.d.ts'), 'utf8');
const handWritten = readFileSync(join(root, 'pkg/index.d.ts'), 'utf8');

/** The body of `export class Name {` / `export declare class Name ... {` / `interface Name ... {` up to its closing brace. */
function block(src, kind, name) {
  const re = new RegExp(`^export (?:declare )?${kind} ${name}\\b[^{]*\\{`, 'm');
  const m = re.exec(src);
  assert.ok(m, `${kind} ${name} not found`);
  let depth = 1;
  let i = m.index + m[0].length;
  for (; i < src.length && depth > 0; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}') depth--;
  }
  return src.slice(m.index + m[0].length, i - 1);
}

/** Top-level member names of a class or interface body (methods, getters, properties). */
function members(body) {
  const out = new Set();
  let depth = 0;
  for (const line of body.split('\n')) {
    if (depth === 0) {
      const m = /^\s*(?:static\s+|readonly\s+|get\s+)*([A-Za-z_$][\w$]*)\??\s*[(:<]/.exec(line);
      if (m && !/^\s*(\*|\/\/)/.test(line)) out.add(m[1]);
    }
    // Braces inside comments (`{@link X}`) balance out on the same line.
    for (const ch of line) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
  }
  return out;
}

test('every generated method of AkiDB and Collection is declared in pkg/index.d.ts', () => {
  for (const cls of ['AkiDB', 'Collection']) {
    const gen = members(block(generated, 'class', cls));
    const ours = members(block(handWritten, 'class', cls));
    assert.ok(gen.size > 5, `parsed the generated ${cls}: ${[...gen]}`);
    const missing = [...gen].filter((m) => !ours.has(m));
    assert.deepEqual(missing, [], `${cls} methods missing from pkg/index.d.ts`);
  }
  for (const m of generated.matchAll(/^export function (\w+)/gm)) {
    // wasm-bindgen's own loader functions (start hook, initSync) are not the package's API.
    if (m[1] === 'start' || m[1] === 'initSync') continue;
    assert.match(handWritten, new RegExp(`export declare function ${m[1]}\\b`), `function ${m[1]}`);
  }
});

/** Every `pub const NAME: &[&str] = &[...]` in the bindings, by name. */
function keyLists() {
  const lists = {};
  const dir = join(root, 'crates/web/src/bindings');
  const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.rs'));
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/pub const (\w+_KEYS): &\[&str\] =\s*&\[([^\]]*)\]/g)) {
      lists[m[1]] = [...m[2].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
    }
  }
  return lists;
}

// Which d.ts interface each key list is typed by; `jsOnly` are keys the JS entries consume
// before the engine sees the options.
const MAP = [
  { iface: 'OpenOptions', lists: ['OPEN_KEYS', 'MEMORY_KEYS', 'INDEXEDDB_KEYS', 'S3_KEYS', 'R2_KEYS', 'CUSTOM_KEYS'], jsOnly: ['wasm', 'path'] },
  { iface: 'RetryOptions', lists: ['RETRY_KEYS'] },
  { iface: 'GroupCommitOptions', lists: ['GROUP_COMMIT_KEYS'] },
  { iface: 'SearchOptions', lists: ['SEARCH_KEYS'] },
  { iface: 'UpsertOptions', lists: ['UPSERT_KEYS'] },
  { iface: 'GetOptions', lists: ['GET_KEYS'] },
  { iface: 'ScanOptions', lists: ['SCAN_KEYS'] },
  { iface: 'CompactOptions', lists: ['COMPACT_KEYS'] },
  { iface: 'SubscribeOptions', lists: ['SUBSCRIBE_KEYS'] },
  { iface: 'CreateCollectionOptions', lists: ['CREATE_KEYS'] },
  { iface: 'CreateOptions', lists: ['CREATE_FLAG_KEYS'] },
  { iface: 'ConformanceOptions', lists: ['CONFORMANCE_KEYS'] },
  { iface: 'VerifyOptions', lists: ['VERIFY_KEYS'] },
];

test('option keys: the bindings and pkg/index.d.ts agree', () => {
  const lists = keyLists();
  const used = new Set();
  for (const { iface, lists: names, jsOnly = [] } of MAP) {
    const keys = new Set(names.flatMap((n) => {
      assert.ok(lists[n], `${n} not found in crates/web/src/bindings`);
      used.add(n);
      return lists[n];
    }));
    const declared = members(block(handWritten, 'interface', iface));
    const undeclared = [...keys].filter((k) => !declared.has(k));
    assert.deepEqual(undeclared, [], `keys the engine reads but ${iface} does not declare`);
    const rejected = [...declared].filter((k) => !keys.has(k) && !jsOnly.includes(k));
    assert.deepEqual(rejected, [], `keys ${iface} declares but the engine rejects as unknown`);
  }
  assert.deepEqual(Object.keys(lists).filter((n) => !used.has(n)), [], 'key lists no interface maps');
});
