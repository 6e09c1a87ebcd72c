#!/usr/bin/env bash
# Runs the benchmark scenarios against the framework and the raw baseline, on loopback.
#
#   bash bench/run.sh            # S1 S2 S3 S4, 3 runs each, both servers
#   bash bench/run.sh S2         # one scenario
#   RUNS=1 bash bench/run.sh S1  # fewer runs while developing
#
# Builds release once, raises the open-files limit, then for each scenario and run
# starts a fresh bench-server and a fresh raw-server (one at a time), drives each with
# the load generator, and stops it. Every run's report is appended as a JSON line to
# $BENCH_OUT (default target/bench/results-DATE.jsonl); the end prints the medians,
# the ratios to the baseline and the targets as Markdown (also saved beside it as .md).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-3}"
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(S1 S2 S3 S4)
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/release"
mkdir -p "$TARGET_DIR/bench"
OUT="${BENCH_OUT:-$TARGET_DIR/bench/results-$(date +%Y%m%d-%H%M%S).jsonl}"
: > "$OUT"

echo "== build (release)"
cargo build --release -p switchboard-bench -j2

# 10,000 connections need 10,000 descriptors in the server and as many in the load
# generator (separate processes); raise the soft limit as far as this machine allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n 1048576 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10200 ]; then
  echo "open-files limit $(ulimit -n) is below 10,200: S3 and S4 cannot open 10,000 connections" >&2
  exit 1
fi
echo "== open files limit: $(ulimit -n)"

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

# start_server NAME: starts target/release/NAME on a free loopback port; sets
# SERVER_PID and SERVER_URL.
start_server() {
  local log="$TARGET_DIR/bench/$1.log"
  "$BIN/$1" --bind 127.0.0.1:0 > "$log" 2>&1 &
  SERVER_PID=$!
  SERVER_URL=""
  for _ in $(seq 1 100); do
    SERVER_URL="$(sed -n 's/.* url=\([^ ]*\).*/\1/p' "$log" | head -n1)"
    [ -n "$SERVER_URL" ] && return 0
    sleep 0.1
  done
  echo "$1 did not start:" >&2
  cat "$log" >&2
  exit 1
}

for scenario in "${SCENARIOS[@]}"; do
  for run in $(seq 1 "$RUNS"); do
    for target in framework raw; do
      case "$target" in
        framework) start_server bench-server ;;
        raw) start_server raw-server ;;
      esac
      sleep 0.5 # let the server settle before its idle memory is read
      echo "== $scenario $target run $run ($SERVER_URL, pid $SERVER_PID)"
      "$BIN/loadgen" run --scenario "$scenario" --target "$target" --url "$SERVER_URL" \
        --pid "$SERVER_PID" --run "$run" --out "$OUT" > /dev/null
      stop_server
      sleep 1 # let the closed connections' sockets go
    done
  done
done

echo
echo "== results ($OUT)"
"$BIN/loadgen" summarize "$OUT" | tee "${OUT%.jsonl}.md"
