#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# It installs or starts whatever the tests need, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Two cores: two jobs, one shared target dir.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

# Integration tests start their own redis-server on free ports; install it if missing.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server"
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi

echo "== format"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== tests"
cargo test --workspace -j2
