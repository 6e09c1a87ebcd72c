#!/usr/bin/env bash
# RFC 6455 conformance: the Autobahn TestSuite's cases 1-10 (301 cases), run by kosoku
# against an echo endpoint on Switchboard's own transport (bench/src/bin/conformance-echo.rs).
# Fails on any failed case (a wrong close code counts as a failure). scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kosoku >/dev/null 2>&1; then
  echo "== installing kosoku (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check kosoku
fi

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build -p switchboard-bench --bin conformance-echo -j2
LOG="$(mktemp)"
"$TARGET_DIR/debug/conformance-echo" --bind 127.0.0.1:0 > "$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
ADDR=""
for _ in $(seq 1 100); do
  ADDR="$(sed -n 's#^url=ws://\([^/]*\)/.*#\1#p' "$LOG" | head -n1)"
  [ -n "$ADDR" ] && break
  sleep 0.1
done
if [ -z "$ADDR" ]; then
  echo "conformance-echo did not start:" >&2
  cat "$LOG" >&2
  exit 1
fi
OUT="$TARGET_DIR/conformance"
rm -rf "$OUT"
# Cases 12 and 13 are permessage-deflate, which Switchboard does not negotiate.
kosoku -o "$OUT" -x '12.*' -x '13.*' "$ADDR"
