#!/usr/bin/env bash
# Makes (once) a virtual environment under .tmp/venv-chdb with chDB, a current
# ClickHouse engine as a Python library (PyPI's chdb-core, pinned), and prints
# its Python. Fails, saying why, when chDB cannot be installed (no network):
# what needs it must not pass without it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.tmp/venv-chdb"
version=26.9.0
if "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('chdb-core') != '$version')" \
  2>/dev/null; then
  echo "$venv/bin/python"; exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv" >&2 || { echo "chdb-venv: python3 -m venv failed (install python3-venv)" >&2; exit 1; }
if ! timeout 600 "$venv/bin/pip" install -q --no-cache-dir --disable-pip-version-check "chdb-core==$version" >&2; then
  echo "chdb-venv: could not install chdb-core==$version from PyPI (no network?)" >&2
  exit 1
fi
"$venv/bin/python" -c "import chdb" >&2 || { echo "chdb-venv: chdb-core installed but does not import" >&2; exit 1; }
echo "$venv/bin/python"
