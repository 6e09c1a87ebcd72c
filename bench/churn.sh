#!/usr/bin/env bash
# The churn soak (not in CI): 5,000 clients connecting, subscribing, unsubscribing,
# closing and resetting at random, 500 operations per second for 60 s while two
# publishers broadcast; then every client leaves, and the server must report nothing
# left (connections, users, channels, subscriptions, channel actors) with its RSS
# within 10% of the baseline taken after a warm-up round of the same workload.
#
#   bash bench/churn.sh                          # the defaults above
#   bash bench/churn.sh --rounds 3 --secs 30     # any of churn's options
#   SOAK_ALLOCATOR=system bash bench/churn.sh    # glibc malloc instead of jemalloc
#
# The allocator: glibc's malloc keeps the pages of a connection storm's peak after the
# connections are gone (the live heap is back to its idle size, but RSS is not), so an
# RSS bound measures glibc rather than Switchboard. The server therefore runs on the
# system's jemalloc (apt package libjemalloc2, installed when missing) unless
# SOAK_ALLOCATOR=system; BENCHMARKS.md records both.
#
# Prints the report as a Markdown table and a JSON line (also appended to
# target/bench/churn.jsonl); exits non-zero when the server did not come back idle.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p switchboard-bench -j2 --bin churn --bin bench-server

if [ "${SOAK_ALLOCATOR:-jemalloc}" = jemalloc ]; then
  JEMALLOC="$(ldconfig -p | sed -n 's/.*libjemalloc.so.2 .*=> //p' | head -n1)"
  if [ -z "$JEMALLOC" ]; then
    apt-get update -qq && apt-get install -y -qq libjemalloc2 > /dev/null
    JEMALLOC="$(ldconfig -p | sed -n 's/.*libjemalloc.so.2 .*=> //p' | head -n1)"
  fi
  export CHURN_SERVER_PRELOAD="$JEMALLOC"
  echo "== allocator: jemalloc ($JEMALLOC)"
else
  echo "== allocator: the system's (glibc malloc)"
fi

# Each client is a descriptor in the soak and another in the server (two processes).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$TARGET_DIR/bench"
status=0
"$TARGET_DIR/release/churn" "$@" | tee "$TARGET_DIR/bench/churn.log" || status=$?
grep '^{' "$TARGET_DIR/bench/churn.log" >> "$TARGET_DIR/bench/churn.jsonl" || true
exit "$status"
