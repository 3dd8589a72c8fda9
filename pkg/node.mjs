// Node (ESM): the same instance as the CommonJS entry, so mixing import and require in one
// process shares one engine (and one set of named memory stores).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const akidb = require('./node.cjs');

export const { AkiDB, AkiDBError, Collection, runConformance } = akidb;
export default akidb;
