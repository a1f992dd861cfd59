#!/usr/bin/env bash
# Start a throw-away clickhouse-server on loopback for the native-protocol tests.
#   scripts/clickhouse-server.sh start DIR [TCP_PORT]   (prints the URL to use)
#   scripts/clickhouse-server.sh stop DIR
set -euo pipefail
cmd=${1:?start or stop}
dir=$(realpath -m "${2:?data directory}")
port=${3:-19000}

case "$cmd" in
start)
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas}
  clickhouse-server --config-file=/etc/clickhouse-server/config.xml --pid-file="$dir/pid" --daemon -- \
    --path="$dir/data/" --tmp_path="$dir/tmp/" --user_files_path="$dir/user_files/" \
    --format_schema_path="$dir/format_schemas/" --listen_host=127.0.0.1 \
    --tcp_port="$port" --http_port=$((port + 1)) --interserver_http_port=$((port + 2)) \
    --logger.log="$dir/server.log" --logger.errorlog="$dir/error.log" --logger.console=0 \
    >"$dir/stdout.log" 2>&1
  for _ in $(seq 1 60); do
    if clickhouse-client --host 127.0.0.1 --port "$port" --query "SELECT 1" >/dev/null 2>&1; then
      echo "clickhouse://default@127.0.0.1:$port/default"
      exit 0
    fi
    sleep 0.5
  done
  echo "clickhouse-server did not start; see $dir/error.log" >&2
  tail -n 20 "$dir/error.log" >&2 || true
  exit 1
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    kill "$(cat "$dir/pid")" 2>/dev/null || true
    rm -f "$dir/pid"
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR [TCP_PORT]" >&2
  exit 2
  ;;
esac
