#!/usr/bin/env bash
# The main job: sets up, builds the npm package, then runs a demo.
#   scripts/demo.sh                 the browser demo: IndexedDB, search, manifest panel, two tabs;
#                                   served on http://127.0.0.1:8080/ (prints the URL) until Ctrl-C
#   scripts/demo.sh --check         starts the browser demo, fetches every part once, stops
#   scripts/demo.sh --timeout S     stops the browser demo by itself after S seconds
#   scripts/demo.sh --port P        serves the browser demo on port P
#   scripts/demo.sh --node [args]   the Node demo: eight concurrent writers on the memory store
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# Only when setup had to fall back to Debian's toolchain (std built from source for wasm32).
wasm() { ( if [ -f .cargo/env-wasm-fallback ]; then . .cargo/env-wasm-fallback; fi; "$@" ); }
wasm scripts/build-pkg.sh
if [ "${1:-}" = "--node" ]; then
  shift
  exec node www/demo/node-demo.mjs "$@"
fi
exec node www/app/serve.mjs "$@"
