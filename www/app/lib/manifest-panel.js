// The manifest panel: current version, segments with their states (and a seal button each),
// and a timeline of the commits this page has observed (its own and other tabs').
import { bytes, h, int } from './dom.js';

const SHOWN = 12;

/** What changed between two manifests, in a few words. */
export function describe(prev, next) {
  if (!prev) return `opened at v${next.version} (${next.segments.length} segments)`;
  const before = new Map(prev.segments.map((s) => [s.id, s]));
  const added = next.segments.filter((s) => !before.has(s.id));
  const sealed = next.segments.filter((s) => before.get(s.id)?.state === 'Active' && s.state === 'Sealed');
  const parts = [];
  if (added.length) {
    const recs = added.reduce((n, s) => n + s.record_count, 0);
    parts.push(`+${added.length} segment${added.length > 1 ? 's' : ''} (${int(recs)} records)`);
  }
  for (const s of sealed) parts.push(`sealed ${s.id.slice(0, 8)}`);
  const deleted = next.tombstones.length - prev.tombstones.length;
  if (deleted > 0) parts.push(`deleted ${deleted}`);
  const commits = next.version - prev.version;
  const head = commits === 1 ? `v${next.version}` : `v${prev.version + 1}…v${next.version} (${commits} commits)`;
  return `${head}: ${parts.join(', ') || 'changed'}`;
}

export class ManifestPanel {
  /** `onSeal(segmentId)` is called by the seal buttons. */
  constructor({ version, summary, segments, timeline }, onSeal) {
    Object.assign(this, { version, summary, segments, timeline, onSeal });
    this.manifest = null;
  }

  /** Shows `m`, adding a timeline entry when its version differs from the one shown. */
  show(m) {
    if (this.manifest && m.version === this.manifest.version) return;
    const when = new Date(m.updated_at_ms).toLocaleTimeString();
    this.timeline.prepend(h('li', {}, h('time', {}, when), describe(this.manifest, m)));
    this.manifest = m;
    this.render();
  }

  render() {
    const m = this.manifest;
    this.version.textContent = `v${m.version}`;
    const sealed = m.segments.filter((s) => s.state === 'Sealed').length;
    this.summary.textContent =
      `${m.segments.length} segments (${m.segments.length - sealed} active, ${sealed} sealed) · ` +
      `${int(m.total_vectors)} vectors stored · ${m.tombstones.length} tombstones · ${m.distance}, ${m.dimension}-d`;
    const newest = [...m.segments].reverse().slice(0, SHOWN);
    const rows = newest.map((s) =>
      h(
        'tr',
        { dataset: { id: s.id } },
        h('td', { class: 'mono', title: s.id }, s.id.slice(0, 8)),
        h('td', {}, h('span', { class: `state ${s.state}` }, s.state)),
        h('td', {}, int(s.record_count)),
        h('td', {}, bytes(s.size_bytes)),
        h('td', {}, s.state === 'Active' ? h('button', { class: 'link seal', onclick: () => this.onSeal(s.id) }, 'seal') : ''),
      ),
    );
    if (m.segments.length > SHOWN) {
      rows.push(h('tr', {}, h('td', { colspan: 5, class: 'muted small' }, `… ${m.segments.length - SHOWN} older segments`)));
    }
    this.segments.replaceChildren(...rows);
  }
}
