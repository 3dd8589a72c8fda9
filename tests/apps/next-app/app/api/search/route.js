// tests/apps/next.test.mjs: a route handler using akidb on the server (memory store).
import { AkiDB } from 'akidb';

export const dynamic = 'force-dynamic';

export async function GET() {
  const db = await AkiDB.open({ store: 'memory' });
  await db.createCollection('docs', { dimension: 3 });
  const docs = await db.collection('docs');
  await docs.upsert([{ id: 'a', vector: [1, 0, 0] }, { id: 'b', vector: [0, 1, 0] }, { id: 'c', vector: [0.9, 0.1, 0] }]);
  const ids = (await docs.search([0, 1, 0], { k: 2 })).map((h) => h.id);
  return Response.json({ server: ids });
}
