#!/usr/bin/env bash
# Starts or stops private ClickHouse servers for the tests: loopback only, their
# own config, data and logs in a temporary directory, small caches (the packaged
# config reserves gigabytes). Run as background processes; no systemd.
#
#   scripts/clickhouse.sh start           # one server; prints its HTTP URL when it answers /ping
#   scripts/clickhouse.sh start-cluster   # LUMMMEN_CH_SHARDS servers (default 2), the shards of
#                                         # one cluster; prints their URLs, comma-separated
#   scripts/clickhouse.sh stop            # stops both
#
# LUMMMEN_CH_PORT (default 18123) is the single server's HTTP port; the native
# port is +1. The cluster's shard i (from 0) listens on LUMMMEN_CH_CLUSTER_PORT
# (default 18223) + 100 * i, native port +1. Every shard's config names all of
# them in `remote_servers` as the cluster LUMMMEN_CH_CLUSTER (default
# `lummmen`), one replica per shard, so each can serve the cluster's
# `Distributed` tables (README, "ClickHouse cluster"). No ZooKeeper: no
# replication, no `ON CLUSTER` DDL.
#
# The data directories are in memory (/dev/shm) when there is one, or
# LUMMMEN_CH_DATA (the shards' next to it, as LUMMMEN_CH_DATA-shard-<port>).
# In production ClickHouse has its own machine; here it shares
# one disk with the server's spool, and its part writes would sit in the same
# device flushes as the spool's fdatasync, so every acknowledgement the tests and
# the ingest benchmark time would also time ClickHouse's writes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.tmp/clickhouse"
cluster_state="$root/.tmp/clickhouse-cluster"
port=${LUMMMEN_CH_PORT:-18123}
cluster_port=${LUMMMEN_CH_CLUSTER_PORT:-18223}
shards=${LUMMMEN_CH_SHARDS:-2}
cluster=${LUMMMEN_CH_CLUSTER:-lummmen}

# The data directory of the server on HTTP port $1 (state directory $2; $3
# is set for a shard, whose directory must not be the single server's).
data_dir() {
  if [ -n "${LUMMMEN_CH_DATA:-}" ]; then
    echo "$LUMMMEN_CH_DATA${3:+-shard-$1}"
  elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
    echo "/dev/shm/lummmen-clickhouse-$1"
  else
    echo "$2/data"
  fi
}

# The `remote_servers` section naming the cluster's shards.
remote_servers() {
  echo "    <remote_servers><$cluster>"
  for i in $(seq 0 $((shards - 1))); do
    echo "        <shard><replica><host>127.0.0.1</host><port>$((cluster_port + 100 * i + 1))</port></replica></shard>"
  done
  echo "    </$cluster></remote_servers>"
}

# Starts one server: state directory $1, HTTP port $2, extra config $3 (a
# shard's `remote_servers`). The data directory is recorded in the state
# directory, for `stop`.
launch() {
  local dir=$1 http=$2 extra=$3 data
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "http://127.0.0.1:$http"; return 0
  fi
  if curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
    # Someone else's server on our port: tests must not write into it, and ours
    # could not bind. Say so instead of silently using it.
    echo "port $http already answers as ClickHouse but is not ours; set LUMMMEN_CH_PORT / LUMMMEN_CH_CLUSTER_PORT" >&2
    return 1
  fi
  data=$(data_dir "$http" "$dir" "$extra")
  rm -rf "$dir" "$data"; mkdir -p "$data/tmp" "$dir/log" "$dir/user_files"
  echo "$data" > "$dir/data"
  cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/log/server.log</log>
        <errorlog>$dir/log/error.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>
    <tcp_port>$((http + 1))</tcp_port>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$data/</path>
    <tmp_path>$data/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <users_config>/etc/clickhouse-server/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
$extra
</yandex>
XML
  # A simple command in the background, so `$!` is the server itself and no shell
  # lingers holding the caller's stdout (which `$(...)` waits on).
  cd "$dir"
  nohup clickhouse-server --config-file="$dir/config.xml" </dev/null >"$dir/log/stdout.log" 2>&1 &
  echo $! > "$dir/pid"
  cd "$root"
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$http"; return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "ClickHouse on port $http did not start; its log:" >&2
  tail -n 30 "$dir/log/stdout.log" "$dir/log/error.log" >&2 2>/dev/null || true
  return 1
}

# Stops the server whose state directory is $1 and removes its data.
halt() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  if [ -f "$dir/data" ]; then rm -rf "$(cat "$dir/data")"; fi
  rm -rf "$dir"
}

start() {
  launch "$state" "$port" ""
}

start_cluster() {
  case $shards in ''|*[!0-9]*|0) echo "LUMMMEN_CH_SHARDS must be a positive number" >&2; return 1 ;; esac
  local extra urls=() i
  extra=$(remote_servers)
  for i in $(seq 0 $((shards - 1))); do
    urls+=("$(launch "$cluster_state/shard-$i" $((cluster_port + 100 * i)) "$extra")") || {
      stop_cluster; return 1; }
  done
  (IFS=,; echo "${urls[*]}")
}

stop_cluster() {
  [ -d "$cluster_state" ] || return 0
  local dir
  for dir in "$cluster_state"/shard-*; do [ -d "$dir" ] && halt "$dir"; done
  rm -rf "$cluster_state"
}

case "${1:-}" in
  start) start ;;
  start-cluster) start_cluster ;;
  stop) halt "$state"; stop_cluster ;;
  *) echo "usage: $0 start|start-cluster|stop" >&2; exit 2 ;;
esac
