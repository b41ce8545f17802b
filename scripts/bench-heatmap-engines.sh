#!/usr/bin/env bash
# The heatmap's ClickHouse queries on the test server (18.16) against a current
# engine (chDB 26.9, from PyPI, in a virtual environment under .tmp), over the
# same million clicks (BENCHMARKS.md, "Heatmaps"). Optional argument: rounds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=$(scripts/chdb-venv.sh)
url=${LUMMMEN_TEST_CLICKHOUSE_URL:-$(scripts/clickhouse.sh start)}
exec "$python" scripts/heatmap_engines.py "$url" "$@"
