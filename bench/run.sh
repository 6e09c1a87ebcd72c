#!/usr/bin/env bash
# Runs the benchmark scenarios against the framework and the raw baseline, on loopback.
#
#   bash bench/run.sh                # S1..S5, 3 runs each
#   bash bench/run.sh S2             # one scenario
#   RUNS=5 bash bench/run.sh S2      # five runs (the S2 spread target wants 5 or more)
#   SERVER_ARGS="--history 100" bash bench/run.sh S2 S5   # bench-server with extra flags
#
# Builds release once, raises the open-files limit, then for each scenario and run
# starts a fresh bench-server, drives it with the load generator and stops it, then
# does the same with a fresh raw-server (side by side, minutes apart at most). S5 has
# no raw baseline: it starts its own redis-server on a free loopback port and two
# bench-server nodes on it, puts half the subscribers on each and the publisher on
# node A, and is read beside S2. Every run's report is appended as a JSON line to
# $BENCH_OUT (default target/bench/results-DATE.jsonl); the end prints the medians,
# spreads, ratios and targets as Markdown (also saved beside it as .md).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-3}"
# Extra flags for every bench-server (not the raw baseline), e.g. `--history 100`.
read -r -a SERVER_EXTRA <<< "${SERVER_ARGS:-}"
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(S1 S2 S3 S4 S5)
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

for s in "${SCENARIOS[@]}"; do
  if [ "$s" = S5 ] && ! command -v redis-server > /dev/null; then
    echo "== S5 needs redis-server: installing it"
    apt-get update -qq && apt-get install -y -qq redis-server > /dev/null
  fi
done

# Every process this script started and has not stopped yet.
PIDS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_all EXIT

# start_server NAME [ARGS...]: starts $BIN/NAME on a free loopback port; sets
# STARTED_PID and STARTED_URL.
start_server() {
  local name="$1"
  shift
  local log="$TARGET_DIR/bench/$name-${#PIDS[@]}.log"
  "$BIN/$name" --bind 127.0.0.1:0 "$@" > "$log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  STARTED_URL=""
  for _ in $(seq 1 100); do
    STARTED_URL="$(sed -n 's/.* url=\([^ ]*\).*/\1/p' "$log" | head -n1)"
    [ -n "$STARTED_URL" ] && return 0
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$log" >&2
  exit 1
}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() {
  ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# start_redis: a redis-server of our own on a free loopback port (never a Redis that
# already runs on this machine, e.g. on 6379); sets REDIS_PID and REDIS_URL.
start_redis() {
  local port log="$TARGET_DIR/bench/redis.log"
  for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no > "$log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    for _ in $(seq 1 50); do
      if ! port_free "$port"; then
        REDIS_URL="redis://127.0.0.1:$port"
        return 0
      fi
      kill -0 "$REDIS_PID" 2> /dev/null || break
      sleep 0.1
    done
  done
  echo "redis-server did not start:" >&2
  cat "$log" >&2
  exit 1
}

for scenario in "${SCENARIOS[@]}"; do
  targets=(framework raw)
  [ "$scenario" = S5 ] && targets=(framework)
  for run in $(seq 1 "$RUNS"); do
    for target in "${targets[@]}"; do
      extra=()
      if [ "$scenario" = S5 ]; then
        start_redis
        start_server bench-server --redis "$REDIS_URL" "${SERVER_EXTRA[@]}"
        url_a="$STARTED_URL" pid_a="$STARTED_PID"
        start_server bench-server --redis "$REDIS_URL" "${SERVER_EXTRA[@]}"
        extra=(--url-b "$STARTED_URL" --pid-b "$STARTED_PID" --redis-pid "$REDIS_PID")
        url="$url_a" pid="$pid_a"
      else
        case "$target" in
          framework) start_server bench-server "${SERVER_EXTRA[@]}" ;;
          raw) start_server raw-server ;;
        esac
        url="$STARTED_URL" pid="$STARTED_PID"
      fi
      sleep 0.5 # let the servers settle before their idle memory is read
      echo "== $scenario $target run $run ($url, pid $pid${extra[*]:+, ${extra[*]}}; load $(cut -d' ' -f1-3 /proc/loadavg))"
      "$BIN/loadgen" run --scenario "$scenario" --target "$target" --url "$url" \
        --pid "$pid" "${extra[@]}" --run "$run" --out "$OUT" > /dev/null
      stop_all
      sleep 1 # let the closed connections' sockets go
    done
  done
done

echo
echo "== results ($OUT)"
"$BIN/loadgen" summarize "$OUT" | tee "${OUT%.jsonl}.md"
