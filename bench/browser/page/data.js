// Deterministic benchmark data: L2-normalised Gaussian vectors from a seeded PRNG (the same in
// every page and every browser run), and exact top-k by brute force for recall.

function rng(seed) {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
}

/** `n` unit vectors of `dim` as one row-major Float32Array. */
export function vectors(n, dim, seed) {
  const r = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < dim; j += 2) {
      const u = r(), v = r();
      const m = Math.sqrt(-2 * Math.log(u));
      out[i * dim + j] = m * Math.cos(2 * Math.PI * v);
      if (j + 1 < dim) out[i * dim + j + 1] = m * Math.sin(2 * Math.PI * v);
    }
    for (let j = 0; j < dim; j++) norm += out[i * dim + j] ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; j++) out[i * dim + j] /= norm;
  }
  return out;
}

export const row = (m, dim, i) => m.subarray(i * dim, (i + 1) * dim);

/** Exact top-`k` row indices by dot product (= cosine for unit vectors). */
export function exactTopK(base, n, dim, q, k) {
  const best = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += base[i * dim + j] * q[j];
    if (best.length < k || s > best[best.length - 1][0]) {
      best.push([s, i]);
      best.sort((a, b) => b[0] - a[0]);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b[1]);
}

/** Mean recall@k of `found` (arrays of row indices) against brute force. */
export function recall(base, n, dim, queries, found, k) {
  let hit = 0;
  found.forEach((ids, qi) => {
    const truth = new Set(exactTopK(base, n, dim, row(queries, dim, qi), k));
    hit += ids.filter((id) => truth.has(id)).length;
  });
  return hit / (found.length * k);
}

/**
 * Runs `fn(i)` for every query and returns queries per second, after a warm-up of at least one
 * second (wasm starts on V8's baseline tier; optimised code arrives in the background).
 */
export async function timeQueries(count, fn) {
  const w0 = performance.now();
  for (let i = 0; i < 5 || performance.now() - w0 < 1000; i++) await fn(i % count);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await fn(i);
  return count / ((performance.now() - t0) / 1000);
}
