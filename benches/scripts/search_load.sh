#!/usr/bin/env bash
# Search throughput under concurrency (README's performance table, "Search under load"):
# a release build of `droply serve --demo` (DEMO_EXPERTS experts, default 10,000) on
# 127.0.0.1 with the rate limits off, and `wrk` with CONNECTIONS connections (default
# 50) for DURATION seconds (default 60) per run on POST /v1/search, every request the
# next of the demo's 200 evaluation queries. Needs wrk (apt-get install wrk) and python3.
#
#   cargo build --release -p droply-server
#   DROPLY_MODEL_DIR=/path/to/all-MiniLM-L6-v2 bash benches/scripts/search_load.sh
#
# Runs, each after a warm-up pass over the queries that is not measured:
#   cached         the queries as they are: their embeddings come from the query cache;
#   cached-facets  the same, asking for every facet's counts;
#   fresh          every request's words are new (the query and a number), so every
#                  request is embedded by the model.
# RUNS="cached fresh" picks some. wrk's summaries, the queries and the server log go to
# $OUT; DATA=DIR reuses (and keeps) a data directory. Every run is bounded in time.
set -euo pipefail

scripts="$(cd "$(dirname "$0")" && pwd)"
port="${PORT:-18081}"
duration="${DURATION:-60}"
connections="${CONNECTIONS:-50}"
out="${OUT:-/tmp/droply-search-load}"
data="${DATA:-$(mktemp -d /tmp/droply-search-load-data.XXXXXX)}"
demo_experts="${DEMO_EXPERTS:-10000}"
runs="${RUNS:-cached cached-facets fresh}"

command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
[ "$duration" -le 600 ] || { echo "DURATION is at most 600 seconds" >&2; exit 1; }

# shellcheck source=server.sh
source "$scripts/server.sh"
machine

# The demo's evaluation queries (the generator is deterministic: the same marketplace
# as the server's), one JSON-escaped query per line.
"$bin" demo --experts "$demo_experts" --out "$out/demo.jsonl" --truth "$out/truth.json" >/dev/null
python3 - "$out/truth.json" "$out/queries.txt" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for query in truth["queries"]:
        f.write(json.dumps(query["text"])[1:-1] + "\n")
PY
rm -f "$out/demo.jsonl"
echo "$(wc -l < "$out/queries.txt") queries"

start_server load --auth-rate 0 --search-rate 0 --write-rate 0 --account-write-rate 0

for run in $runs; do
    case "$run" in
        cached) mode=cached facets=0 ;;
        cached-facets) mode=cached facets=1 ;;
        fresh) mode=fresh facets=0 ;;
        *) echo "unknown run $run" >&2; exit 1 ;;
    esac
    # Warm-up: every query once (its embedding cached, the indexes' pages in memory).
    QUERIES="$out/queries.txt" MODE=$mode FACETS=$facets SALT=1 \
        wrk -t1 -c1 -d10s -s "$scripts/search_load.lua" "$base" > /dev/null
    echo "wrk: $run, $connections connections, ${duration}s"
    cpu_before=$(cpu_ticks)
    QUERIES="$out/queries.txt" MODE=$mode FACETS=$facets SALT=2 \
        wrk -t2 -c "$connections" -d "${duration}s" --timeout 10s --latency \
        -s "$scripts/search_load.lua" "$base" > "$out/wrk-$run.txt"
    cpu_after=$(cpu_ticks)
    grep -E 'Requests/sec|Latency |  50%|  99%|requests in|Non-2xx|Socket errors' "$out/wrk-$run.txt" | sed 's/^/    /'
    requests=$(grep -oE '^ +[0-9]+ requests in' "$out/wrk-$run.txt" | awk '{print $1}')
    # Less noisy than requests/s on a shared machine: what one request cost the server.
    echo "    server CPU per request: $(( (cpu_after - cpu_before) * 1000000 / $(getconf CLK_TCK) / requests )) us"
    echo "    server RSS after: $(rss)"
done
stop_server
[ -n "${DATA:-}" ] || rm -rf "$data"
echo "results in $out"
