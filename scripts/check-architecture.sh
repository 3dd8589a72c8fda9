#!/usr/bin/env bash
# The walls of ARCHITECTURE.md, checked: (1) the core crate depends on no JS binding crate on any
# target (the compiler enforces what it may call; this keeps Cargo.toml honest too); (2) the
# import graph of both crates has no cycles and no upward imports beyond the allowed ones.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
for target in "" "--target wasm32-unknown-unknown"; do
  # shellcheck disable=SC2086
  tree=$(cargo tree -p akidb-core -e normal,build $target --prefix none)
  bad=$(grep -E '^(wasm-bindgen|js-sys|web-sys|wasm-bindgen-futures|getrandom) ' <<<"$tree" || true)
  if [ -n "$bad" ]; then
    echo "error: akidb-core depends on JS bindings (${target:-native}):" >&2
    echo "$bad" >&2
    exit 1
  fi
  echo "akidb-core ${target:-native}: $(wc -l <<<"$tree") dependency lines, none of wasm-bindgen/js-sys/web-sys"
done
if [ -f scripts/import-graph.mjs ]; then node scripts/import-graph.mjs --check; fi
