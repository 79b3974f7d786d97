"""Benchmark: the reference sentence-transformers encoder against the ONNX Runtime backend.

In one process, for the reference backend, the fp32 ONNX export and (unless --no-int8) a dynamic
int8 quantisation of it (per-channel weight scales), measures single short ticket latency (median and p95 over
--latency-samples calls after a warm-up, each call a different ticket) and batch throughput
(texts/s) on --texts short tickets at batch sizes 32 and 128, plus ratios against the reference
and the cosine between each backend's vectors and the reference's (the quality cost). Tickets come
from Banking77 (``<datasets>/banking77/train.csv``, column ``text``) or, when that file is absent,
from generated sentences. Backends are measured in alternating rounds so that load from other
processes spreads over all of them; the load average before and after is printed to judge noise.

    python scripts/bench_encoder.py [--datasets ../shared/datasets] [--texts 2000] [--threads N]
                                    [--torch-threads N] [--cache-dir DIR] [--no-int8]

On a shared machine, fewer threads than cores can be much faster for both backends (a busy core
stalls every parallel region of the others): compare runs with --threads 1 --torch-threads 1.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPEC = "packaged:all-MiniLM-L6-v2"
BATCH_SIZES = (32, 128)


def load_texts(datasets: Path, n: int) -> tuple[list[str], str]:
    """``n`` short ticket texts from Banking77, or generated ones when it is absent."""
    path = datasets / "banking77" / "train.csv"
    rng = random.Random(7)
    if path.exists():
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r["text"] for r in csv.DictReader(fh) if r.get("text")]
        rng.shuffle(rows)
        return rows[:n], str(path)
    subjects = ["my card", "the VPN", "my password", "the printer", "a transfer", "my laptop", "the invoice"]
    problems = ["is not working", "was declined", "keeps failing since yesterday", "has not arrived",
                "shows an error", "was charged twice", "needs to be reset"]
    tails = ["", " please help", ", what should I do?", " urgently", " after the update"]
    texts = [f"{rng.choice(subjects).capitalize()} {rng.choice(problems)}{rng.choice(tails)}" for _ in range(n)]
    return texts, "generated"


def latency_ms(encoder, texts: list[str], calls: int, offset: int = 0) -> list[float]:
    """Milliseconds per single-text encode call, cycling through ``texts`` from ``offset``."""
    out = []
    for i in range(offset, offset + calls):
        text = [texts[i % len(texts)]]
        start = time.perf_counter()
        encoder.encode(text)
        out.append((time.perf_counter() - start) * 1000)
    return out


def throughput(encoder, texts: list[str], batch_size: int) -> tuple[float, np.ndarray]:
    """(texts per second, vectors) for encoding all of ``texts`` at ``batch_size``."""
    start = time.perf_counter()
    vecs = encoder.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - start), vecs


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a * b).sum(1) / np.clip(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12, None)


def markdown(result: dict) -> str:
    head = ("| backend | latency median ms | p95 ms | bs32 texts/s | bs128 texts/s | latency speedup "
            "| bs32 ratio | bs128 ratio | min cos | mean cos |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in result["backends"].items():
        q = r.get("quality_vs_reference", {})
        lines.append(
            f"| {name} | {r['latency_ms']['median']:.2f} | {r['latency_ms']['p95']:.2f} "
            f"| {r['throughput_texts_per_s']['32']:.0f} | {r['throughput_texts_per_s']['128']:.0f} "
            f"| {r['vs_reference']['latency_speedup']:.2f}x | {r['vs_reference']['throughput_ratio']['32']:.2f}x "
            f"| {r['vs_reference']['throughput_ratio']['128']:.2f}x "
            f"| {q.get('min_cos', 1.0):.6f} | {q.get('mean_cos', 1.0):.6f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(REPO / ".." / "shared" / "datasets"))
    parser.add_argument("--texts", type=int, default=2000, help="texts for the throughput runs")
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20, help="single-text calls per backend before timing")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds the latency samples are split into")
    parser.add_argument("--repeats", type=int, default=1, help="throughput runs per backend and batch size (median)")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads (default: all cores)")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch intra-op threads for the reference (default: torch's own choice)")
    parser.add_argument("--cache-dir", default=None, help="where the ONNX export is kept (default: a temp dir)")
    parser.add_argument("--no-int8", action="store_true", help="skip the dynamic int8 quantisation")
    args = parser.parse_args(argv)
    if args.cache_dir:
        run(args, Path(args.cache_dir))
    else:
        # A fresh export each run (~15 s) unless --cache-dir keeps one; removed again afterwards.
        with tempfile.TemporaryDirectory(prefix="kbt-onnx-bench-") as tmp:
            run(args, Path(tmp))


def run(args: argparse.Namespace, cache_dir: Path) -> None:
    """Measure every backend and print the JSON result, the Markdown table and the command."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import onnxruntime
    import torch

    from models.encoder import SentenceTransformerEncoder
    from models.onnx_encoder import OnnxEncoder

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    texts, source = load_texts(Path(args.datasets), args.texts)
    load_before = os.getloadavg()

    timings: dict[str, float] = {}
    start = time.perf_counter()
    encoders = {"reference (sentence-transformers)": SentenceTransformerEncoder(SPEC)}
    timings["reference_load_s"] = time.perf_counter() - start
    start = time.perf_counter()
    encoders["onnx fp32"] = OnnxEncoder(SPEC, cache_dir, threads=args.threads)
    timings["onnx_export_and_load_s"] = time.perf_counter() - start
    int8_error = None
    if not args.no_int8:
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            start = time.perf_counter()
            fp32 = encoders["onnx fp32"].model_file
            int8 = fp32.with_name("model.int8-per-channel.onnx")
            if not int8.exists():
                tmp = int8.with_name(".model.int8-per-channel.onnx.tmp")
                # Per-channel weight scales: per-tensor int8 cost far more quality on this model
                # (min cosine 0.889 vs 0.982 against the reference on Banking77) for no extra speed.
                quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
                os.replace(tmp, int8)
            encoders["onnx int8 (dynamic, per-channel)"] = OnnxEncoder(SPEC, cache_dir, threads=args.threads, model_file=int8)
            timings["int8_quantise_and_load_s"] = time.perf_counter() - start
        except Exception as exc:  # the fp32 numbers are still worth printing
            int8_error = f"{type(exc).__name__}: {exc}"

    short = sorted(texts, key=len)[: max(1, len(texts) // 2)]  # the shorter half: single short tickets
    random.Random(11).shuffle(short)
    for enc in encoders.values():
        latency_ms(enc, short, args.warmup)
        enc.encode(texts[:256], batch_size=128)

    lat: dict[str, list[float]] = {name: [] for name in encoders}
    per_round = max(1, args.latency_samples // args.rounds)
    for r in range(args.rounds):
        for name, enc in encoders.items():
            lat[name] += latency_ms(enc, short, per_round, offset=r * per_round)

    tput: dict[str, dict[str, list[float]]] = {name: {str(b): [] for b in BATCH_SIZES} for name in encoders}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for bs in BATCH_SIZES:
            for name, enc in encoders.items():
                rate, vecs = throughput(enc, texts, bs)
                tput[name][str(bs)].append(rate)
                vectors.setdefault(name, vecs)
    load_after = os.getloadavg()

    ref_name = next(iter(encoders))
    ref_lat = float(np.median(lat[ref_name]))
    ref_tput = {b: float(np.median(v)) for b, v in tput[ref_name].items()}
    backends = {}
    for name in encoders:
        samples = np.asarray(lat[name])
        rates = {b: float(np.median(v)) for b, v in tput[name].items()}
        entry = {
            "latency_ms": {"median": float(np.median(samples)), "p95": float(np.percentile(samples, 95)),
                           "mean": float(samples.mean()), "samples": len(samples)},
            "throughput_texts_per_s": rates,
            "vs_reference": {"latency_speedup": ref_lat / float(np.median(samples)),
                             "throughput_ratio": {b: rates[b] / ref_tput[b] for b in rates}},
        }
        if name != ref_name:
            cos = cosines(vectors[name], vectors[ref_name])
            entry["quality_vs_reference"] = {"min_cos": float(cos.min()), "mean_cos": float(cos.mean()),
                                             "texts": len(cos)}
        backends[name] = entry

    result = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "model": SPEC,
        "texts": {"source": source, "count": len(texts), "mean_chars": float(np.mean([len(t) for t in texts])),
                  "latency_texts_mean_chars": float(np.mean([len(t) for t in short]))},
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "onnx_threads": args.threads or os.cpu_count(), "torch": torch.__version__,
                    "onnxruntime": onnxruntime.__version__,
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in load_after]},
        "setup_s": {k: round(v, 2) for k, v in timings.items()},
        "int8_error": int8_error,
        "backends": backends,
    }
    print(json.dumps(result, indent=2))
    print()
    print(markdown(result))
    print()
    print(f"command: {result['command']}")


if __name__ == "__main__":
    main()
