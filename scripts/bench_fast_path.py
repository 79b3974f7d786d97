"""Benchmark: the fast path (#31). One decision in process with the fp32 and the two int8 encoder
backends against the naive route, all in the same run.

Trains the default model on the Banking77 split of ../shared/tools/eval-cli.sh (80% of the training
file, seed 7; ``--train-limit`` keeps fewer) with a 1,000-article KB made from the demo articles
(``bench_classify.synthetic_kb``), using the fp32 ONNX backend. A second runtime on the same home and
database then serves the same model version and article index with ``onnx-int8`` and another with
``onnx-int8-fast`` (the int8 vectors share fp32's name, so nothing is encoded again). Measured, in rounds that rotate the order of the
three routes, on held-back Banking77 tickets:

- single ticket in process (``engine.decide([text])``): median and p99 per backend, and the naive
  route (sentence-transformers encode + scikit-learn LogisticRegression predict, as
  bench_classify.py measures it); ratios naive / ours;
- batch tickets/s through the triage path (``engine.decide`` on 256-ticket chunks, in rotating rounds, as
  ``kbtriage triage FILE`` calls it), per backend;
- encode only, one ticket: ms per backend (torch, onnx fp32, the two int8 ones);
- agreement of each int8 backend's decisions with fp32's on the held-back tickets, and the load average.

    python scripts/bench_fast_path.py [--datasets ../shared/datasets] [--train-limit N]
                                      [--samples 300] [--rounds 3] [--batch-tickets 1500]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_classify import synthetic_kb  # noqa: E402
from benchlib import fresh_runtime, split  # noqa: E402


# The int8 backends measured beside fp32 (models.encoder.INT8_BACKENDS).
INT8_ROUTES = {"onnx int8 (blocks)": "onnx-int8", "onnx int8 fast (dynamic)": "onnx-int8-fast"}


def summary(ms: list[float]) -> dict:
    return {"median_ms": round(statistics.median(ms), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "n": len(ms)}


def timed(fn, texts: list[str]) -> list[float]:
    """Milliseconds of ``fn([text])`` per text, one after another."""
    out = []
    for text in texts:
        t0 = time.perf_counter()
        fn([text])
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--train-limit", type=int, default=None, help="train on only this many tickets")
    parser.add_argument("--samples", type=int, default=300, help="held-back tickets timed one by one per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-tickets", type=int, default=1500)
    parser.add_argument("--kb-articles", type=int, default=1000)
    args = parser.parse_args(argv)
    command = "python scripts/bench_fast_path.py " + " ".join(argv if argv is not None else sys.argv[1:])
    load_before = os.getloadavg()

    from sklearn.linear_model import LogisticRegression

    from application.runtime import Runtime
    from application.training import train
    from kb import service as kb_service
    from models.encoder import load_encoder
    from triage import service as triage_service

    fit, val = split(Path(args.datasets) / "banking77" / "train.csv", "category")
    if args.train_limit:
        fit = fit[:args.train_limit]
    os.environ["KBTRIAGE_ENCODER_BACKEND"] = "onnx"
    fp32_rt = fresh_runtime(prefix="kbt-fast-path-")
    with fp32_rt.db.session() as s:
        triage_service.import_tickets(session=s, records=[{"body": t, "category": y} for t, y in fit])
        kb_service.upsert_many(session=s, store=fp32_rt.store, items=synthetic_kb(args.kb_articles))
    started = time.perf_counter()
    with fp32_rt.db.session() as s:
        version = train(session=s, store=fp32_rt.store, encoder=fp32_rt.cached_encoder, settings=fp32_rt.settings)
    train_s = time.perf_counter() - started
    int8_rts = {name: Runtime(replace(fp32_rt.settings, encoder_backend=backend)).start()
                for name, backend in INT8_ROUTES.items()}
    engines = {"onnx fp32": fp32_rt.engine, **{name: rt.engine for name, rt in int8_rts.items()}}
    stale = {name: rt.store.stale_reason() for name, rt in int8_rts.items()}

    reference = load_encoder(fp32_rt.settings.encoder, "torch")  # the naive route: plain sentence-transformers
    naive_fit = fit[:3000]
    naive_model = LogisticRegression(max_iter=500).fit(reference.encode([t for t, _ in naive_fit]),
                                                       [y for _, y in naive_fit])
    routes = {name: engine.decide for name, engine in engines.items()}
    routes["naive (sentence-transformers + LogisticRegression)"] = lambda texts: naive_model.predict(reference.encode(texts))
    encoders = {"torch": reference, "onnx fp32": fp32_rt.encoder, **{name: rt.encoder for name, rt in int8_rts.items()}}

    texts = [t for t, _ in val]
    sample = texts[:args.samples]
    for fn in [*routes.values(), *(e.encode for e in encoders.values())]:
        timed(fn, sample[:20])  # warm-up: sessions, caches, lazy loads
    decide_ms = {name: [] for name in routes}
    encode_ms = {name: [] for name in encoders}
    names = list(routes)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            decide_ms[name] += timed(routes[name], sample)
        for name, encoder in encoders.items():
            encode_ms[name] += timed(encoder.encode, sample)

    batch = texts[:args.batch_tickets]
    rates, decisions = {name: [] for name in engines}, {}
    engine_names = list(engines)
    for r in range(args.rounds):  # rounds rotating the order, as above; the median rate is reported
        for name in engine_names[r % len(engine_names):] + engine_names[:r % len(engine_names)]:
            started = time.perf_counter()
            out = []
            for i in range(0, len(batch), 256):
                out.extend(engines[name].decide(batch[i:i + 256]))
            rates[name].append(len(batch) / (time.perf_counter() - started))
            decisions[name] = out
    batch_rate = {name: round(statistics.median(v), 1) for name, v in rates.items()}
    truth = np.array([y for _, y in val[:len(batch)]])
    pred = {name: np.array([d["category"] for d in out]) for name, out in decisions.items()}
    sugg = {name: [tuple(s["article_id"] for s in d["suggestions"]) for d in out] for name, out in decisions.items()}

    single = {name: summary(ms) for name, ms in decide_ms.items()}
    naive_median = single[names[-1]]["median_ms"]
    result = {
        "dataset": "banking77 (eval-cli split)", "train_tickets": len(fit), "kb_articles": args.kb_articles,
        "kb": "demo articles, varied (bench_classify.synthetic_kb)", "kb_passages": fp32_rt.store.index().count(),
        "model_version": version.id, "train_seconds": round(train_s, 1),
        "int8_index_stale_reason": stale,
        "int8_check": {name: getattr(rt.encoder, "int8_check", None) for name, rt in int8_rts.items()},
        "single_ticket": single,
        "speed_up_vs_naive": {name: round(naive_median / single[name]["median_ms"], 2) for name in engines},
        "int8_vs_fp32_speed_up": {name: round(single["onnx fp32"]["median_ms"] / single[name]["median_ms"], 2)
                                  for name in int8_rts},
        "encode_one_ticket": {name: summary(ms) for name, ms in encode_ms.items()},
        "batch_tickets_per_s": batch_rate, "batch_tickets": len(batch),
        "accuracy": {name: round(float((p == truth).mean()), 4) for name, p in pred.items()},
        "category_agreement_vs_fp32": {name: round(float((pred["onnx fp32"] == pred[name]).mean()), 4)
                                       for name in int8_rts},
        "top_suggestion_agreement_vs_fp32": {name: round(float(np.mean(
            [a[:1] == b[:1] for a, b in zip(sugg["onnx fp32"], sugg[name])])), 4) for name in int8_rts},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(), "command": command,
    }
    print(json.dumps(result, indent=2))
    fp32_rt.close()
    for rt in int8_rts.values():
        rt.close()


if __name__ == "__main__":
    main()
