#!/usr/bin/env bash
# Ingest benchmark (BENCHMARKS.md, "Ingest (server)"): builds the server and the
# load generator in release mode, starts the test ClickHouse on loopback
# (scripts/clickhouse.sh; left running, as other tests share it), and posts
# realistic 50-event batches to the server binary backed by ClickHouse, then by
# SQLite, next to a direct insert of the same rows into the same ClickHouse.
# Optional argument: the number of batches (default 6000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p lummmen-server --bin lummmen-server --example ingest_bench
url=${LUMMMEN_TEST_CLICKHOUSE_URL:-$(scripts/clickhouse.sh start)}
target=${CARGO_TARGET_DIR:-target}
exec "$target/release/examples/ingest_bench" "$url" "$@"
