"""Benchmark: passage search at 10k, 100k and 1M passages, exact and approximate.

Vectors are 384-d, L2-normalised, drawn around 2,000 topic centres (closer to real passage
embeddings than uniform noise). For each size: exact search (the service's VectorIndex, faiss
flat inner product), IVF (faiss IndexIVFFlat, nprobe 32) and HNSW (faiss IndexHNSWFlat, M 32,
efSearch 64): single-query latency (median, p95, k=10, encoding excluded), recall@10 of the
approximate indexes against exact, build time, and the process's resident memory after each
build. Also: how long an article edit takes to become visible to search (replace its passages in
the 100k index, save, reload as another process would).

    python scripts/bench_index.py [--sizes 10000 100000 1000000] [--queries 300]

``--real banking77 clinc150 it_tickets`` instead measures the service's own index (``VectorIndex``:
exact, and converted to IVF as it does above ``IVF_ABOVE`` passages) on real embeddings: the texts
of those datasets' training files, encoded with the packaged encoder, with ``--queries`` of them
held out as queries; recall@10 of IVF against exact, latency and memory.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def make_vectors(n: int, dim: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        idx = rng.integers(0, len(centres), m)
        block = centres[idx] + rng.normal(0, 0.03, (m, dim)).astype(np.float32)
        out[start:start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def timed_search(search, queries) -> list[float]:
    times = []
    for q in queries:
        t0 = time.perf_counter()
        search(q[None, :])
        times.append((time.perf_counter() - t0) * 1000)
    return times


def summary(times) -> dict:
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(float(np.percentile(times, 95)), 3)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--hnsw-max", type=int, default=200_000, help="skip HNSW above this many vectors")
    parser.add_argument("--real", nargs="+", metavar="DATASET",
                        help="use real embeddings of these datasets' texts instead of synthetic vectors")
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    args = parser.parse_args(argv)
    if args.real:
        return real_embeddings(args, argv)
    import faiss

    from kb.index import VectorIndex

    rng = np.random.default_rng(7)
    centres = rng.normal(0, 1, (2000, args.dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    results = {"command": "python scripts/bench_index.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "faiss_threads": faiss.omp_get_max_threads(), "baseline_rss_mb": rss_mb(), "sizes": []}
    for n in args.sizes:
        data = make_vectors(n, args.dim, rng, centres)
        queries = make_vectors(args.queries, args.dim, rng, centres)
        ids = np.arange(1, n + 1, dtype=np.int64)
        row: dict = {"passages": n}

        t0 = time.perf_counter()
        exact = VectorIndex(args.dim)
        exact.add(ids, data)
        row["exact"] = {"build_s": round(time.perf_counter() - t0, 2), **summary(timed_search(lambda q: exact.search(q, 10), queries)),
                        "rss_mb_after": rss_mb()}
        truth = [set(i for i, _ in hits) for hits in exact.search(queries, 10)]

        nlist = int(4 * np.sqrt(n))
        t0 = time.perf_counter()
        quantizer = faiss.IndexFlatIP(args.dim)
        ivf = faiss.IndexIVFFlat(quantizer, args.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(data[rng.choice(n, min(n, nlist * 40), replace=False)])
        ivf.add_with_ids(data, ids)
        ivf.nprobe = 32
        build = time.perf_counter() - t0
        _, found = ivf.search(queries, 10)
        recall = np.mean([len(truth[i] & set(found[i].tolist())) / 10 for i in range(len(queries))])
        row["ivf"] = {"nlist": nlist, "nprobe": 32, "build_s": round(build, 2), "recall@10": round(float(recall), 4),
                      **summary(timed_search(lambda q: ivf.search(q, 10), queries)), "rss_mb_after": rss_mb()}

        hnsw = None
        if n > args.hnsw_max:
            row["hnsw"] = {"skipped": f"building HNSW over {n} vectors takes too long on 2 cores (--hnsw-max)"}
        else:
            t0 = time.perf_counter()
            hnsw = faiss.IndexHNSWFlat(args.dim, 32, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = 80
            hnsw.add(data)
            hnsw.hnsw.efSearch = 64
            build = time.perf_counter() - t0
            _, found = hnsw.search(queries, 10)
            recall = np.mean([len(truth[i] & set((found[i] + 1).tolist())) / 10 for i in range(len(queries))])
            row["hnsw"] = {"M": 32, "efSearch": 64, "build_s": round(build, 2), "recall@10": round(float(recall), 4),
                           **summary(timed_search(lambda q: hnsw.search(q, 10), queries)), "rss_mb_after": rss_mb()}

        if n == 100_000 or n == args.sizes[0] and 100_000 not in args.sizes:
            # An article edit: replace its 5 passages, save, and reload as another process would.
            path = Path(tempfile.mkdtemp()) / "passages.faiss"
            exact.save(path)
            new = make_vectors(5, args.dim, rng, centres)
            t0 = time.perf_counter()
            exact.remove(ids[:5])
            exact.add(ids[:5], new)
            exact.save(path)
            reloaded = VectorIndex.load(path)
            top = reloaded.search(new[:1], 1)[0][0][0]
            row["edit_visible_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            row["edit_found"] = bool(top == ids[0])
        del exact, ivf, hnsw, data
        results["sizes"].append(row)
        print(json.dumps(row), file=sys.stderr)
    print(json.dumps(results, indent=2))


def real_embeddings(args, argv) -> None:
    """recall@10 and latency of the service's IVF conversion on real ticket embeddings."""
    import csv

    from kb.index import IVF_NPROBE, VectorIndex
    from common.config import load
    from models.encoder import load_encoder

    texts: list[str] = []
    for name in args.real:
        with open(Path(args.datasets) / name / "train.csv", newline="", encoding="utf-8") as fh:
            texts.extend(row["text"] for row in csv.DictReader(fh))
    texts = list(dict.fromkeys(t for t in texts if t.strip()))  # distinct texts
    rng = np.random.default_rng(7)
    order = rng.permutation(len(texts))
    settings = load()
    encoder = load_encoder(settings.encoder, settings.encoder_backend, settings.encoder_cache)
    t0 = time.perf_counter()
    vectors = encoder.encode([texts[i] for i in order])
    encode_s = time.perf_counter() - t0
    queries, data = vectors[:args.queries], vectors[args.queries:]
    ids = np.arange(1, len(data) + 1, dtype=np.int64)
    out = {"command": "python scripts/bench_index.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "datasets": args.real, "passages": len(data), "queries": len(queries), "encode_s": round(encode_s, 1),
           "baseline_rss_mb": rss_mb()}
    exact = VectorIndex(data.shape[1], ivf_above=None)
    exact.add(ids, data)
    out["exact"] = {**summary(timed_search(lambda q: exact.search(q, 10), queries)), "rss_mb_after": rss_mb()}
    truth = [set(i for i, _ in hits) for hits in exact.search(queries, 10)]
    t0 = time.perf_counter()
    ivf = VectorIndex(data.shape[1], ivf_above=0)  # converts on the first add, as the service does past IVF_ABOVE
    ivf.add(ids, data)
    build = time.perf_counter() - t0
    found = [set(i for i, _ in hits) for hits in ivf.search(queries, 10)]
    out["ivf"] = {"kind": ivf.kind, "nprobe": IVF_NPROBE, "build_s": round(build, 2),
                  "recall@10": round(float(np.mean([len(t & f) / 10 for t, f in zip(truth, found)])), 4),
                  "top1_same": round(float(np.mean([
                      a[0][0] == b[0][0] for a, b in zip(exact.search(queries, 1), ivf.search(queries, 1))])), 4),
                  **summary(timed_search(lambda q: ivf.search(q, 10), queries)), "rss_mb_after": rss_mb()}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
