#!/usr/bin/env bash
# The edge test step: starts a real S3 server (ministack, SigV4 checked) on 127.0.0.1, then runs
#   1. the KV conformance suite and S3 edge cases against S3Kv from the wasm build in Node
#      (crates/web/tests/s3_kv.rs via wasm-pack test --node),
#   2. the Node tests in tests/edge/*.test.mjs: concurrency (8 processes x 25 commits, GC passes
#      meanwhile), faults (each writer through a fault-injecting proxy; OUTCOME_UNKNOWN settled by
#      operationStatus), compaction racing 8 mixed writers through fault proxies (3 compactors,
#      GC and a reader meanwhile), the REST worker on workerd (its two commit modes, automatic
#      compaction and the compact route; hostile input, API-key scopes, CORS), load on 3 workerds, and the seed's load test at 1/10
#      scale (5 workerds, 1,000 upserts at concurrency 100, default retry policy, automatic
#      compaction keeping the segment count bounded; the full scale is bench/load/run.sh).
#   3. tests/edge/cli.test.mjs: the akidb command on S3 (export -> import of 10,000 records,
#      verify after a flipped byte or a deleted object, imports through faults applied exactly once).
# Every server is started here or by the tests themselves and stopped by PID.
# Needs scripts/setup.sh (venv, npm) and pkg/ built (scripts/build-pkg.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
LOG_DIR="${LOG_DIR:-$(mktemp -d /tmp/akidb-edge.XXXXXX)}"
export LOG_DIR
. tests/edge/lib/ministack.sh
trap stop_ministack EXIT INT TERM
wasm() { ( if [ -f .cargo/env-wasm-fallback ]; then . .cargo/env-wasm-fallback; fi; "$@" ); }

[ -f pkg/wasm/akidb_bg.wasm ] && [ -f pkg/wasm-node/akidb.js ] || { echo "pkg/ not built: run scripts/build-pkg.sh" >&2; exit 1; }
start_ministack
export AKIDB_S3_REQUIRED=1

echo "--- S3Kv conformance + S3 edge cases (wasm in Node)"
wasm wasm-pack test --node crates/web --test s3_kv

echo "--- concurrency, faults, worker on workerd, load"
node --test --test-concurrency=1 tests/edge/
echo "edge logs in $LOG_DIR"
