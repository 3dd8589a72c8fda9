// Type-checks tests/pkg/usage.ts against the hand-written pkg/index.d.ts with `tsc --strict`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('pkg/index.d.ts type-checks real usage and rejects misuse (tsc --strict)', async () => {
  const tsc = path.join(root, 'node_modules/.bin/tsc');
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
  const r = await promisify(execFile)(tsc, [...args, 'tests/pkg/usage.ts'], { cwd: root }).catch((e) => e);
  assert.equal(r.code ?? 0, 0, `${r.stdout}${r.stderr}`);
});
