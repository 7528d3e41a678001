#!/usr/bin/env bash
# Droply's vector index (hnsw_rs) against hnswlib, side by side in one run, on the same
# machine and the same clustered 384-d unit vectors, with the same parameters (M=16,
# ef_construction=200; build on every core, search one query at a time on one thread).
#
#   bash benches/compare_hnsw.sh [POINTS]      # default 100000
#
# Prints both JSON lines, then hnswlib's advantage per measure (ours / theirs for build
# time, theirs / ours for q/s). hnswlib lives in a virtual environment outside the
# repository ($BENCH_VENV, default /var/cache/droply/bench-venv): never a dependency.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/droply/target}"
venv="${BENCH_VENV:-/var/cache/droply/bench-venv}"
points="${1:-100000}"
file="$(mktemp -t droply-vectors.XXXXXX)"
trap 'rm -f "$file"' EXIT

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import hnswlib, numpy" 2>/dev/null; then
    "$venv/bin/pip" install --quiet hnswlib numpy
fi

cargo build --quiet --release -p droply-benches --example hnsw_compare
ours=$(RUST_LOG=warn "$CARGO_TARGET_DIR/release/examples/hnsw_compare" "$points" "$file")
theirs=$("$venv/bin/python" benches/python/hnswlib_compare.py "$file")
echo "$ours"
echo "$theirs"
"$venv/bin/python" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"build: ours {ours['build_s']:.1f} s, hnswlib {theirs['build_s']:.1f} s, ratio {ours['build_s'] / theirs['build_s']:.2f}x")
for a, b in zip(ours["search"], theirs["search"]):
    print(f"ef {a['ef']:>3}: ours {a['qps']:>6} q/s (recall {a['recall@10']:.3f}), "
          f"hnswlib {b['qps']:>6} q/s (recall {b['recall@10']:.3f}), hnswlib {b['qps'] / a['qps']:.2f}x")
PY
