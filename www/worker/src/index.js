// The AkiDB REST service as a module worker (workerd, Cloudflare Workers). The package's
// "workerd" entry imports the .wasm as a module (Workers forbid compiling wasm from bytes).

import { AkiDB } from 'akidb';
import { createApp } from './app.js';

const handle = createApp(AkiDB);

export default {
  // `ctx.waitUntil` runs automatic compaction after the response (off the request's path).
  async fetch(request, env, ctx) {
    return handle(request, env, ctx);
  },
};
