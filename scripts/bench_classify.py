"""Benchmark: classification end to end on a dataset from ../shared/datasets.

Splits the training file 80/20 (seed 7, as ../shared/tools/eval-cli.sh does), imports the 80% as
ticket history into a fresh SQLite database, trains with the default model, triages the held-back
20% and prints accuracy, macro-F1, ECE, auto-route precision and coverage, training time, batch
throughput and single-ticket latency (median, p95) next to the naive path (sentence-transformers
encode of one ticket, then a scikit-learn predict) measured in the same process, alternating
ticket by ticket, and then ours again back to back (as a service answers tickets). It also checks
routing rules: with a rule at 0.95, 0.98 and 0.99 on every category, the held-back precision and
coverage of what is auto-routed.

With ``--whole-file`` it imports every row of the training file instead, times the first
training, and stops (the first-training target is set on the whole it_tickets file).

    python scripts/bench_classify.py banking77 [--datasets ../shared/datasets] [--limit N]
    python scripts/bench_classify.py it_tickets --whole-file
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fresh_runtime, percentile, split  # noqa: E402


def synthetic_kb(n: int) -> list[dict]:
    """``n`` articles made from the demo articles: each variant keeps the text but reorders its
    paragraphs and gets its own id and title, so the index holds n distinct articles."""
    from kb.importers import read_articles
    from application.demo import DEMO_DIR

    base = read_articles(DEMO_DIR / "articles")
    out = []
    for i in range(n):
        art = base[i % len(base)]
        paras = art["body"].split("\n\n")
        shift = (i // len(base)) % max(1, len(paras))
        out.append({"id": f"{art['id']}-{i}", "title": f"{art['title']} ({i // len(base) + 1})",
                    "body": "\n\n".join(paras[shift:] + paras[:shift]), "category": art["category"]})
    return out


def routing_rules_check(version, pred, conf, truth, targets=(0.95, 0.98, 0.99)) -> dict:
    """Does a routing rule's promise hold on held-back tickets? A rule at each target on every
    category, thresholds from the version's validation outcomes (triage/routing.py): precision and
    coverage of the held-back tickets it routes, and how many categories (with 5+ routed) fall
    more than 2 points short of the target."""
    from models import registry
    from triage import routing

    kept = registry.read_bundle(version.path).route_outcomes.get("category")
    if kept is None:
        return {}
    labels = sorted(set(kept["predicted"]))
    out = {}
    for target in targets:
        thr = routing.thresholds(kept, target, {label: {"target_precision": target, "auto_route": True}
                                                for label in labels})
        routed = conf >= np.array([thr["per_class"].get(p, routing.NEVER) for p in pred])
        short = [label for label in labels if (routed & (pred == label)).sum() >= 5
                 and (truth[routed & (pred == label)] == label).mean() < target - 0.02]
        out[str(target)] = {
            "validation_precision": thr["precision"], "validation_coverage": thr["coverage"],
            "heldout_precision": round(float((pred[routed] == truth[routed]).mean()), 4) if routed.any() else None,
            "heldout_coverage": round(float(routed.mean()), 4),
            "categories_short_by_2_points": f"{len(short)}/{len(labels)}",
            "basis": dict(Counter(row["basis"] for row in thr["classes"].values()))}
    return out


def machine_speed(encoder, texts: list[str], rounds: int = 2) -> dict:
    """The CPU and the encoder's rate on a fixed sample, so that runs on machines of different speed
    can be told apart (the encoder is most of a first training)."""
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8")
                  if line.startswith("model name")), "unknown")
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        encoder.encode(texts)
        times.append(time.perf_counter() - started)
    return {"cpu": model, "sample_texts": len(texts), "encoder_texts_per_s": round(len(texts) / min(times), 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["banking77", "it_tickets", "clinc150"])
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--limit", type=int, default=None, help="use only this many training rows (smoke runs)")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--kb-articles", type=int, default=1000,
                        help="size of the knowledge base searched for suggestions (demo articles, varied)")
    parser.add_argument("--retrain-after", type=int, default=0, metavar="N",
                        help="hold back N of the training rows: train first without them, then import them and "
                             "time the retrain (embeddings of the other tickets come from the cache)")
    parser.add_argument("--whole-file", action="store_true",
                        help="import every row of the training file, time the first training and stop")
    args = parser.parse_args(argv)
    command = "python scripts/bench_classify.py " + " ".join(argv if argv is not None else sys.argv[1:])
    path = Path(args.datasets) / args.dataset / "train.csv"
    if not path.exists():
        sys.exit(f"dataset not found: {path} (give --datasets)")
    label = "intent" if args.dataset == "clinc150" else "category"
    fit, val = split(path, label)
    if args.limit:
        fit, val = fit[:args.limit], val[:max(1, args.limit // 4)]

    from models.metrics import classification_report
    from application.training import train
    from kb import service as kb_service
    from triage import service as triage_service

    rt = fresh_runtime()
    later = fit[len(fit) - args.retrain_after:] if args.retrain_after else []
    first = fit + val if args.whole_file else fit[:len(fit) - len(later)]
    with rt.db.session() as s:
        triage_service.import_tickets(session=s, records=[{"body": t, "category": y} for t, y in first])
        if args.kb_articles:
            kb_service.upsert_many(session=s, store=rt.store, items=synthetic_kb(args.kb_articles))
    rt.encoder.encode(["warm up"])
    speed = machine_speed(rt.encoder, random.Random(0).sample([t for t, _ in fit], min(2000, len(fit))))
    started = time.perf_counter()
    with rt.db.session() as s:
        version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
    train_s = time.perf_counter() - started
    first_timings = version.report.get("timings")
    if args.whole_file:
        print(json.dumps({"dataset": args.dataset, "first_train_tickets": len(first), "kb_articles": args.kb_articles,
                          "train_seconds": round(train_s, 1), "first_train_timings": first_timings,
                          "model_selection": version.report.get("category", {}).get("model_selection"),
                          "machine": speed, "command": command}, indent=2))
        rt.close()
        return
    retrain_s = None
    if later:
        with rt.db.session() as s:
            triage_service.import_tickets(session=s, records=[{"body": t, "category": y} for t, y in later])
        started = time.perf_counter()
        with rt.db.session() as s:
            version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings,
                            promote="always")
        retrain_s = time.perf_counter() - started

    texts, truth = [t for t, _ in val], np.array([y for _, y in val])
    started = time.perf_counter()
    decisions = []
    for i in range(0, len(texts), 256):
        decisions.extend(rt.engine.decide(texts[i:i + 256]))
    batch_s = time.perf_counter() - started
    pred = np.array([d["category"] for d in decisions])
    conf = np.array([d["category_confidence"] for d in decisions])
    auto = np.array([d["route"] == "auto" for d in decisions])
    report = classification_report(truth, pred, conf)
    report["auto_route_precision"] = round(float((pred[auto] == truth[auto]).mean()), 4) if auto.any() else None
    report["auto_route_coverage"] = round(float(auto.mean()), 4)

    rules_check = routing_rules_check(version, pred, conf, truth)

    # Single-ticket latency: ours (classification + tier + suggestions) vs the naive path.
    from sklearn.linear_model import LogisticRegression

    from models.encoder import load_encoder

    reference = load_encoder(rt.settings.encoder, "torch")  # the naive path: plain sentence-transformers
    sample = texts[: args.latency_samples]
    naive_model = LogisticRegression(max_iter=500).fit(reference.encode([t for t, _ in fit[:3000]]),
                                                       [y for _, y in fit[:3000]])
    ours, naive = [], []
    for text in sample:
        t0 = time.perf_counter()
        rt.engine.decide([text])
        t1 = time.perf_counter()
        naive_model.predict(reference.encode([text]))
        t2 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        naive.append((t2 - t1) * 1000)
    # Ours again, ticket after ticket as a service answers them: in the alternating loop above
    # each decision follows a sentence-transformers call whose idle threads still spin on 2 cores.
    alone = []
    for text in sample:
        t0 = time.perf_counter()
        rt.engine.decide([text])
        alone.append((time.perf_counter() - t0) * 1000)
    out = {
        "dataset": args.dataset, "train_rows": len(fit), "heldout_rows": len(val), "kb_articles": args.kb_articles,
        "kb_passages": rt.store.index().count(), "encoder": rt.settings.encoder,
        "encoder_backend": rt.settings.encoder_backend, "machine": speed,
        **report,
        "validation_report": version.report.get("category", {}).get("validation"),
        "routing_rule_on_every_category": rules_check,
        "model_selection": version.report.get("category", {}).get("model_selection"),
        "train_seconds": round(train_s, 1), "first_train_tickets": len(first),
        "retrain_seconds": round(retrain_s, 1) if retrain_s is not None else None,
        "retrain_new_tickets": len(later), "first_train_timings": first_timings,
        "retrain_timings": version.report.get("timings") if later else None,
        "retrain_text_features": version.report.get("text_features") if later else None,
        "batch_tickets_per_s": round(len(texts) / batch_s, 1),
        "latency_ms_median": round(statistics.median(ours), 2), "latency_ms_p95": round(percentile(ours, 95), 2),
        "naive_latency_ms_median": round(statistics.median(naive), 2),
        "naive_latency_ms_p95": round(percentile(naive, 95), 2),
        "latency_ratio_vs_naive": round(statistics.median(ours) / statistics.median(naive), 2),
        "latency_ms_median_back_to_back": round(statistics.median(alone), 2),
        "latency_ms_p95_back_to_back": round(percentile(alone, 95), 2),
        "command": command,
    }
    print(json.dumps(out, indent=2))
    rt.close()


if __name__ == "__main__":
    main()
