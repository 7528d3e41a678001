# Shared by the load scripts (overload.sh, search_load.sh): the release binary and the
# model (DROPLY_BIN, CARGO_TARGET_DIR, DROPLY_MODEL_DIR), the output folder, and
# starting and stopping a `droply serve --demo` on 127.0.0.1 and reading its memory.
# Source it after setting scripts, port, out, data and demo_experts.

target="${CARGO_TARGET_DIR:-$scripts/../../target}"
bin="${DROPLY_BIN:-$target/release/droply}"
base="http://127.0.0.1:$port"
model_dir="${DROPLY_MODEL_DIR:-}"
[ -x "$bin" ] || { echo "no release build at $bin (set DROPLY_BIN)" >&2; exit 1; }
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"

pid=""

stop_server() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        timeout 60 tail --pid="$pid" -f /dev/null || kill -KILL "$pid"
    fi
    pid=""
}
trap stop_server EXIT

# start_server NAME [FLAGS...]: serves the data dir, waits (at most 15 min) for /ready.
start_server() {
    local name="$1"
    shift
    RUST_LOG="${RUST_LOG:-warn}" "$bin" serve --demo --demo-experts "$demo_experts" \
        --data-dir "$data" --addr "127.0.0.1:$port" \
        ${model_dir:+--model-dir "$model_dir"} "$@" > "$out/server-$name.log" 2>&1 &
    pid=$!
    local waited=0
    until curl -fs "$base/ready" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || { echo "the server exited; see $out/server-$name.log" >&2; exit 1; }
        [ "$waited" -lt 900 ] || { echo "not ready after 15 minutes" >&2; exit 1; }
        sleep 2
        waited=$((waited + 2))
    done
    echo "server $name ready (pid $pid) after ~${waited}s; RSS $(grep VmRSS /proc/$pid/status)"
}

# The server's user and system CPU time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

rss() { grep VmRSS "/proc/$pid/status" | awk '{printf "%.1f MiB", $2 / 1024}'; }

machine() {
    echo "machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'); avx512f: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no); $(nproc) CPUs"
}
