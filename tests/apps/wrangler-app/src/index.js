// tests/apps/wrangler.test.mjs: a Worker importing akidb (the workerd entry, chosen by wrangler's
// bundler) on its R2 binding. GET /?upsert=a,b get-or-creates 'docs', upserts those ids (one
// commit), then answers the search for [1, 0, 0] and the count.
import { AkiDB } from 'akidb';

const VECTORS = { a: [1, 0, 0], b: [0, 1, 0], c: [0.9, 0.1, 0] };

export default {
  async fetch(request, env) {
    try {
      const url = new URL(request.url);
      const db = await AkiDB.open({ store: 'r2', bucket: env.BUCKET });
      await db.createCollection('docs', { dimension: 3 }, { ifNotExists: true });
      const docs = await db.collection('docs');
      const ids = (url.searchParams.get('upsert') ?? '').split(',').filter(Boolean);
      if (ids.length) await docs.upsert(ids.map((id) => ({ id, vector: VECTORS[id] ?? [0, 0, 1] })));
      const hits = await docs.search([1, 0, 0], { k: 2 });
      return Response.json({ hits: hits.map((h) => h.id), count: await docs.count() });
    } catch (e) {
      return Response.json({ error: String(e?.stack ?? e), code: e?.code }, { status: 500 });
    }
  },
};
