"""Priority prediction through the CLI, as a desk would run it, against two baselines in the same run.

    python scripts/bench_priority.py --data ../shared/datasets/jira_priority/train.csv

Splits the file 80/20 (seed 7, as eval-cli does), imports the 80% with
``kbtriage import-tickets --subject-column subject --text-column text --priority-column priority``,
trains, triages the 20% with ``kbtriage triage`` and scores the ``priority`` column: accuracy,
macro-F1 and per-label F1, against the majority label and a text-only TF-IDF (word + character) +
LinearSVC baseline fitted on the same 80%, and the top priority's precision and coverage when only
decisions at or above a confidence are escalated; then the reliability of the auto-escalation the
service does: the escalation threshold the trained version chose on its validation slice for the
target precision (``kbtriage routing show --json``: priority.escalation, with its basis), and the
precision and coverage (share of the truly top-priority held-out tickets escalated) it reaches on
the held-out 20%. Prints one JSON object.

With ``--plan-column`` (the demo: ``--data kb/demo_data/tickets.csv --text-column body
--plan-column plan --channel-column channel``) and ``--feature-column C``, kb-triage runs twice in
the same run: on the text alone, and with the metadata (the plan, channel and feature columns,
imported with ``--feature-column`` and passed to ``kbtriage triage`` in the held-out file).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from triage.priority import order  # noqa: E402


def kbtriage(*args, env) -> str:
    done = subprocess.run([sys.executable, "-m", "cli.main", *map(str, args)], env=env, capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[1])
    if done.returncode:
        sys.exit(f"kbtriage {' '.join(map(str, args))} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def scores(truth, pred, labels) -> dict:
    return {"accuracy": round(accuracy_score(truth, pred), 4),
            "macro_f1": round(f1_score(truth, pred, labels=labels, average="macro", zero_division=0), 4),
            "f1_per_label": dict(zip(labels, np.round(f1_score(truth, pred, labels=labels, average=None,
                                                                zero_division=0), 3).tolist()))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--label", default="priority")
    ap.add_argument("--text-column", default="text", help="the ticket body's column (the demo's: body)")
    ap.add_argument("--target", type=float, default=None,
                    help="the target precision of escalation (sets KBTRIAGE_ROUTE_PRECISION for this run)")
    ap.add_argument("--plan-column", default=None, help="the customer's plan (fed to the model as 'plan')")
    ap.add_argument("--channel-column", default=None, help="the channel (fed as 'channel')")
    ap.add_argument("--feature-column", action="append", default=[], help="another metadata column (repeatable)")
    args = ap.parse_args()
    load = open("/proc/loadavg").read().split()[:3]
    rows = list(csv.DictReader(open(args.data, newline="", encoding="utf-8")))
    random.Random(7).shuffle(rows)
    cut = int(len(rows) * 0.8)
    fit, held = rows[:cut], rows[cut:]
    truth = [r[args.label] for r in held]
    labels = order({r[args.label] for r in rows})
    meta = {"plan": args.plan_column, "channel": args.channel_column, **{c: c for c in args.feature_column}}
    meta = {name: column for name, column in meta.items() if column}
    variants = {"kb_triage_text_only": {}} if meta else {}
    variants["kb_triage_with_metadata" if meta else "kb_triage"] = meta
    runs = {name: run(args, fit, held, columns) for name, columns in variants.items()}
    final = runs[list(variants)[-1]]
    got, conf = final["got"], final["conf"]

    majority = Counter(r[args.label] for r in fit).most_common(1)[0][0]
    texts = [f"{r['subject']}\n{r[args.text_column]}" for r in fit]
    baseline = make_pipeline(make_union(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
                                        TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5),
                                                        min_df=2)),
                             LinearSVC(C=0.5))
    baseline.fit(texts, [r[args.label] for r in fit])
    plain = baseline.predict([f"{r['subject']}\n{r[args.text_column]}" for r in held])

    top = labels[0]
    escalation = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):
        chosen = [(g == top and c >= t) for g, c in zip(got, conf)]
        n = sum(chosen)
        right = sum(ch and y == top for ch, y in zip(chosen, truth))
        escalation.append({"confidence_at_least": t, "escalated": n,
                           "precision": round(right / n, 3) if n else None,
                           "coverage_of_true_top": round(right / max(1, truth.count(top)), 3)})
    policy = final["policy"]
    auto = {"label": policy.get("label"), "target_precision": policy.get("target_precision"),
            "threshold": policy.get("threshold"), "basis": policy.get("basis"),
            "validation": {key: policy.get(key) for key in ("predicted", "support", "precision", "coverage")}}
    if policy.get("threshold") is not None:
        chosen = [g == policy["label"] and c >= policy["threshold"] for g, c in zip(got, conf)]
        right = sum(ch and y == policy["label"] for ch, y in zip(chosen, truth))
        auto["held_out"] = {"escalated": sum(chosen), "right": right, "support": truth.count(policy["label"]),
                            "precision": round(right / sum(chosen), 3) if any(chosen) else None,
                            "coverage": round(right / max(1, truth.count(policy["label"])), 3)}
    else:
        auto["held_out"] = {"escalated": 0, "support": truth.count(top), "note": "escalation off"}
    print(json.dumps({
        "data": str(args.data), "fit": len(fit), "held": len(held), "labels": labels, "metadata": meta,
        "loadavg_at_start": load, "held_label_counts": dict(Counter(truth)),
        **{name: {**scores(truth, r["got"], labels), "import_and_train_seconds": r["wall"],
                  "import_and_train_cpu_seconds": r["cpu"]}
           for name, r in runs.items()},
        "majority_label": {majority: scores(truth, [majority] * len(truth), labels)},
        "tfidf_linearsvc": scores(truth, list(plain), labels),
        "top_priority_escalation": {"label": top, "by_confidence": escalation},
        "auto_escalation": auto,
    }, indent=1))


def run(args, fit, held, columns: dict) -> dict:
    """Import the fit part (with the metadata ``columns``: name in kb-triage -> column in the
    data), train, triage the held part: its priorities, confidences and escalation policy."""
    work = Path(tempfile.mkdtemp(prefix="kbt-priority-"))
    env = {**os.environ, "KBTRIAGE_HOME": str(work), "DATABASE_URL": f"sqlite:///{work}/kbt.db",
           "HF_HUB_OFFLINE": "1", **({"KBTRIAGE_ROUTE_PRECISION": str(args.target)} if args.target else {})}
    for name, part in (("fit", fit), ("held", held)):
        with open(work / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            out = csv.DictWriter(fh, fieldnames=["subject", "text", args.label, *columns])
            out.writeheader()
            out.writerows({"subject": r["subject"], "text": r[args.text_column], args.label: r[args.label],
                           **{name: r[column] for name, column in columns.items()}} for r in part)
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    extra = [a for name in columns if name not in ("plan", "channel") for a in ("--feature-column", name)]
    if "channel" in columns:
        extra += ["--channel-column", "channel"]
    kbtriage("import-tickets", work / "fit.csv", "--subject-column", "subject", "--text-column", "text",
             "--priority-column", args.label, *extra, env=env)
    kbtriage("train", env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    kbtriage("triage", work / "held.csv", "--subject-column", "subject", "--text-column", "text",
             "--out", work / "pred.csv", env=env)
    pred = list(csv.DictReader(open(work / "pred.csv", newline="", encoding="utf-8")))
    policy = (json.loads(kbtriage("routing", "show", "--json", "--live-days", "0", env=env))["priority"]
              or {}).get("escalation") or {}
    return {"got": [p["priority"] for p in pred],
            "conf": [float(p["priority_confidence"] or 0) for p in pred],  # Python floats: counts go to JSON
            "policy": policy, "wall": round(time.perf_counter() - started, 1),
            "cpu": round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 1)}


if __name__ == "__main__":
    main()
