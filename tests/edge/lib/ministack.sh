# Sourced by tests/edge/run.sh and bench/edge/run.sh: starts ministack (PyPI, pinned by
# scripts/setup.sh) on 127.0.0.1 with SigV4 checking, waits until it answers (bounded), creates
# an IAM user + bucket, and exports AKIDB_S3_*. The caller's EXIT trap calls stop_ministack.
# Requires: ROOT (repo root), LOG_DIR.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_ministack() {
  local port
  port=$(free_port)
  BIND_HOST=127.0.0.1 GATEWAY_PORT="$port" AUTH=true LOG_LEVEL=WARNING SERVICES=s3,iam,sts \
    "$ROOT/.venv-s3/bin/ministack" >"$LOG_DIR/ministack.log" 2>&1 &
  MINISTACK_PID=$!
  local i
  for i in $(seq 1 120); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
    if ! kill -0 "$MINISTACK_PID" 2>/dev/null; then
      echo "ministack exited; log:" >&2; cat "$LOG_DIR/ministack.log" >&2; return 1
    fi
    sleep 0.25
  done
  [ "$i" -lt 120 ] || { echo "ministack did not answer within 30 s" >&2; return 1; }
  eval "$("$ROOT/.venv-s3/bin/python" "$ROOT/tests/edge/s3_bootstrap.py" "http://127.0.0.1:$port" akidb-edge)"
  echo "ministack pid $MINISTACK_PID on 127.0.0.1:$port, bucket $AKIDB_S3_BUCKET"
}

stop_ministack() {
  if [ -n "${MINISTACK_PID:-}" ] && kill -0 "$MINISTACK_PID" 2>/dev/null; then
    kill "$MINISTACK_PID" 2>/dev/null || true
    wait "$MINISTACK_PID" 2>/dev/null || true
  fi
  MINISTACK_PID=
}
