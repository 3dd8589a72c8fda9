#!/usr/bin/env bash
# Builds the npm package in pkg/: release wasm (SIMD128 via .cargo/config.toml), JS glue for the
# web/worker target (ES module) and the Node target (CommonJS), each optimised with npm
# binaryen's wasm-opt (never Debian's: it breaks externref tables).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --target wasm32-unknown-unknown -p akidb-web --lib
raw=target/wasm32-unknown-unknown/release/akidb.wasm
opt=node_modules/.bin/wasm-opt
[ -x "$opt" ] || { echo "missing $opt: run scripts/setup.sh" >&2; exit 1; }

rm -rf pkg/wasm pkg/wasm-node
wasm-bindgen --target web --out-dir pkg/wasm --out-name akidb "$raw"
wasm-bindgen --target nodejs --out-dir pkg/wasm-node --out-name akidb "$raw"
# pkg/package.json says "type": "module"; the Node glue is CommonJS.
echo '{ "type": "commonjs" }' > pkg/wasm-node/package.json

for f in pkg/wasm/akidb_bg.wasm pkg/wasm-node/akidb_bg.wasm; do
  "$opt" -O3 --enable-simd --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue "$f" -o "$f"
done

simd=$(node_modules/.bin/wasm-dis pkg/wasm/akidb_bg.wasm | grep -cE '(v128|f32x4|i32x4|i16x8|i8x16)\.' || true)
size=$(wc -c < pkg/wasm/akidb_bg.wasm)
gz=$(gzip -9c pkg/wasm/akidb_bg.wasm | wc -c)
echo "pkg built: akidb_bg.wasm $size bytes ($gz gzipped), $simd SIMD128 instructions"
if [ "$simd" -eq 0 ]; then
  echo "error: the built wasm contains no SIMD128 instructions" >&2
  exit 1
fi
