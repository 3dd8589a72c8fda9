#!/usr/bin/env bash
# Runs every test: lints on both targets, native Rust tests (unit, conformance, concurrency
# with real threads), the same core suite compiled to wasm32 in Node, the IndexedDB suite in
# headless Chromium and in headless Firefox, the npm package build (fails without SIMD128), the
# JS API tests in Node, the R2 binding store and the REST worker on Miniflare, the package smoke
# test in every runtime, and the browser end-to-end tests (Chromium and Firefox).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# Only when setup had to fall back to Debian's toolchain (std built from source for wasm32).
wasm() { ( if [ -f .cargo/env-wasm-fallback ]; then . .cargo/env-wasm-fallback; fi; "$@" ); }

step() { printf '\n=== %s\n' "$*"; }

step "format and lints (native and wasm32)"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
wasm cargo clippy --workspace --target wasm32-unknown-unknown --all-targets -- -D warnings

step "architecture: the core crate sees no JS on any target; import graph (cycles, upward imports)"
scripts/check-architecture.sh

step "native tests"
cargo test --workspace

step "wasm32 tests in Node (wasm-pack test --node): the core suite, then the web crate's"
wasm wasm-pack test --node crates/core
wasm wasm-pack test --node crates/web

step "wasm32 tests in headless Chromium: IndexedDbKv conformance, CAS across connections, collection API"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
wasm wasm-pack test --headless --chrome crates/web --test browser_indexeddb

step "wasm32 tests in headless Firefox ESR: the same IndexedDB suite"
export GECKODRIVER="${GECKODRIVER:-$(command -v geckodriver)}"
wasm wasm-pack test --headless --firefox crates/web --test browser_indexeddb

step "npm package build (checks SIMD128 is in the shipped wasm)"
wasm scripts/build-pkg.sh

step "JS API tests in Node (incl. custom stores and the R2 adapter on an in-process fake binding)"
node --test tests/js/

step "Miniflare R2: conformance through the binding, atomicity probes, REST worker on an R2 binding"
node --test --test-concurrency=1 tests/miniflare/

step "npm package: smoke test in Node ESM + CJS, Chromium, Firefox and workerd; index.d.ts type check"
node --test --test-concurrency=1 tests/pkg/

step "apps matrix: the packed package built by Vite, webpack, esbuild, Next.js and wrangler dev (pinned, default configs), run in Chromium or by request; LangChain.js"
node --test --test-concurrency=1 tests/apps/

step "browser end-to-end (Chromium via playwright-core, Firefox ESR via selenium-webdriver + geckodriver): 4 tabs, persistence, quota; demo page (Chromium)"
node --test --test-concurrency=1 tests/e2e/

step "browser demo server (scripts/demo.sh --check)"
node www/app/serve.mjs --check --port 0

step "edge: S3Kv against a real S3 server (ministack), concurrency + faults, REST worker on workerd, load"
wasm tests/edge/run.sh
