#!/usr/bin/env node
// The `akidb` command (package.json "bin"): ls, inspect, verify, compact, gc, export, import,
// copy and search on any store, through the package's own engine (./node.mjs). See docs/CLI.md.
import { main } from './cli/main.mjs';

process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv.slice(2));
