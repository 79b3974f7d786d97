"""What one encoding call costs, and what cutting a ticket's sentences into length-aware batches saves.

The multi-issue split (triage/multi_issue.py) encodes every sentence of a ticket on top of the
ticket itself. Sorted longest first and sent as one batch, the sentences were all padded to the
longest; each sent alone, each call streams the network's weights again. ``OnnxEncoder.encode``
now cuts them where padding would cost more than another call (``models.onnx_encoder.length_batches``).

Prints, for the packaged encoder on one thread: the time of one call by token count (fixed cost
and cost per token), then per demo ticket (subject and body) the median and p99 wall and CPU
milliseconds of encoding the ticket, and its sentences the old way (fixed batches) and the new.

    python scripts/bench_encoder_batches.py [--tickets 300] [--threads 1] [--backend onnx|onnx-int8|onnx-int8-fast]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def timed(fn, items) -> dict:
    """Median and p99 wall ms of ``fn(item)`` over ``items``, and mean CPU ms."""
    walls, cpu0 = [], time.process_time()
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        walls.append(1000 * (time.perf_counter() - t0))
    walls.sort()
    return {"median_ms": round(statistics.median(walls), 2), "p99_ms": round(walls[int(0.99 * (len(walls) - 1))], 2),
            "cpu_ms": round(1000 * (time.process_time() - cpu0) / len(items), 2)}


def fixed_batches(encoder, texts: list[str], size: int) -> np.ndarray:
    """The encoder's former cut: longest first, in batches of ``size`` whatever their lengths."""
    from models.onnx_encoder import _mean_pool

    encodings = encoder._tokenizer.encode_batch(texts)
    order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
    out = np.empty((len(texts), encoder.dim), dtype=np.float32)
    for start in range(0, len(order), size):
        idx = order[start:start + size]
        feeds, mask = encoder._feeds([encodings[i] for i in idx])
        out[idx] = _mean_pool(encoder._session.run(None, feeds)[0], mask)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backend", default="onnx", choices=["onnx", "onnx-int8", "onnx-int8-fast"])
    args = parser.parse_args(argv)

    from application.demo import demo_records
    from common import config
    from models.encoder import load_encoder
    from models.encoder_spec import BATCH_SIZE
    from triage import multi_issue
    from triage.tables import ticket_text

    settings = config.load()
    encoder = load_encoder(settings.encoder, args.backend, settings.encoder_cache,
                           max_tokens=settings.ticket_max_tokens or None, threads=args.threads)
    report: dict = {"command": "python scripts/bench_encoder_batches.py " + " ".join(argv or sys.argv[1:]),
                    "load_average": os.getloadavg(), "by_tokens": {}}
    for words in (1, 10, 20, 40, 80):
        text = " ".join(["account"] * words)
        tokens = len(encoder._tokenizer.encode(text).ids)
        report["by_tokens"][tokens] = timed(lambda t: encoder.encode([t]), [text] * 200)["median_ms"]

    texts = [ticket_text(r["subject"], r["body"]) for r in demo_records()[:args.tickets]]  # as the service reads them
    units = [[u.text for u in multi_issue.units(t)] for t in texts]
    units = [u for u in units if len(u) > 1]
    same = max(float(np.abs(fixed_batches(encoder, u, BATCH_SIZE) - encoder.encode(u)).max()) for u in units)
    for round_ in range(2):  # the second round is the one reported (the first warms caches)
        report["ticket"] = timed(lambda t: encoder.encode([t]), texts)
        report["sentences_fixed_batches"] = timed(lambda u: fixed_batches(encoder, u, BATCH_SIZE), units)
        report["sentences_length_batches"] = timed(encoder.encode, units)
    report["tickets"], report["tickets_with_sentences"] = len(texts), len(units)
    report["mean_sentences"] = round(float(np.mean([len(u) for u in units])), 1)
    report["max_abs_difference_of_vectors"] = same
    report["cpu_ratio_length_to_fixed"] = round(report["sentences_length_batches"]["cpu_ms"]
                                                / report["sentences_fixed_batches"]["cpu_ms"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
