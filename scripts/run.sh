#!/usr/bin/env bash
# The main job: set up what is missing, build both wasm bundles in release mode,
# and start the backend on 127.0.0.1 with the embedded SQLite store. It serves the
# demo storefront (with the tracker) at /demo/ and the admin page at /admin/.
# Extra arguments go to the server (see `lummmen-server --help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
cargo xtask build
cargo build --release -q -p lummmen-server
listen=${LUMMMEN_LISTEN:-127.0.0.1:8080}
echo "Lummmen on http://$listen/ : demo storefront http://$listen/demo/ , admin http://$listen/admin/"
# --seed-demo: the demo storefront posts with site id 1; create that project
# ("Demo shop", sample 100) in a fresh data directory.
# --dev-session-tokens: the admin page, opened outside the Shopify admin, gets
# session tokens for the demo shop (linked to the demo project) from the server,
# signed with a development client secret made up for this run. Local use only.
export LUMMMEN_SHOPIFY_CLIENT_ID=${LUMMMEN_SHOPIFY_CLIENT_ID:-lummmen-development}
export LUMMMEN_SHOPIFY_CLIENT_SECRET=${LUMMMEN_SHOPIFY_CLIENT_SECRET:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
exec target/release/lummmen-server --listen "$listen" --seed-demo --dev-session-tokens "$@"
