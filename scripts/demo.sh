#!/usr/bin/env bash
# The main job: sets up, builds the npm package, runs the demo on the embedded memory store.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# Only when setup had to fall back to Debian's toolchain (std built from source for wasm32).
wasm() { ( if [ -f .cargo/env-wasm-fallback ]; then . .cargo/env-wasm-fallback; fi; "$@" ); }
wasm scripts/build-pkg.sh
node www/demo/node-demo.mjs "$@"
