// tests/apps/next.test.mjs: a client component importing akidb at top level (rendered on the
// server too, as Next.js does), on IndexedDB with get-or-create so a second page load works.
'use client';
import { useEffect, useState } from 'react';
import { AkiDB } from 'akidb';

export default function Search() {
  const [result, setResult] = useState('loading');
  useEffect(() => {
    (async () => {
      const db = await AkiDB.open({ store: 'indexeddb', name: 'next-app' });
      await db.createCollection('docs', { dimension: 3 }, { ifNotExists: true });
      const docs = await db.collection('docs');
      await docs.upsert([{ id: 'a', vector: [1, 0, 0] }, { id: 'b', vector: [0, 1, 0] }, { id: 'c', vector: [0.9, 0.1, 0] }]);
      const ids = (await docs.search([1, 0, 0], { k: 2 })).map((h) => h.id);
      return { main: ids, count: await docs.count() };
    })().then(
      (r) => { window.__result = r; setResult(JSON.stringify(r)); },
      (e) => { window.__result = { failed: String(e?.stack || e), code: e?.code }; setResult('failed'); },
    );
  }, []);
  return <pre id="result">{result}</pre>;
}
