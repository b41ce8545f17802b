#!/usr/bin/env bash
# Starts or stops a private ClickHouse server for the tests: loopback only, its own
# config, data and logs in a temporary directory, small caches (the packaged config
# reserves gigabytes). Runs as a background process; no systemd.
#
#   scripts/clickhouse.sh start   # prints the HTTP URL when the server answers /ping
#   scripts/clickhouse.sh stop
#
# LUMMMEN_CH_PORT (default 18123) is the HTTP port; the native port is +1.
#
# The data directory is in memory (/dev/shm) when there is one, or
# LUMMMEN_CH_DATA. In production ClickHouse has its own machine; here it shares
# one disk with the server's spool, and its part writes would sit in the same
# device flushes as the spool's fdatasync, so every acknowledgement the tests and
# the ingest benchmark time would also time ClickHouse's writes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.tmp/clickhouse"
port=${LUMMMEN_CH_PORT:-18123}
if [ -n "${LUMMMEN_CH_DATA:-}" ]; then
  data=$LUMMMEN_CH_DATA
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
  data=/dev/shm/lummmen-clickhouse-$port
else
  data=$state/data
fi

start() {
  if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    echo "http://127.0.0.1:$port"; return 0
  fi
  if curl -fsS "http://127.0.0.1:$port/ping" >/dev/null 2>&1; then
    # Someone else's server on our port: tests must not write into it, and ours
    # could not bind. Say so instead of silently using it.
    echo "port $port already answers as ClickHouse but is not ours; set LUMMMEN_CH_PORT" >&2
    return 1
  fi
  rm -rf "$state" "$data"; mkdir -p "$data/tmp" "$state/log" "$state/user_files"
  cat > "$state/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$state/log/server.log</log>
        <errorlog>$state/log/error.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$port</http_port>
    <tcp_port>$((port + 1))</tcp_port>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$data/</path>
    <tmp_path>$data/tmp/</tmp_path>
    <user_files_path>$state/user_files/</user_files_path>
    <users_config>/etc/clickhouse-server/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
XML
  # A simple command in the background, so `$!` is the server itself and no shell
  # lingers holding the caller's stdout (which `$(...)` waits on).
  cd "$state"
  nohup clickhouse-server --config-file="$state/config.xml" </dev/null >"$state/log/stdout.log" 2>&1 &
  echo $! > "$state/pid"
  cd "$root"
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/ping" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port"; return 0
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "ClickHouse did not start; its log:" >&2
  tail -n 30 "$state/log/stdout.log" "$state/log/error.log" >&2 2>/dev/null || true
  return 1
}

stop() {
  [ -f "$state/pid" ] || return 0
  local pid; pid=$(cat "$state/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -rf "$state" "$data"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
