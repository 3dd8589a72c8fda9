// The S3 server of this test run (exported by tests/edge/run.sh) as AkiDB.open options, and
// unique key prefixes so tests sharing one bucket never see each other's data.
import { randomUUID } from 'node:crypto';

/** The `AKIDB_S3_*` variables; throws when the run did not start a server. */
export function s3Env() {
  const need = ['AKIDB_S3_ENDPOINT', 'AKIDB_S3_BUCKET', 'AKIDB_S3_ACCESS_KEY_ID', 'AKIDB_S3_SECRET_ACCESS_KEY'];
  for (const k of need) {
    if (!process.env[k]) throw new Error(`${k} is not set: run the edge tests with tests/edge/run.sh`);
  }
  return {
    endpoint: process.env.AKIDB_S3_ENDPOINT,
    region: process.env.AKIDB_S3_REGION || 'us-east-1',
    bucket: process.env.AKIDB_S3_BUCKET,
    accessKeyId: process.env.AKIDB_S3_ACCESS_KEY_ID,
    secretAccessKey: process.env.AKIDB_S3_SECRET_ACCESS_KEY,
  };
}

/** `AkiDB.open` options for the run's bucket under `prefix`, optionally through `endpoint`. */
export function s3Options(prefix, endpoint) {
  const e = s3Env();
  return { store: 's3', ...e, endpoint: endpoint ?? e.endpoint, prefix };
}

/** A fresh prefix, e.g. `edge/3f2c…/concurrency/`. */
export function freshPrefix(what) {
  return `edge/${randomUUID()}/${what}/`;
}
