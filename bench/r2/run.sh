#!/usr/bin/env bash
# R2 binding vs S3 store, both inside Miniflare (local): commit latency and the store requests of
# a commit and of a cold search. Starts ministack (127.0.0.1 only) for the S3 side, stops it by
# PID on exit. Prints a markdown table. Needs scripts/setup.sh and pkg/ built.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
LOG_DIR="${LOG_DIR:-$(mktemp -d /tmp/akidb-bench-r2.XXXXXX)}"
. tests/edge/lib/ministack.sh
trap stop_ministack EXIT INT TERM
start_ministack >&2
node bench/r2/bench.mjs "$@"
