#!/usr/bin/env bash
# Dashboard benchmark (BENCHMARKS.md, "Dashboard"): builds the server and the
# generator in release mode, starts the test ClickHouse on loopback
# (scripts/clickhouse.sh; left running, as other tests share it), loads 60 days
# of a shop's events (10 million into ClickHouse, 1 million into SQLite) and
# times `/api/stats` for 30 days on the server binary; and, in the same run, the
# direct insert rate with and without the dashboard's rows.
# Optional arguments: ClickHouse events, SQLite events.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p lummmen-server --bin lummmen-server --example stats_bench
url=${LUMMMEN_TEST_CLICKHOUSE_URL:-$(scripts/clickhouse.sh start)}
target=${CARGO_TARGET_DIR:-target}
exec "$target/release/examples/stats_bench" "$url" "$@"
