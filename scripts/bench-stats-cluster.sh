#!/usr/bin/env bash
# Dashboard on two shards (BENCHMARKS.md): builds the server and the generator
# in release mode, starts the test ClickHouse and a cluster of two shards on
# loopback (scripts/clickhouse.sh; left running, as other tests share them),
# loads the same events into one server and into the cluster (2 million unless
# told) and times `/api/stats` for 30 days on each, alternating.
# Optional argument: events.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p lummmen-server --bin lummmen-server --example stats_bench
url=${LUMMMEN_TEST_CLICKHOUSE_URL:-$(scripts/clickhouse.sh start)}
shards=${LUMMMEN_TEST_CLICKHOUSE_SHARDS:-$(scripts/clickhouse.sh start-cluster)}
target=${CARGO_TARGET_DIR:-target}
LUMMMEN_BENCH_CLUSTER=${LUMMMEN_TEST_CLICKHOUSE_CLUSTER:-lummmen} \
  exec "$target/release/examples/stats_bench" cluster "$url" "$shards" "$@"
