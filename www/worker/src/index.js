// The AkiDB REST service as a module worker (workerd, Cloudflare Workers). The package's
// "workerd" entry imports the .wasm as a module (Workers forbid compiling wasm from bytes).

import { AkiDB } from 'akidb';
import { createApp } from './app.js';

const handle = createApp(AkiDB);

export default {
  async fetch(request, env) {
    return handle(request, env);
  },
};
