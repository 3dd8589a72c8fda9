// Search latency histogram as an inline SVG (no plotting library).

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = text;
  return el;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export class Histogram {
  constructor(container, stats) {
    this.container = container;
    this.stats = stats;
    this.samples = [];
  }

  /** Records one latency (ms) and redraws. */
  add(ms) {
    this.samples.push(ms);
    this.render();
  }

  /** p50 / p95 / max / count of everything recorded. */
  summary() {
    const s = [...this.samples].sort((a, b) => a - b);
    return { n: s.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), max: s[s.length - 1] };
  }

  render() {
    const W = 480, H = 150, L = 30, B = 22, bins = 30;
    const s = this.summary();
    const top = Math.max(s.p95 * 1.5, 0.5);
    const counts = new Array(bins).fill(0);
    for (const x of this.samples) counts[Math.min(bins - 1, Math.floor((x / top) * bins))]++;
    const peak = Math.max(...counts, 1);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'search latency histogram' });
    const bw = (W - L) / bins;
    counts.forEach((c, i) => {
      const bh = ((H - B - 6) * c) / peak;
      root.append(svg('rect', { class: 'bar', x: L + i * bw + 1, y: H - B - bh, width: bw - 2, height: bh }));
    });
    root.append(svg('line', { x1: L, y1: H - B, x2: W, y2: H - B, stroke: '#98a2b3' }));
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const label = f === 1 ? `≥${(top * f).toFixed(1)} ms` : `${(top * f).toFixed(1)}`;
      root.append(svg('text', { class: 'axis', x: L + f * (W - L - 30), y: H - 6 }, label));
    }
    root.append(svg('text', { class: 'axis', x: 0, y: 12 }, String(peak)));
    this.container.replaceChildren(root);
    this.stats.textContent = `${s.n} searches · p50 ${s.p50.toFixed(2)} ms · p95 ${s.p95.toFixed(2)} ms · max ${s.max.toFixed(2)} ms`;
  }
}
