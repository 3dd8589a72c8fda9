// The packed package's `akidb` command: `npm pack` pkg/, install the tarball into a scratch
// project offline, then `npx akidb` (the package.json "bin" link) answers --version and --help,
// imports, lists and verifies an fs store. Requires scripts/build-pkg.sh to have run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let proj;

before(async () => {
  proj = fs.mkdtempSync(path.join(os.tmpdir(), 'akidb-bin-'));
  const { stdout } = await run('npm', ['pack', path.join(root, 'pkg'), '--pack-destination', proj, '--json'], { cwd: proj });
  const packed = JSON.parse(stdout)[0];
  assert.ok(packed.files.some((f) => f.path === 'cli.mjs'), 'the tarball has cli.mjs');
  assert.ok(packed.files.some((f) => f.path === 'cli/main.mjs'), 'the tarball has cli/');
  fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'bin-smoke', private: true }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(proj, packed.filename)], { cwd: proj });
});

after(() => fs.rmSync(proj, { recursive: true, force: true }));

const npx = (args) => run('npx', ['--offline', '--no-install', 'akidb', ...args], { cwd: proj, timeout: 60_000 });

test('npx akidb works after install: --version, --help, import, ls, verify', { timeout: 180_000 }, async () => {
  const pj = JSON.parse(fs.readFileSync(path.join(proj, 'node_modules/akidb/package.json'), 'utf8'));
  assert.equal((await npx(['--version'])).stdout, `akidb ${pj.version}\n`);
  assert.match((await npx(['--help'])).stdout, /^usage: akidb COMMAND/);
  fs.writeFileSync(path.join(proj, 'r.jsonl'), '{"id":"a","vector":[1,2]}\n{"id":"b","vector":[2,1],"metadata":{"x":1}}\n');
  await npx(['import', 'file:./data', 'c', 'r.jsonl', '--create', '--distance', 'l2']);
  const ls = JSON.parse((await npx(['ls', 'file:./data', '--json'])).stdout);
  assert.deepEqual(ls.map((c) => [c.name, c.records]), [['c', 2]]);
  assert.match((await npx(['verify', 'file:./data'])).stdout, /OK/);
  await assert.rejects(npx(['verify', 'file:./nothing']), (e) => e.code === 2 && /does not exist/.test(e.stderr));
});
