"""Benchmark: the default model against the plain TF-IDF + LinearSVC baseline on a real desk's
long tail (#30), in the same run, on the same 80/20 split of a dataset's training file.

The default model is trained and asked exactly as the service does (tickets imported into a fresh
SQLite database, ``train``, then ``engine.decide`` on the held-back 20%). The baseline is TF-IDF
over words (1-2 grams) and characters (char_wb 2-5 grams), both sublinear, and a LinearSVC (C 0.5),
fitted on the same texts. Reported for both: accuracy, macro-F1, and macro-F1 for the head and for
the tail (classes with fewer than 20 training tickets) separately; for the default model also the
auto-route precision and coverage at the deployment's target, the rare classes, and the held-back
precision of confident predictions by how many training tickets the predicted class had (what
the KBTRIAGE_RARE_CLASS_MIN default rests on).

    python scripts/bench_long_tail.py endava_tickets [--label business_service] [--datasets ../shared/datasets]
    python scripts/bench_long_tail.py it_tickets
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fresh_runtime  # noqa: E402

CONFIDENT = 0.9  # "confident" predictions, whatever the class's threshold
BUCKETS = ((1, 4), (5, 9), (10, 19), (20, None))


def records(datasets: Path, name: str, label: str) -> list[dict]:
    with open(datasets / name / "train.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if name == "endava_tickets":
        return [{"subject": r["title"], "body": r["body"], "category": r[label]} for r in rows if r[label]]
    return [{"body": r["text"], "category": r[label]} for r in rows if r[label]]


def baseline(fit_texts, fit_labels, texts):
    """TF-IDF words 1-2 + char_wb 2-5 (sublinear) + LinearSVC: predictions for ``texts``."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    X = sp.hstack([word.fit_transform(fit_texts), char.fit_transform(fit_texts)], format="csr")
    svc = LinearSVC(C=0.5).fit(X, fit_labels)
    return svc.predict(sp.hstack([word.transform(texts), char.transform(texts)], format="csr"))


def scores(truth, pred, counts) -> dict:
    from models.metrics import classification_report, head_tail_f1

    rep = classification_report(truth, pred, np.ones(len(pred)))
    return {"accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"], **head_tail_f1(truth, pred, counts)}


def by_training_count(pred, truth, conf, counts, threshold: float) -> list[dict]:
    """Held-back precision of predictions at or above ``threshold``, by the training tickets of
    the predicted class."""
    n_of = np.array([counts.get(p, 0) for p in pred])
    out = []
    for low, high in BUCKETS:
        mask = (n_of >= low) & ((n_of <= high) if high else True) & (conf >= threshold)
        out.append({"training_tickets": f"{low}-{high}" if high else f"{low}+", "confident": int(mask.sum()),
                    "precision": round(float((pred[mask] == truth[mask]).mean()), 4) if mask.any() else None})
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["endava_tickets", "it_tickets"])
    parser.add_argument("--label", default=None, help="label column (endava_tickets: business_service)")
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    command = "python scripts/bench_long_tail.py " + " ".join(argv if argv is not None else sys.argv[1:])
    datasets = Path(args.datasets)
    if not (datasets / args.dataset / "train.csv").exists():
        sys.exit(f"dataset not found: {datasets / args.dataset / 'train.csv'} (give --datasets)")
    label = args.label or ("business_service" if args.dataset == "endava_tickets" else "category")
    rows = records(datasets, args.dataset, label)
    random.Random(args.seed).shuffle(rows)
    cut = int(len(rows) * 0.8)
    fit, val = rows[:cut], rows[cut:]

    from application.training import train
    from triage import service as triage_service
    from triage.tables import ticket_text

    counts = Counter(r["category"] for r in fit)
    fit_texts = [ticket_text(r.get("subject"), r["body"]) for r in fit]
    texts = [ticket_text(r.get("subject"), r["body"]) for r in val]
    truth = np.array([r["category"] for r in val])

    started = time.perf_counter()
    plain = baseline(fit_texts, [r["category"] for r in fit], texts)
    baseline_s = time.perf_counter() - started

    rt = fresh_runtime("kbt-longtail-")
    with rt.db.session() as s:
        triage_service.import_tickets(session=s, records=fit)
    started = time.perf_counter()
    with rt.db.session() as s:
        version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
    train_s = time.perf_counter() - started
    decisions = []
    for i in range(0, len(texts), 256):
        decisions.extend(rt.engine.decide(texts[i:i + 256]))
    pred = np.array([d["category"] for d in decisions])
    conf = np.array([d["category_confidence"] for d in decisions])
    auto = np.array([d["route"] == "auto" for d in decisions])
    category = version.report.get("category", {})
    threshold = rt.engine.current()[1].thresholds.get("global")
    rare = (category.get("rare_classes") or {}).get("classes", {})
    out = {
        "dataset": args.dataset, "label": label, "fit_rows": len(fit), "heldout_rows": len(val),
        "classes": len(counts), "tail_classes_in_fit": sum(n < 20 for n in counts.values()),
        "default": {**scores(truth, pred, counts),
                    "auto_route_precision": round(float((pred[auto] == truth[auto]).mean()), 4) if auto.any() else None,
                    "auto_route_coverage": round(float(auto.mean()), 4),
                    "target_precision": rt.settings.route_precision,
                    "auto_routed_to_rare": int(np.isin(pred[auto], list(rare)).sum()),
                    "train_seconds": round(train_s, 1),
                    "model_selection": category.get("model_selection", {}).get("chosen"),
                    "candidates": category.get("model_selection", {}).get("candidates"),
                    "rare_classes": len(rare), "rare_class_min": rt.settings.rare_class_min,
                    "confident_precision_by_training_tickets": by_training_count(pred, truth, conf, counts, CONFIDENT),
                    "global_threshold": round(float(threshold), 4)},
        "baseline_tfidf_linearsvc": {**scores(truth, plain, counts), "train_seconds": round(baseline_s, 1)},
        "command": command,
    }
    out["default_minus_baseline_accuracy"] = round(out["default"]["accuracy"] - out["baseline_tfidf_linearsvc"]["accuracy"], 4)
    print(json.dumps(out, indent=2))
    rt.close()


if __name__ == "__main__":
    main()
