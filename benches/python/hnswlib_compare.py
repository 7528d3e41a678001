"""hnswlib on the vectors `hnsw_compare` wrote: the same parameters (M=16,
ef_construction=200, inner product on unit vectors), built on every core, searched one
query at a time on one thread, recall@10 against an exact scan. Prints one JSON line.

    python hnswlib_compare.py FILE
"""

import json
import sys
import time

import hnswlib
import numpy as np

EFS = [16, 32, 64, 96, 128, 192]


def load(path):
    with open(path, "rb") as f:
        n, q, dim = np.frombuffer(f.read(12), dtype="<u4")
        data = np.frombuffer(f.read(), dtype="<f4").reshape(n + q, dim)
    return data[:n], data[n:]


def main():
    points, queries = load(sys.argv[1])
    truth = np.argsort(-(queries @ points.T), axis=1)[:, :10]
    index = hnswlib.Index(space="ip", dim=points.shape[1])
    index.init_index(max_elements=len(points), M=16, ef_construction=200, random_seed=1)
    started = time.perf_counter()
    index.add_items(points, np.arange(len(points)))
    build_s = time.perf_counter() - started
    index.set_num_threads(1)
    search = []
    for ef in EFS:
        index.set_ef(ef)
        found = 0
        rounds = 5
        started = time.perf_counter()
        for r in range(rounds):
            for i, query in enumerate(queries):
                labels, _ = index.knn_query(query, k=10)
                if r == 0:
                    found += len(set(labels[0]) & set(truth[i]))
        qps = rounds * len(queries) / (time.perf_counter() - started)
        search.append({"ef": ef, "qps": round(qps), "recall@10": round(found / (10 * len(queries)), 4)})
    print(json.dumps({"engine": "hnswlib", "points": len(points), "build_s": round(build_s, 2), "search": search}))


if __name__ == "__main__":
    main()
