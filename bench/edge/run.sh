#!/usr/bin/env bash
# Edge benchmark: REST worker on workerd -> counting proxy -> ministack (127.0.0.1 only).
# Prints a markdown table. Needs scripts/setup.sh and pkg/ built (scripts/build-pkg.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
LOG_DIR="${LOG_DIR:-$(mktemp -d /tmp/akidb-bench-edge.XXXXXX)}"
. tests/edge/lib/ministack.sh
trap stop_ministack EXIT INT TERM
start_ministack >&2
node bench/edge/bench.mjs
