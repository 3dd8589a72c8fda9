// One writer process for tests/js/fs_store.test.mjs: `node fs_writer.mjs DIR WRITER COUNT MODE`
// upserts COUNT single-record batches into collection 'c' of the fs store at DIR and prints
// `ack <id>` after each acknowledged upsert. MODE: `fs` (the shipped store), `slow` (the same
// with a 2 ms pause between reading a key's current slot and publishing: a wide race window),
// `rename` (negative control: the same pause, then an unconditional rename over the slot).
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { AkiDB } = require('../../../pkg/node.cjs');
const { FsStore } = require('../../../pkg/fs-store.cjs');

const [dir, writer, count, mode] = process.argv.slice(2);
const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);

class SlowFsStore extends FsStore {
  current(d) {
    const c = super.current(d);
    pause();
    return c;
  }
}

// Check the condition, then replace the slot with rename(2): last writer wins, silently.
class RenameStore extends SlowFsStore {
  publish(d, file, allowed) {
    const c = this.current(d);
    if (!allowed(c)) return 0;
    const n = Math.max(c.n, 1) + (c.state === 'absent' ? 0 : 1);
    const target = this.slotPath(d, n);
    fs.mkdirSync(require('node:path').dirname(target), { recursive: true });
    fs.copyFileSync(file, target + '.tmp');
    fs.renameSync(target + '.tmp', target);
    return n;
  }
}

const kv = mode === 'fs' ? new FsStore(dir) : mode === 'slow' ? new SlowFsStore(dir) : new RenameStore(dir);
const db = await AkiDB.open({
  store: 'custom', kv, logLevel: 'error', groupCommit: false, autoCompact: false,
  retry: { maxRetries: 1000, initialBackoffMs: 1, maxBackoffMs: 20, maxElapsedMs: 600000 },
});
const c = await db.collection('c');
for (let i = 0; i < Number(count); i++) {
  const id = `w${writer}-${i}`;
  await c.upsert([{ id, vector: [Math.cos(i), Math.sin(i), Number(writer) + 1] }]);
  process.stdout.write(`ack ${id}\n`);
}
