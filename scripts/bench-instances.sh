#!/usr/bin/env bash
# Several-instances benchmark (BENCHMARKS.md, "Several instances"): builds the
# server and the load generator in release mode, starts the test ClickHouse and
# PostgreSQL on loopback (left running, as other tests share them), and posts the
# same batches through one instance, then through two sharing both databases.
# Optional arguments: batches (default 4000) and rounds of each (default 3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p lummmen-server --bin lummmen-server --example instances_bench
ch=${LUMMMEN_TEST_CLICKHOUSE_URL:-$(scripts/clickhouse.sh start)}
pg=${LUMMMEN_TEST_POSTGRES_URL:-$(scripts/postgres.sh start)}
target=${CARGO_TARGET_DIR:-target}
exec "$target/release/examples/instances_bench" "$ch" "$pg" "$@"
