#!/usr/bin/env bash
# Cold ANN queries from fresh workerd isolates on a 100k × 384 indexed collection in a local S3
# server (ministack, 127.0.0.1 only, stopped on exit). Markdown table on stdout.
#   bench/ann/edge.sh
#   BENCH_N=30000 BENCH_COLD=2 BENCH_Q=50 bench/ann/edge.sh     # a quick look
# Needs scripts/setup.sh and pkg/ built (scripts/build-pkg.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
LOG_DIR="${LOG_DIR:-$(mktemp -d /tmp/akidb-bench-ann.XXXXXX)}"
export LOG_DIR
. tests/edge/lib/ministack.sh
trap stop_ministack EXIT INT TERM
[ -f pkg/wasm/akidb_bg.wasm ] && [ -f pkg/wasm-node/akidb.js ] || { echo "pkg/ not built: run scripts/build-pkg.sh" >&2; exit 1; }
start_ministack >&2
node bench/ann/edge.mjs "$@"
echo "logs in $LOG_DIR" >&2
