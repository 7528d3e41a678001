#!/usr/bin/env bash
# The overload measurements of README's performance table ("Overload"), on a release
# build of `droply serve --demo --demo-experts 2000` over a fresh data directory, on
# 127.0.0.1 only. Needs `hey` (apt-get install hey) and python3.
#
#   cargo build --release -p droply-server
#   bash benches/scripts/overload.sh            # DURATION=60 PORT=18080 OUT=/tmp/droply-overload
#
# DATA=DIR reuses a data directory (kept afterwards) instead of a fresh one.
#
# 1. A server with every rate limit off (--auth-rate 0 --search-rate 0 --write-rate 0
#    --account-write-rate 0; the other limits at their defaults), then `hey` with 100
#    connections for DURATION seconds each on GET /health, GET /v1/experts/{id}/slots
#    (a week, in Berlin time) and POST /v1/search (one fixed query); then slowloris.py
#    (connections that never finish their headers, while /health is polled and the
#    server's RSS sampled): 3,000 for DURATION seconds, replaced every second as the
#    classic tool does; 1,500 (under the cap) never replaced, to see the header timeout
#    alone; 3,000 replaced at once for 30 s (a connection flood).
# 2. The same data directory served with the default limits, and login_flood.py: 500
#    parallel sign-ins with random emails from one address, then from 500 addresses.
#
# Every step is bounded in time; the server is stopped (SIGTERM) at the end of each
# part. Results (hey's summaries, the scripts' JSON, the server logs) go to $OUT.
set -euo pipefail

scripts="$(cd "$(dirname "$0")" && pwd)"
port="${PORT:-18080}"
duration="${DURATION:-60}"
out="${OUT:-/tmp/droply-overload}"
data="${DATA:-$(mktemp -d /tmp/droply-overload-data.XXXXXX)}"

command -v hey >/dev/null || { echo "hey is not installed" >&2; exit 1; }

demo_experts=2000
# shellcheck source=server.sh
source "$scripts/server.sh"

machine

# Part 1: throughput under load with the rate limits off, then slowloris.
start_server open --auth-rate 0 --search-rate 0 --write-rate 0 --account-write-rate 0
expert=$(curl -fs "$base/v1/experts?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["experts"][0]["id"])')
from=$(date -u +%F)
to=$(date -u -d '+6 days' +%F)
slots="$base/v1/experts/$expert/slots?from=$from&to=$to&tz=Europe/Berlin&duration=60"
query='{"q": "someone to help with my taxes in Berlin", "limit": 10}'
curl -fs -X POST "$base/v1/search" -H 'content-type: application/json' -d "$query" >/dev/null

for run in health slots search; do
    case "$run" in
        health) args=("$base/health") ;;
        slots) args=("$slots") ;;
        search) args=(-m POST -T application/json -d "$query" "$base/v1/search") ;;
    esac
    echo "hey: $run, 100 connections, ${duration}s"
    hey -z "${duration}s" -c 100 "${args[@]}" > "$out/hey-$run.txt"
    grep -E 'Requests/sec|Total:|  50% in|  99% in|\[[0-9]{3}\][[:space:]]+[0-9]+ responses' "$out/hey-$run.txt" | sed 's/^/    /'
    echo "    server RSS after: $(rss)"
done

echo "slowloris: 3000 connections (over the cap of 2048), reopened every second, ${duration}s"
python3 "$scripts/slowloris.py" --port "$port" --pid "$pid" --connections 3000 \
    --duration "$duration" --header-timeout 10 | tee "$out/slowloris.json"
echo "slowloris: 1500 connections (under the cap), never reopened, 15s"
python3 "$scripts/slowloris.py" --port "$port" --pid "$pid" --connections 1500 \
    --reopen never --duration 15 --header-timeout 10 | tee "$out/slowloris-under-cap.json"
echo "slowloris: 3000 connections, each reopened at once (a connection flood), 30s"
python3 "$scripts/slowloris.py" --port "$port" --pid "$pid" --connections 3000 \
    --reopen now --duration 30 --header-timeout 10 | tee "$out/slowloris-reopen-now.json"
curl -fs "$base/metrics" | grep -E '^droply_connections' | sed 's/^/    /'
stop_server

# Part 2: sign-in floods under the default limits.
start_server defaults
echo "login flood: 500 sign-ins from one address"
python3 "$scripts/login_flood.py" --port "$port" --pid "$pid" --logins 500 --sources 1 \
    --first-address 127.0.0.50 | tee "$out/login-flood-one-address.json"
echo "login flood: 500 sign-ins from 500 addresses"
python3 "$scripts/login_flood.py" --port "$port" --pid "$pid" --logins 500 --sources 500 \
    | tee "$out/login-flood-500-addresses.json"
stop_server
[ -n "${DATA:-}" ] || rm -rf "$data"
echo "results in $out"
