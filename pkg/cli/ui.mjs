// Output of the akidb command: aligned tables, byte and number formatting, JSON on stdout, and
// the progress bar (on stderr, only when wanted: stdout a terminal, or --progress).

/** `1,234,567` */
export const int = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n));

/** `1.5 MB` (powers of 1024, two significant decimals). */
export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) (n /= 1024), u++;
  return u === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : 1)} ${units[u]}`;
}

/** ISO time of a ms timestamp, or '-' for none. */
export const time = (ms) => (ms ? new Date(ms).toISOString() : '-');

/** Rows of cells as aligned text; numbers (and `right` columns) right-aligned. */
export function table(header, rows, { right = [] } = {}) {
  const all = [header, ...rows].map((r) => r.map((c) => (c === undefined || c === null ? '-' : String(c))));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const isRight = header.map((_, i) => right.includes(i) || rows.some((r) => typeof r[i] === 'number'));
  return all
    .map((r) => r.map((c, i) => (i === r.length - 1 && !isRight[i] ? c : isRight[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '))
    .join('\n') + '\n';
}

/** Writes `text` to stdout; resolves once it is handed to the OS (pipes included). */
export function out(text) {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** JSON on stdout, two-space indented. */
export const outJson = (v) => out(JSON.stringify(v, null, 2) + '\n');

/** A line on stderr (notes, summaries) unless quiet. */
export function note(text, { quiet = false } = {}) {
  if (!quiet) process.stderr.write(text + '\n');
}

/**
 * Whether a long command shows progress: `--progress` forces it, `--quiet` or `--json` turns it
 * off, otherwise only when stdout and stderr are terminals (and stdout does not carry the data).
 */
export function wantProgress({ progress, quiet, json }, { stdoutIsData = false } = {}) {
  if (quiet) return false;
  if (progress) return true;
  if (json || stdoutIsData) return false;
  return Boolean(process.stdout.isTTY && process.stderr.isTTY);
}

/** A progress bar on stderr: `label [#####-----]  45%  4,500/10,000  1,234/s`. */
export class Progress {
  constructor(label, total, enabled, unit = 'records') {
    this.label = label;
    this.total = total;
    this.enabled = enabled;
    this.unit = unit;
    this.done = 0;
    this.started = Date.now();
    this.last = 0;
    this.tty = Boolean(process.stderr.isTTY);
  }

  /** Sets the count done so far (and the total when it became known). */
  update(done, total = this.total) {
    this.done = done;
    this.total = total;
    const now = Date.now();
    if (!this.enabled || now - this.last < (this.tty ? 100 : 1000)) return;
    this.last = now;
    this.draw(false);
  }

  /** The final line. */
  finish() {
    if (this.enabled) this.draw(true);
  }

  rate() {
    const s = (Date.now() - this.started) / 1000;
    return s > 0 ? Math.round(this.done / s) : 0;
  }

  draw(final) {
    const t = this.total > 0 ? this.total : 0;
    const frac = t ? Math.min(1, this.done / t) : 0;
    const width = 24;
    const bar = t ? '#'.repeat(Math.round(frac * width)).padEnd(width, '-') : '?'.repeat(width);
    const pct = t ? `${String(Math.round(frac * 100)).padStart(3)}%` : '   ?';
    const of = t ? `${int(this.done)}/${int(t)}` : int(this.done);
    const line = `${this.label} [${bar}] ${pct}  ${of} ${this.unit}  ${int(this.rate())}/s`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  }
}
