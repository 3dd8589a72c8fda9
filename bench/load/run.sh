#!/usr/bin/env bash
# The seed's load test as a benchmark: 5 REST workers on workerd (ports 8081-8085 when free)
# against a local S3 server (ministack, 127.0.0.1 only), group commit on/off x seed/jittered
# backoff, at 1/10 and full scale. Prints a markdown table on stdout (progress on stderr).
#   bench/load/run.sh            # 1/10 and full scale (~20 min on 2 cores)
#   bench/load/run.sh --quick    # 1/10 scale only (~3 min)
# Needs scripts/setup.sh and pkg/ built (scripts/build-pkg.sh). Every process is stopped by PID.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
LOG_DIR="${LOG_DIR:-$(mktemp -d /tmp/akidb-bench-load.XXXXXX)}"
export LOG_DIR
. tests/edge/lib/ministack.sh
trap stop_ministack EXIT INT TERM
[ -f pkg/wasm/akidb_bg.wasm ] && [ -f pkg/wasm-node/akidb.js ] || { echo "pkg/ not built: run scripts/build-pkg.sh" >&2; exit 1; }
start_ministack >&2
export MINISTACK_PID
node bench/load/bench.mjs "$@"
echo "logs and JSON results in $LOG_DIR" >&2
