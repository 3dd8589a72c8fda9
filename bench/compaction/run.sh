#!/usr/bin/env bash
# Compaction on the edge: cold searches from fresh workerd isolates, commit latency, manifest and
# segment counts before and after compaction, for the seed's load test at full scale and for
# 4 writers x 400 mixed commits, against a local S3 server (ministack, 127.0.0.1 only).
# Prints a markdown table on stdout (progress on stderr). ~10 min on 2 cores.
#   bench/compaction/run.sh
#   BENCH_COLD=5 BENCH_SEED_N=1000 BENCH_MIXED_OPS=100 bench/compaction/run.sh   # a quick look
# Needs scripts/setup.sh and pkg/ built (scripts/build-pkg.sh). Every process is stopped by PID.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
LOG_DIR="${LOG_DIR:-$(mktemp -d /tmp/akidb-bench-compaction.XXXXXX)}"
export LOG_DIR
. tests/edge/lib/ministack.sh
trap stop_ministack EXIT INT TERM
[ -f pkg/wasm/akidb_bg.wasm ] && [ -f pkg/wasm-node/akidb.js ] || { echo "pkg/ not built: run scripts/build-pkg.sh" >&2; exit 1; }
start_ministack >&2
BENCH_OUT="${BENCH_OUT:-$LOG_DIR/results.json}" node bench/compaction/run.mjs "$@"
echo "logs and JSON results in $LOG_DIR" >&2
