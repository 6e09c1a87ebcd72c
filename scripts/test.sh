#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# It installs or starts whatever the tests need, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Two cores: two jobs, one shared target dir.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

# The PostgreSQL source's tests start their own server (initdb and pg_ctl, as the
# postgres user) in a temporary directory; install PostgreSQL if it is missing.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "== installing postgresql"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# Integration tests start their own redis-server on free ports; install it if missing.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server"
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
# tests/tests/auth.rs makes RSA and EC key pairs with the openssl command.
if ! command -v openssl >/dev/null 2>&1; then
  echo "== installing openssl"
  apt-get update -qq && apt-get install -y -qq openssl >/dev/null
fi

echo "== format"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== tests"
cargo test --workspace -j2

# The framework's optional parts (redis, metrics, http-api, postgres) are cargo
# features: the smallest build must compile, and refuse settings that need what it lacks.
echo "== the framework without its optional features"
cargo test -p switchboard --no-default-features --features macros --lib -j2

# The published crates must package and build from their packages alone (what crates.io
# would get). --allow-dirty: the command also runs on a developer's uncommitted tree.
echo "== cargo package (switchboard-pattern, switchboard-macros, switchboard, switchboard-cli)"
cargo package -p switchboard-pattern -p switchboard-macros -p switchboard -p switchboard-cli --allow-dirty -j2

echo "== RFC 6455 conformance (Autobahn cases 1-10, by kosoku)"
bash scripts/conformance.sh

# The browser client (framework/static/switchboard.js) and the demo page, under Node and
# in headless Chromium, against the real demo binary. Installs what is missing.
echo "== browser client and demo page (node --test e2e/)"
if ! command -v node >/dev/null 2>&1; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
if [ ! -x /usr/bin/chromium ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)
cargo build -p switchboard-app -j2
node --test e2e/
