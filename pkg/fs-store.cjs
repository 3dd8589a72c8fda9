// The Node directory store (`AkiDB.open({ store: 'fs', path })`): the custom-store contract
// (get / put with ifAbsent or ifMatch / delete / list, see AkiDBCustomStore in index.d.ts) on a
// local directory, atomic across processes on one machine without locks.
//
// Every key is a directory of numbered slots; slot n holds the key's n-th state (one header byte:
// 1 = value follows, 0 = deleted) and its version token is "n". A write prepares the bytes in a
// temporary file, fsyncs it, and publishes it with link(2) onto slot current+1: link never
// replaces an existing name, so of two writers that read the same current slot exactly one
// succeeds (the other gets EEXIST = condition failed) — a compare-and-swap done by the file
// system, never a read-compare-write. The directory is fsynced before the write is acknowledged.
// Older slots are emptied (an empty file renamed over them, so a reader holding one open still
// reads it whole) but never removed: a writer holding a stale token can then never re-create one.
// Slots live in shards of 1,024 so no directory grows without bound.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const SLOTS = '%v'; // cannot be a key segment: encodeURIComponent turns '%' into '%25'
const SHARD = 1024;
const VALUE = 1;
const DELETED = 0;

// Key segments as directory names: percent-encoded, and the three that mean something to a file
// system ('' , '.', '..') spelt so they cannot collide with anything encodeURIComponent makes.
function encodeSeg(seg) {
  if (seg === '') return '%e';
  if (seg === '.' || seg === '..') return seg.replaceAll('.', '%2E');
  return encodeURIComponent(seg);
}

function decodeSeg(name) {
  return name === '%e' ? '' : decodeURIComponent(name);
}

/** A permanent store failure: the engine reports it as a STORAGE error instead of retrying. */
function permanent(op, key, err) {
  // The custom-store adapter treats a thrown TypeError as a backend (non-retryable) failure.
  const e = new TypeError(`fs store ${op} ${JSON.stringify(key)}: ${err.code ?? ''} ${err.message}`.trim());
  e.code = err.code;
  return e;
}

// A full disk, a read-only or foreign directory: retrying will not help.
const PERMANENT = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'EINVAL']);

function fail(op, key, err) {
  return PERMANENT.has(err.code) ? permanent(op, key, err) : err;
}

class FsStore {
  /** @param {string} root the directory (created if missing) */
  constructor(root) {
    if (typeof root !== 'string' || root === '') {
      throw new TypeError("options.path must be the directory of an 'fs' store, e.g. AkiDB.open({ store: 'fs', path: './data' })");
    }
    this.root = path.resolve(root);
    this.tmp = path.join(this.root, '.tmp');
    try {
      fs.mkdirSync(this.tmp, { recursive: true });
    } catch (err) {
      throw permanent('open', this.root, err);
    }
  }

  keyDir(key) {
    if (typeof key !== 'string' || key === '') throw new TypeError('fs store: keys must be non-empty strings');
    return path.join(this.root, ...key.split('/').map(encodeSeg), SLOTS);
  }

  slotPath(dir, n) {
    return path.join(dir, String(Math.floor(n / SHARD)), String(n));
  }

  /** The highest slot number of a key (0: never written). */
  latest(dir) {
    let shards;
    try {
      shards = fs.readdirSync(dir).map(Number).filter(Number.isInteger);
    } catch (err) {
      if (err.code === 'ENOENT') return 0;
      throw err;
    }
    shards.sort((a, b) => b - a);
    for (const s of shards) {
      const slots = fs.readdirSync(path.join(dir, String(s))).map(Number).filter(Number.isInteger);
      if (slots.length) return Math.max(...slots);
    }
    return 0;
  }

  /** The current slot and its bytes ({ n, state: 'absent' | 'deleted' | 'value', value }). */
  current(dir) {
    // A slot emptied between listing and reading has a newer one: look again (bounded).
    for (let attempt = 0; attempt < 100; attempt++) {
      const n = this.latest(dir);
      if (n === 0) return { n, state: 'absent' };
      let bytes;
      try {
        bytes = fs.readFileSync(this.slotPath(dir, n));
      } catch (err) {
        if (err.code === 'ENOENT') continue;
        throw err;
      }
      if (bytes.length === 0) continue;
      if (bytes[0] === DELETED) return { n, state: 'deleted' };
      return { n, state: 'value', value: new Uint8Array(bytes.buffer, bytes.byteOffset + 1, bytes.length - 1) };
    }
    throw new Error('fs store: the key keeps changing under the reader; try again');
  }

  async get(key) {
    try {
      const c = this.current(this.keyDir(key));
      return c.state === 'value' ? { value: c.value, version: String(c.n) } : null;
    } catch (err) {
      throw fail('get', key, err);
    }
  }

  /** Writes `header + value` to a fresh temporary file, fsynced. */
  prepare(header, value) {
    const file = path.join(this.tmp, `${process.pid}-${crypto.randomUUID()}`);
    const fd = fs.openSync(file, 'wx');
    try {
      fs.writeSync(fd, Buffer.from([header]));
      if (value && value.length) fs.writeSync(fd, value);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return file;
  }

  /**
   * Publishes `file` as slot current+1 if `allowed(current)`; `retryOnRace` repeats after losing
   * a race (unconditional writes), otherwise losing is a failed condition. Returns the new slot or 0.
   */
  publish(dir, file, allowed, retryOnRace) {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const c = this.current(dir);
      if (!allowed(c)) return 0;
      const n = c.n + 1;
      const target = this.slotPath(dir, n);
      const shard = path.dirname(target);
      if (!fs.existsSync(shard)) {
        fs.mkdirSync(shard, { recursive: true });
        fsyncDir(path.dirname(shard));
      }
      try {
        fs.linkSync(file, target);
      } catch (err) {
        if (err.code === 'EEXIST') {
          if (retryOnRace) continue;
          return 0;
        }
        throw err;
      }
      fsyncDir(shard);
      if (c.n > 0) this.empty(dir, c.n);
      return n;
    }
    throw new Error('fs store: too many concurrent writers on one key; try again');
  }

  /** Frees the bytes of an older slot, keeping its name (see the header comment). */
  empty(dir, n) {
    const blank = path.join(this.tmp, `${process.pid}-${crypto.randomUUID()}`);
    fs.writeFileSync(blank, '');
    try {
      fs.renameSync(blank, this.slotPath(dir, n));
    } catch {
      fs.rmSync(blank, { force: true });
    }
  }

  async put(key, value, conditions = {}) {
    const dir = this.keyDir(key);
    const { ifAbsent, ifMatch } = conditions ?? {};
    let allowed = () => true;
    if (ifAbsent) allowed = (c) => c.state !== 'value';
    else if (ifMatch !== undefined) allowed = (c) => c.state === 'value' && String(c.n) === ifMatch;
    let file;
    try {
      file = this.prepare(VALUE, value);
      const created = !fs.existsSync(dir);
      fs.mkdirSync(dir, { recursive: true });
      if (created) fsyncParents(dir, this.root);
      const n = this.publish(dir, file, allowed, !ifAbsent && ifMatch === undefined);
      return n ? { version: String(n) } : null;
    } catch (err) {
      throw fail('put', key, err);
    } finally {
      if (file) fs.rmSync(file, { force: true });
    }
  }

  async delete(key) {
    const dir = this.keyDir(key);
    let file;
    try {
      if (this.current(dir).state !== 'value') return;
      file = this.prepare(DELETED);
      this.publish(dir, file, (c) => c.state === 'value', true);
    } catch (err) {
      throw fail('delete', key, err);
    } finally {
      if (file) fs.rmSync(file, { force: true });
    }
  }

  async list(prefix) {
    try {
      const out = [];
      // Start at the deepest directory the prefix names in full.
      const segs = prefix.split('/');
      const whole = segs.slice(0, -1);
      const start = path.join(this.root, ...whole.map(encodeSeg));
      const walk = (dir, parts) => {
        let entries;
        try {
          entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch (err) {
          if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return;
          throw err;
        }
        for (const e of entries) {
          if (!e.isDirectory() || e.name === '.tmp') continue;
          if (e.name === SLOTS) {
            const key = parts.join('/');
            if (key.startsWith(prefix) && this.current(path.join(dir, SLOTS)).state === 'value') out.push(key);
            continue;
          }
          const name = decodeSeg(e.name);
          const key = [...parts, name].join('/');
          // Only descend where keys under the prefix can be.
          if (key.startsWith(prefix) || prefix.startsWith(key + '/') || prefix.startsWith(key)) {
            walk(path.join(dir, e.name), [...parts, name]);
          }
        }
      };
      walk(start, whole);
      return out.sort();
    } catch (err) {
      throw fail('list', prefix, err);
    }
  }
}

function fsyncDir(dir) {
  let fd;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    // Some file systems cannot fsync a directory; the data itself is already synced.
    if (err.code !== 'EISDIR' && err.code !== 'EINVAL' && err.code !== 'EPERM') throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** fsyncs every directory from `dir`'s parent up to `root`, so a new key's path is durable. */
function fsyncParents(dir, root) {
  for (let d = path.dirname(dir); d.startsWith(root); d = path.dirname(d)) {
    fsyncDir(d);
    if (d === root) break;
  }
}

module.exports = { FsStore };
