#!/usr/bin/env bash
# The heatmap's ClickHouse queries on the test server (18.16) against a current
# engine (chDB 26.9, from PyPI, in a virtual environment under .tmp), over the
# same million clicks (BENCHMARKS.md, "Heatmaps"). Optional argument: rounds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.tmp/venv-chdb
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import chdb" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "chdb-core==26.9.0"
fi
url=${LUMMMEN_TEST_CLICKHOUSE_URL:-$(scripts/clickhouse.sh start)}
exec "$venv/bin/python" scripts/heatmap_engines.py "$url" "$@"
