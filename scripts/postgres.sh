#!/usr/bin/env bash
# Starts or stops a private PostgreSQL server for the tests: Debian's package,
# its own data directory, loopback only, trust authentication for the
# `postgres` role, stopped at the end. Runs as the `postgres` system user when
# started as root (PostgreSQL refuses to run as root).
#
#   scripts/postgres.sh start   # prints the URL when the server accepts connections
#   scripts/postgres.sh stop
#
# LUMMMEN_PG_PORT (default 15432) is the port. Tests create a database of
# their own on it for each run. The data directory is in memory (/dev/shm)
# when there is one: the tests' commits need no disk flushes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${LUMMMEN_PG_PORT:-15432}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  state=/dev/shm/lummmen-postgres-$port
else
  state=$root/.tmp/postgres-$port
fi
data=$state/data
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL is not installed (scripts/setup.sh --test installs it)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgres://postgres@127.0.0.1:$port/postgres"; }

start() {
  if [ -f "$data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    url; return 0
  fi
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
    echo "port $port already answers as PostgreSQL but is not ours; set LUMMMEN_PG_PORT" >&2
    return 1
  fi
  rm -rf "$state"; mkdir -p "$state"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$state"
  as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log" >&2; return 1; }
  # fsync off: the data is the tests' and lives in memory anyway.
  as_pg "$bin/pg_ctl" -D "$data" -l "$state/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $state -c fsync=off -c synchronous_commit=off -c max_connections=300 -c shared_buffers=64MB" \
    start >/dev/null || { cat "$state/server.log" >&2; return 1; }
  url
}

stop() {
  if [ -f "$data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
