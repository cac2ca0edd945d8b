#!/usr/bin/env bash
# Side-by-side HTTP/1.1 keep-alive comparison on loopback, in one run:
#   direct:  wrk -> backend
#   hawser:  wrk -> hawser (1 shard) -> backend
#   nginx:   wrk -> nginx (worker_processes 1, upstream keepalive) -> backend
# The backend is an nginx `return 200` (1 worker). Each proxy is pinned to
# PROXY_CPU; wrk and the backend share the other CPU(s). Reports wrk's
# requests/s (closed loop, max rate) and latency percentiles at a fixed
# paced rate (wrk + a Lua delay, RATE req/s over CONNS connections).
#
# This is a stop-gap until the open-loop `hawser-bench` harness exists
# (see TODO.md): wrk's paced mode still suffers coordinated omission.
#
# Usage: benches/wrk-vs-nginx.sh [DURATION_S] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
RATE=${2:-5000}
CONNS=${CONNS:-50}
PROXY_CPU=${PROXY_CPU:-0}
OTHER_CPUS=${OTHER_CPUS:-1}
HAWSER=${HAWSER:-target/release/hawser}
[ -x "$HAWSER" ] || cargo build --release
for t in nginx wrk; do command -v $t >/dev/null || { echo "missing $t (apt-get install nginx-light wrk)"; exit 1; }; done

W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
BACK=18081; NGX=18082; HAW=18083; ADM=18084

mkdir -p "$W/back" "$W/front"
cat > "$W/back/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $W/back/pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACK reuseport; location / { return 200 "hello from the backend\n"; } } }
NGX
cat > "$W/front/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $W/front/pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream be { server 127.0.0.1:$BACK; keepalive 64; }
  server { listen 127.0.0.1:$NGX reuseport;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
NGX
cat > "$W/hawser.yaml" <<YML
admin: {ip: 127.0.0.1, port: $ADM}
routers:
- protocol: http
  dtab: /svc => /\$/inet/127.0.0.1/$BACK;
  servers: [{ip: 127.0.0.1, port: $HAW}]
runtime: {cores: 1}
YML
cat > "$W/pace.lua" <<LUA
-- each connection waits so the total is about RATE req/s
local per_conn_ms = 1000 * $CONNS / $RATE
function delay() return per_conn_ms end
LUA

taskset -c "$OTHER_CPUS" nginx -p "$W/back" -c "$W/back/nginx.conf" &
taskset -c "$PROXY_CPU" nginx -p "$W/front" -c "$W/front/nginx.conf" &
taskset -c "$PROXY_CPU" "$HAWSER" run "$W/hawser.yaml" --log-level error &
for i in $(seq 100); do curl -sf -o /dev/null -H 'Host: x' "http://127.0.0.1:$HAW/" && \
  curl -sf -o /dev/null "http://127.0.0.1:$NGX/" && break; sleep 0.1; done

run() { # name port mode
  local args=(-t1 -c"$CONNS" -d"${DUR}s" --latency -H 'Host: web')
  [ "$3" = paced ] && args+=(-s "$W/pace.lua")
  taskset -c "$OTHER_CPUS" wrk "${args[@]}" "http://127.0.0.1:$2/" > "$W/$1.$3.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$W/$1.$3.txt")
  p50=$(awk '$1=="50%" {print $2}' "$W/$1.$3.txt")
  p99=$(awk '$1=="99%" {print $2}' "$W/$1.$3.txt")
  printf '| %-7s | %-6s | %10s | %8s | %8s |\n' "$1" "$3" "$rps" "$p50" "$p99"
}
echo "date: $(date -u +%F) duration ${DUR}s, $CONNS connections, paced rate $RATE req/s, proxy on CPU $PROXY_CPU"
echo "| system  | mode   |  req/s     |  p50     |  p99     |"
echo "|---------|--------|------------|----------|----------|"
for mode in max paced; do
  run direct $BACK $mode
  run hawser $HAW $mode
  run nginx $NGX $mode
done
