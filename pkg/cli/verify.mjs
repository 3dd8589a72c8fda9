// `akidb verify`: db.verify for one collection or all of a store. Exit code 0 when clean, 1 when
// any problem was found (each printed with its object key), 2 when it could not run.
import { CliError, JSON_OUT, PROGRESS } from './args.mjs';
import { openCollection, openStore } from './stores.mjs';
import { bytes, int, out, outJson, Progress, wantProgress } from './ui.mjs';

export const verify = {
  name: 'verify',
  brief: 'check stored objects against the manifest (exit 0 clean, 1 problems, 2 error)',
  usage: 'verify STORE [COLLECTION] [--headers-only] [--json]',
  summary: 'Check that every segment object a collection\'s manifest lists exists, has its descriptor\'s size and checksum, decodes with its record count, and that its partition index lists every row exactly once. Orphaned objects (GC deletes them) and retired segments are counted, not problems.',
  details: `Without COLLECTION every collection of the store is verified. Read-only: safe beside writers.
exit codes: 0 clean, 1 problems found (each named with its object key), 2 could not run.`,
  positionals: ['STORE', 'COLLECTION?'],
  options: {
    'headers-only': { type: 'boolean', describe: 'only check that the objects exist and read their headers (fast, a few bytes each)' },
    ...JSON_OUT,
    ...PROGRESS,
  },
  examples: ['akidb verify file:./data', 'akidb verify file:./data docs --json'],
  async run({ values, positionals }) {
    const { db, store } = await openStore(positionals.store, { mustExist: true });
    let names;
    if (positionals.collection !== undefined) {
      names = [positionals.collection];
    } else {
      try {
        names = (await db.listCollections()).map((c) => c.name);
      } catch (e) {
        if (e?.code !== 'CORRUPT') throw e;
        throw new CliError(`cannot list the collections of ${store.label}: ${e.message}`, {
          hint: 'a manifest does not parse; verify the collections by name (akidb verify STORE COLLECTION) to see which',
        });
      }
    }
    const show = wantProgress(values);
    const reports = [];
    for (const name of names) {
      const bar = new Progress(`verify ${name}`, 0, show, 'segments');
      let r;
      try {
        // db.verify reports a manifest that does not parse as a problem (a handle could not open).
        r = await db.verify(name, {
          headersOnly: Boolean(values.headersOnly),
          onProgress: (done, total) => bar.update(done, total),
        });
      } catch (e) {
        if (e?.code === 'NOT_FOUND') await openCollection(db, store, name); // throws the CLI's not-found error
        throw e;
      }
      bar.finish();
      reports.push(r);
      if (!values.json) await out(describe(r, store.label));
    }
    const ok = reports.every((r) => r.ok);
    if (values.json) await outJson({ ok, store: store.label, collections: reports });
    else if (!names.length) await out(`no collections in ${store.label}\n`);
    else if (names.length > 1) {
      const bad = reports.filter((r) => !r.ok).length;
      await out(`${bad ? `${bad} of ${names.length} collections have problems` : `all ${names.length} collections clean`}\n`);
    }
    return ok ? 0 : 1;
  },
};

function describe(r, label) {
  const lines = [
    `${r.collection} in ${label}: version ${r.version}, ${r.segments.length} segments, ${int(r.records)} records` +
      `, ${bytes(r.bytesRead)} read${r.headersOnly ? ' (headers only)' : ''}`,
  ];
  for (const p of r.problems) lines.push(`  PROBLEM ${p.key}: ${p.kind}: ${p.message}`);
  const notes = [
    `${r.orphaned.length} orphaned object${r.orphaned.length === 1 ? '' : 's'}`,
    `${r.retired} retired segment${r.retired === 1 ? '' : 's'}`,
  ];
  if (r.unknown.length) notes.push(`${r.unknown.length} unrecognised key${r.unknown.length === 1 ? '' : 's'}`);
  lines.push(`  ${r.ok ? 'OK' : `${r.problems.length} PROBLEM${r.problems.length === 1 ? '' : 'S'}`} (${notes.join(', ')})`);
  return lines.join('\n') + '\n';
}
