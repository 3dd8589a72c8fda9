#!/usr/bin/env bash
# Fuzzes AkiDB's parsers of untrusted input, each for a set time, one after another at nice 19,
# and prints a table of execs, execs/s and crashes per target. See fuzz/README.md.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Targets: segment_decode manifest_parse filter_parse s3_list_xml (Rust) and rest (the REST
# worker's request handling, in Node). Default: all, 600 s each.
#
# Engine (FUZZ_ENGINE): `libfuzzer` (coverage-guided; built on the stable toolchain with
# SanitizerCoverage flags, no nightly needed), `structured` (fuzz/src/engine.rs: mutation-based,
# not coverage-guided) or `auto` (default: libFuzzer if it builds, else structured). The REST
# target always uses fuzz/rest_fuzz.mjs (mutation-based).
#
# A finding already reported but not yet fixed can be tolerated so a long run looks past it:
# AKIDB_FUZZ_TOLERATE=<id>,... (ids in fuzz/src/checks.rs; default: none, everything counts).
#
# Raw crash artifacts go to fuzz/artifacts/<target>/ (ignored by git); one minimized input per
# distinct panic location goes to fuzz/crashes/<target>/<hash> with a .txt naming the panic.
# Corpora persist in fuzz/corpus/<target>/ (ignored by git); logs in fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

SECS="${1:-600}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(segment_decode manifest_parse filter_parse s3_list_xml rest)
ENGINE="${FUZZ_ENGINE:-auto}"
export AKIDB_FUZZ_TOLERATE="${AKIDB_FUZZ_TOLERATE-}"
NICE=(nice -n 19)

mkdir -p fuzz/logs fuzz/artifacts fuzz/crashes fuzz/corpus
LOG=fuzz/logs
HOST="$(rustc -vV | sed -n 's/^host: //p')"
SAN_FLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cforce-frame-pointers"

echo "== building the structured fuzzer and seeds"
( cd fuzz && "${NICE[@]}" cargo build --release --bin structured --bin write_seeds ) >"$LOG/build.log" 2>&1 \
  || { cat "$LOG/build.log"; exit 1; }
STRUCTURED=fuzz/target/release/structured
rm -rf fuzz/target/seeds
fuzz/target/release/write_seeds fuzz/target/seeds

if [ "$ENGINE" != structured ]; then
  echo "== building the libFuzzer targets (stable rustc, SanitizerCoverage, --target $HOST)"
  # An explicit --target keeps the coverage flags off build scripts and proc macros.
  if ( cd fuzz && RUSTFLAGS="$SAN_FLAGS" "${NICE[@]}" cargo build --release --features libfuzzer \
         --target "$HOST" --target-dir target/libfuzzer \
         --bin segment_decode --bin manifest_parse --bin filter_parse --bin s3_list_xml ) >"$LOG/build-libfuzzer.log" 2>&1; then
    ENGINE=libfuzzer
  elif [ "$ENGINE" = libfuzzer ]; then
    cat "$LOG/build-libfuzzer.log"; exit 1
  else
    echo "   libFuzzer did not build (see $LOG/build-libfuzzer.log): using the structured fuzzer"
    ENGINE=structured
  fi
fi
LIBFUZZER_BIN="fuzz/target/libfuzzer/$HOST/release"

ROWS=()
row() { ROWS+=("$(printf '%-15s %-11s %7s %13s %10s %8s %s' "$@")"); }

for t in "${TARGETS[@]}"; do
  start=$(date +%s)
  if [ "$t" = rest ]; then
    echo "== rest: ${SECS}s (fuzz/rest_fuzz.mjs)"
    mkdir -p fuzz/crashes/rest
    "${NICE[@]}" node fuzz/rest_fuzz.mjs --seconds "$SECS" --crashes fuzz/crashes/rest >"$LOG/rest.log" 2>&1 || true
    line=$(grep '^target=' "$LOG/rest.log" | tail -1)
    get() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $line"; }
    row rest node-mutate "$(get secs)" "$(get execs)" "$(get execs_per_sec)" "$(get crashes)" "$(get note)"
    continue
  fi
  mkdir -p "fuzz/artifacts/$t" "fuzz/corpus/$t"
  if [ "$ENGINE" = libfuzzer ]; then
    echo "== $t: ${SECS}s (libFuzzer, fork mode, crashes do not stop it)"
    touch "$LOG/$t.started"
    "${NICE[@]}" "$LIBFUZZER_BIN/$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$SECS" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
      -dict="fuzz/target/seeds/$t.dict" -artifact_prefix="fuzz/artifacts/$t/" \
      "fuzz/corpus/$t" "fuzz/target/seeds/$t" >"$LOG/$t.log" 2>&1 || true
    last=$(grep -E '^#[0-9]+: ' "$LOG/$t.log" | tail -1)
    execs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$last")
    events=$(sed -n 's/.*oom\/timeout\/crash: \([0-9\/]*\).*/\1/p' <<<"$last")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    elapsed=$(( $(date +%s) - start ))
    eps=$(( ${execs:-0} / (elapsed > 0 ? elapsed : 1) ))
    new=$(find "fuzz/artifacts/$t" -type f -newer "$LOG/$t.started" | sort)
    distinct=0
    if [ -n "$new" ]; then
      # shellcheck disable=SC2086
      "$STRUCTURED" "$t" --repro "fuzz/crashes/$t" $new >"$LOG/$t.repro.log" 2>&1 || true
      distinct=$(sed -n 's/^distinct_crashes=\([0-9]*\).*/\1/p' "$LOG/$t.repro.log")
    fi
    row "$t" libfuzzer "$elapsed" "${execs:-0}" "$eps" "$distinct" "cov=$cov oom/timeout/crash=$events"
  else
    echo "== $t: ${SECS}s (structured mutation fuzzer)"
    "${NICE[@]}" "$STRUCTURED" "$t" --seconds "$SECS" --seed "$(date +%s)" --crashes "fuzz/crashes/$t" >"$LOG/$t.log" 2>&1 || true
    line=$(grep '^target=' "$LOG/$t.log" | tail -1)
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
    row "$t" structured "$(get secs)" "$(get execs)" "$(get execs_per_sec)" "$(get crashes)" "slow=$(get slow) corpus=$(get corpus)"
  fi
done

echo
echo "tolerated known findings: ${AKIDB_FUZZ_TOLERATE:-none}"
printf '%-15s %-11s %7s %13s %10s %8s %s\n' target engine secs execs execs/s crashes notes
for r in "${ROWS[@]}"; do echo "$r"; done
echo
for t in "${TARGETS[@]}"; do
  for f in "$LOG/$t.repro.log" "$LOG/$t.log"; do
    [ -f "$f" ] && grep -h -A1 '^crash at' "$f" 2>/dev/null | sed "s/^/[$t] /" || true
  done
done
