#!/usr/bin/env bash
# Runs every test: installs and starts what the tests need (Chromium, chromedriver, a
# private ClickHouse server, two more as a cluster's shards and a private PostgreSQL
# server, all on loopback and stopped at the end, chDB in a virtual environment
# under .tmp), then formatting, lints,
# native tests, wasm tests in headless Chromium, Shopify's own build and theme check,
# the size report and the end-to-end tests. Exits non-zero on any failure and ends
# with a summary line.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TERM_COLOR=never RUST_BACKTRACE=0
# One clean pass gains nothing from incremental caches; they doubled the target
# directory's size on disk.
export CARGO_INCREMENTAL=0
export CHROMEDRIVER=/usr/bin/chromedriver

scripts/setup.sh --test || { echo "summary: 0 passed, 1 failed (setup)"; exit 1; }

passed=0; failed=0; failures=()
step() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name"
  if "$@"; then
    passed=$((passed + 1)); echo "<== ok: $name ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "<== FAILED: $name ($((SECONDS - t0)) s)"
  fi
}

clickhouse_url=$(scripts/clickhouse.sh start) || { echo "summary: 0 passed, 1 failed (clickhouse)"; exit 1; }
trap 'scripts/clickhouse.sh stop; scripts/postgres.sh stop' EXIT
export LUMMMEN_TEST_CLICKHOUSE_URL=$clickhouse_url
# Two more servers, the two shards of cluster `lummmen`, for the cluster test
# (server/tests/clickhouse_cluster.rs) and the instances test.
clickhouse_shards=$(LUMMMEN_CH_SHARDS=2 LUMMMEN_CH_CLUSTER=lummmen scripts/clickhouse.sh start-cluster) ||
  { echo "summary: 0 passed, 1 failed (clickhouse cluster)"; exit 1; }
export LUMMMEN_TEST_CLICKHOUSE_SHARDS=$clickhouse_shards LUMMMEN_TEST_CLICKHOUSE_CLUSTER=lummmen
postgres_url=$(scripts/postgres.sh start) || { echo "summary: 0 passed, 1 failed (postgres)"; exit 1; }
export LUMMMEN_TEST_POSTGRES_URL=$postgres_url

shopify() {
  mkdir -p target/shopify-home
  HOME="$root/target/shopify-home" SHOPIFY_CLI_NO_ANALYTICS=1 SHOPIFY_CLI_TTY=0 CI=1 \
    timeout 300 node_modules/.bin/shopify "$@"
}

step "cargo fmt --check" cargo fmt --all -- --check
step "build wasm bundles + shopify app build" cargo xtask build
step "clippy native" cargo clippy -q --workspace --all-targets -- -D warnings
step "clippy wasm32" cargo clippy -q -p protocol -p tracker-wasm -p pixel-wasm --all-targets \
  --target wasm32-unknown-unknown -- -D warnings
# chDB (a current ClickHouse engine, from PyPI) for the native test that replays
# every statement of the ClickHouse store on it (server/tests/clickhouse_engines.rs);
# without it that test fails too.
chdb() { LUMMMEN_CHDB_PYTHON=$(scripts/chdb-venv.sh) && export LUMMMEN_CHDB_PYTHON; }
step "chDB 26.9 for the ClickHouse engines test" chdb
step "native tests" cargo test -q --workspace --exclude lummmen-e2e
# The Shopify app's tests again, with the metadata store in PostgreSQL (each
# server on a database of its own) instead of the SQLite files.
step "Shopify tests on PostgreSQL" env LUMMMEN_TEST_META=postgres cargo test -q -p lummmen-server \
  --test shopify_webhooks --test shopify_oauth --test shopify_token_exchange --test shopify_session_token \
  --test shopify_bounce --test shopify_fulfilment --test admin_setup
step "wasm tests in headless Chromium" env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown -p tracker-wasm -p pixel-wasm
step "shopify theme check" shopify theme check --path extensions/lummmen-theme -C theme-check:theme-app-extension
step "size report" cargo xtask size
step "end-to-end tests" cargo test -q -p lummmen-e2e

for f in "${failures[@]}"; do echo "failed step: $f"; done
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
