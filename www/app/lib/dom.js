// Tiny DOM helpers: element creation without a framework, number formatting, error toasts.

/** `h('td', { class: 'x' }, 'text', child)` → an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** `document.getElementById`. */
export const $ = (id) => document.getElementById(id);

/** 12345 → "12,345". */
export const int = (n) => Math.round(n).toLocaleString('en-US');

/** Milliseconds with sensible precision. */
export const ms = (x) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)) + ' ms';

/** Bytes as KB/MB. */
export const bytes = (b) => (b < 1e6 ? (b / 1024).toFixed(1) + ' KB' : (b / 1048576).toFixed(2) + ' MB');

/** Shows an error (AkiDB errors carry `.code`) for a few seconds. */
export function toast(e) {
  const t = $('toast');
  t.textContent = e && e.code ? `${e.code}: ${e.message}` : String(e && e.message ? e.message : e);
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 8000);
  console.error(e);
}
