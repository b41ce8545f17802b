#!/usr/bin/env bash
# Installs what the build needs and, with --test, what the tests need. Idempotent:
# everything already satisfied is skipped, so a second run takes seconds.
#
# Build: the wasm32 target, the wasm-bindgen CLI at exactly the crate's version (from
# Cargo.lock), and the npm tools (Shopify CLI and Theme Check, the web pixel API,
# binaryen's wasm-opt, esbuild) and uPlot (the admin page's charts, which the server
# serves from node_modules) from package-lock.json. Debian's binaryen is never
# used: its wasm-opt 108 silently breaks wasm-bindgen's output.
# Tests: Debian's Chromium and chromedriver, ClickHouse server and PostgreSQL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
want_test=0
[ "${1:-}" = "--test" ] && want_test=1
log() { echo "setup: $*"; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  # Another install may hold the dpkg lock (a machine's own start-up updates):
  # wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if ! command -v curl >/dev/null || ! command -v npm >/dev/null; then
  apt_install curl ca-certificates nodejs npm
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (a few minutes)"
  # Not --locked: the CLI's own lockfile wants a crate version the registry lacks.
  cargo install -q wasm-bindgen-cli --version "$wb_version"
fi

stamp=node_modules/.lummmen-lock
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  log "installing npm tools (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

if [ $want_test -eq 1 ]; then
  # ZooKeeper: for the replicated ClickHouse tables' test, which starts its own.
  apt_install chromium chromium-driver clickhouse-server postgresql zookeeper
  # A virtual environment for chDB (scripts/chdb-venv.sh).
  python3 -c "import venv, ensurepip" 2>/dev/null || apt_install python3 python3-venv
fi
log "ready"
