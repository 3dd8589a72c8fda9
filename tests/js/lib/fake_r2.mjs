// An in-process fake of the Cloudflare R2 bucket binding (the Workers API), faithful in what
// AkiDB's 'r2' store relies on: get → R2ObjectBody | null, and with onlyIf a failed condition
// returns the object WITHOUT a body; put → R2Object | null (null: onlyIf failed, nothing
// written); etags are MD5 content hashes (unquoted; httpEtag quoted); `etagDoesNotMatch: '*'`
// fails on any existing object; list({ prefix, cursor, limit }) pages in key order with an
// opaque cursor and `truncated`; get({ range: { offset, length } }) returns that slice. Knobs:
//   pageSize     keys per list page at most (R2: 1000), to exercise cursors with few keys
//   maxDelayMs   random delay before every call (real interleavings between concurrent calls)
//   atomic       false: a conditional put checks, waits, then writes (the broken store the
//                conformance suite must catch)
//   failAfterPut probability that a put is applied and then throws (an ambiguous outcome)
//   spuriousMiss probability that a get of an existing key resolves null, as Miniflare's R2 does
//                when an overwrite deletes the blob between its row and blob reads (head() is
//                never affected)
import { createHash } from 'node:crypto';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function md5(bytes) {
  return createHash('md5').update(bytes).digest('hex');
}

function toBytes(value) {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  throw new TypeError('put: value must be a string, ArrayBuffer or ArrayBufferView');
}

/** Whether `onlyIf` (an R2Conditional) holds for the stored object `o` (undefined: absent). */
function holds(onlyIf, o) {
  if (!onlyIf) return true;
  const unquote = (e) => String(e).replace(/^"|"$/g, '');
  if (onlyIf.etagMatches !== undefined) {
    if (!o) return false;
    if (onlyIf.etagMatches !== '*' && unquote(onlyIf.etagMatches) !== o.etag) return false;
  }
  if (onlyIf.etagDoesNotMatch !== undefined && o) {
    if (onlyIf.etagDoesNotMatch === '*' || unquote(onlyIf.etagDoesNotMatch) === o.etag) return false;
  }
  return true;
}

export class FakeR2Bucket {
  constructor({ pageSize = 1000, maxDelayMs = 0, atomic = true, failAfterPut = 0, spuriousMiss = 0 } = {}) {
    Object.assign(this, { pageSize, maxDelayMs, atomic, failAfterPut, spuriousMiss });
    this.objects = new Map();
    this.calls = { get: 0, put: 0, delete: 0, list: 0, head: 0, getUnchanged: 0 };
    this.thrownAfterPut = 0;
    this.spuriousMisses = 0;
  }

  async #pause() {
    if (this.maxDelayMs > 0) await sleep(Math.random() * this.maxDelayMs);
  }

  #meta(key, o) {
    return { key, etag: o.etag, httpEtag: `"${o.etag}"`, version: o.version, size: o.bytes.byteLength, uploaded: o.uploaded };
  }

  async head(key) {
    this.calls.head++;
    await this.#pause();
    const o = this.objects.get(key);
    return o ? this.#meta(key, o) : null;
  }

  async get(key, options = {}) {
    this.calls.get++;
    await this.#pause();
    const o = this.objects.get(key);
    if (!o) return null;
    if (this.spuriousMiss > 0 && Math.random() < this.spuriousMiss) {
      this.spuriousMisses++;
      return null;
    }
    const meta = this.#meta(key, o);
    if (!holds(options.onlyIf, o)) {
      this.calls.getUnchanged++;
      return meta;
    }
    // range { offset, length }: that slice, clamped at the end (as an HTTP Range read is).
    const r = options.range;
    const bytes = r ? o.bytes.slice(r.offset ?? 0, r.length === undefined ? undefined : (r.offset ?? 0) + r.length) : o.bytes.slice();
    return { ...meta, range: r, body: new Blob([bytes]).stream(), bodyUsed: false, arrayBuffer: async () => bytes.buffer, text: async () => new TextDecoder().decode(bytes) };
  }

  async put(key, value, options = {}) {
    this.calls.put++;
    const bytes = toBytes(value);
    await this.#pause();
    if (!holds(options.onlyIf, this.objects.get(key))) return null;
    // A broken store: the check above and the write below are not one step.
    if (!this.atomic) await sleep(1 + Math.random() * Math.max(1, this.maxDelayMs));
    const o = { bytes, etag: md5(bytes), version: crypto.randomUUID().replace(/-/g, ''), uploaded: new Date() };
    this.objects.set(key, o);
    if (this.failAfterPut > 0 && Math.random() < this.failAfterPut) {
      this.thrownAfterPut++;
      throw new Error('put: We encountered an internal error. Please try again. (10001)');
    }
    return this.#meta(key, o);
  }

  async delete(keys) {
    this.calls.delete++;
    await this.#pause();
    for (const k of Array.isArray(keys) ? keys : [keys]) this.objects.delete(k);
  }

  async list(options = {}) {
    this.calls.list++;
    await this.#pause();
    const prefix = options.prefix ?? '';
    const limit = Math.min(options.limit ?? 1000, this.pageSize);
    const after = options.cursor ? Buffer.from(options.cursor, 'base64url').toString() : null;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (after === null || k > after)).sort();
    const page = keys.slice(0, limit);
    const truncated = keys.length > limit;
    const out = { objects: page.map((k) => this.#meta(k, this.objects.get(k))), delimitedPrefixes: [], truncated };
    if (truncated) out.cursor = Buffer.from(page[page.length - 1]).toString('base64url');
    return out;
  }
}
