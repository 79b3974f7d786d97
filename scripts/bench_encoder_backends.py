"""Benchmark: the ONNX encoder backends side by side, per text, by length and batch size.

In one process, the fp32 export (``onnx``), the int8 copy with 8-bit weights in blocks
(``onnx-int8``) and ONNX Runtime's dynamic quantisation (``onnx-int8-fast``), each
with the ticket token limit of the service (128) and ``--threads`` threads per call. Texts: short
(Banking77 training texts) and e-mail-length (it_tickets training texts of 150-400 characters).
For each set and batch size, every backend encodes the same texts in rounds rotating their order;
the fastest round's milliseconds per text are printed (the least disturbed by other work), with
each int8 backend's mean and lowest cosine to fp32's vectors over all the texts, the processor, and
which of fp32 and int8 in blocks the default ``auto`` backend serves on it, with its own timing.

    python scripts/bench_encoder_backends.py [--datasets ../shared/datasets] [--threads 1] [--rounds 3]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import config  # noqa: E402
from models.encoder import INT8_BACKENDS, load_encoder  # noqa: E402
from models.onnx_encoder import machine_id  # noqa: E402

BACKENDS = ("onnx", *INT8_BACKENDS)
BATCHES = (1, 4, 16)


def texts_of(path: Path, n: int, keep=lambda t: True) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r["text"] for r in csv.DictReader(fh) if keep(r["text"])]
    random.Random(2).shuffle(rows)
    return rows[:n]


def _processor() -> str:
    """The processor's model and whether it has the int8 dot-product instructions (VNNI)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "unknown")
    flags = set(next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), []))
    vnni = sorted(f for f in flags if "vnni" in f)
    return f"{model}; {', '.join(vnni) if vnni else 'no VNNI'}; {'avx512f' if 'avx512f' in flags else 'no AVX-512'}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "datasets")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=128, help="texts per set and batch size")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = config.load()
    encoders = {b: load_encoder(settings.encoder, b, settings.encoder_cache, max_tokens=128, threads=args.threads)
                for b in BACKENDS}
    sets = {"short (Banking77)": texts_of(args.datasets / "banking77" / "train.csv", args.texts),
            "e-mail length (it_tickets, 150-400 chars)": texts_of(args.datasets / "it_tickets" / "train.csv",
                                                                  args.texts, lambda t: 150 < len(t) < 400)}
    result = {"threads": args.threads, "rounds": args.rounds, "load_average_before": os.getloadavg(),
              # None would mean the int8 copy failed and fp32 served in its place
              "int8_check": {b: getattr(encoders[b], "int8_check", None) for b in INT8_BACKENDS},
              "ms_per_text": {}, "cosine_to_fp32": {}}
    auto = load_encoder(settings.encoder, "auto", settings.encoder_cache, max_tokens=128, threads=args.threads)
    result["machine"] = {"id": machine_id(), "processor": _processor(),
                         "auto_serves": "onnx-int8" if auto.int8_check else "onnx", "auto_timing": auto.int8_speed}
    for set_name, texts in sets.items():
        fp32 = encoders["onnx"].encode(texts)
        for b in INT8_BACKENDS:
            cos = (encoders[b].encode(texts) * fp32).sum(axis=1)
            result["cosine_to_fp32"].setdefault(b, {})[set_name] = {"mean": round(float(cos.mean()), 5),
                                                                     "min": round(float(cos.min()), 5)}
        for size in BATCHES:
            for e in encoders.values():  # warm-up
                e.encode(texts[:size])
            best = {b: float("inf") for b in BACKENDS}
            for r in range(args.rounds):
                for b in BACKENDS[r % len(BACKENDS):] + BACKENDS[:r % len(BACKENDS)]:
                    started = time.perf_counter()
                    for i in range(0, len(texts), size):
                        encoders[b].encode(texts[i:i + size])
                    best[b] = min(best[b], 1000 * (time.perf_counter() - started) / len(texts))
            result["ms_per_text"][f"{set_name}, batch {size}"] = {b: round(v, 3) for b, v in best.items()}
    result["load_average_after"] = os.getloadavg()
    result["command"] = "python scripts/bench_encoder_backends.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
