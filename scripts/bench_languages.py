"""Tickets in other languages: how often the language flag (triage/language.py) fires on English
tickets and on German, French, Spanish and Chinese ones, and what the model did with the foreign
tickets before the flag sent them to review.

    python scripts/bench_languages.py [--datasets ../shared/datasets] [--detector-only]

English: the validation parts (eval-cli's 80/20 split, seed 7) of Banking77 and it_tickets, and the
demo's tickets. Other languages: scripts/language_tickets.tsv, banking and IT help-desk requests
written for this benchmark (not translations of any dataset's rows), the banking ones labelled with
Banking77's intents. Unless --detector-only, a model is trained on Banking77's 80% as eval-cli
does, and the foreign tickets and the English validation part are decided with the flag off
(before) and on: how many were auto-routed, and how many of those were right.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import fresh_runtime, split  # noqa: E402
from common.config import Settings  # noqa: E402
from triage import language  # noqa: E402
from triage.importers import ticket_text  # noqa: E402

THRESHOLD = Settings().foreign_text_share
HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "language_tickets.tsv"
# it_tickets' desk wrote some tickets in Romanian, and its export stripped English stop words only,
# so their Romanian ones ("si", "la", "ca", "va", "care") remain: a flagged it_ticket without any
# is a false alarm for sure.
ROMANIAN = language.FOREIGN_WORDS["Romanian"]


def read_sample(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def detector(english: dict[str, list[str]], sample: list[dict]) -> dict:
    """Flags on each English set and each language, with the time one verdict takes."""
    out: dict = {"english": {}, "other": {}}
    timings = []
    for name, texts in english.items():
        flagged = []
        for t in texts:
            started = time.perf_counter()
            v = language.assess(t, THRESHOLD)
            timings.append(time.perf_counter() - started)
            if v.flag:
                flagged.append((t, v))
        row = {"tickets": len(texts), "flagged": len(flagged), "rate": round(len(flagged) / len(texts), 4)}
        if flagged:
            romanian = [t for t, _ in flagged if ROMANIAN.intersection(re.findall(r"\w+", t.lower()))]
            row["flagged_with_romanian_function_words"] = len(romanian)
            row["flagged_with_romanian_examples"] = [t[:120] for t in romanian[:5]]
            row["flagged_without"] = [t[:160] for t, _ in flagged if t not in set(romanian)][:10]
            row["guessed"] = {}
            for _, v in flagged:
                row["guessed"][v.language] = row["guessed"].get(v.language, 0) + 1
        out["english"][name] = row
    for lang in sorted({r["language"] for r in sample}):
        rows = [r for r in sample if r["language"] == lang]
        verdicts = [language.assess(r["text"], THRESHOLD) for r in rows]
        out["other"][lang] = {
            "tickets": len(rows), "flagged": sum(v.flag for v in verdicts),
            "recall": round(sum(v.flag for v in verdicts) / len(rows), 4),
            "language_named_right": sum(v.flag and v.language == lang for v in verdicts),
            "missed": [r["text"] for r, v in zip(rows, verdicts) if not v.flag]}
    timings.sort()
    out["verdict_us"] = {"median": round(statistics.median(timings) * 1e6, 1),
                         "p99": round(timings[int(len(timings) * 0.99)] * 1e6, 1), "n": len(timings)}
    return out


def routed(engine, texts: list[str], share: float) -> list[dict]:
    engine.settings = replace(engine.settings, foreign_text_share=share)
    decisions = []
    for start in range(0, len(texts), 64):
        decisions.extend(engine.decide(texts[start:start + 64]))
    return decisions


def summary(decisions: list[dict], truth: list[str | None]) -> dict:
    auto = [(d, y) for d, y in zip(decisions, truth) if d["route"] == "auto"]
    out = {"tickets": len(decisions), "auto_routed": len(auto)}
    known = [(d, y) for d, y in zip(decisions, truth) if y]
    if known:
        out["accuracy"] = round(sum(d["category"] == y for d, y in known) / len(known), 4)
    known_auto = [(d, y) for d, y in auto if y]
    if known_auto:
        out["auto_routed_right"] = sum(d["category"] == y for d, y in known_auto)
        out["auto_route_precision"] = round(out["auto_routed_right"] / len(known_auto), 4)
    return out


def model(datasets: Path, sample: list[dict]) -> dict:
    """Train on Banking77's 80% as eval-cli does; decide with the flag off and on."""
    from application.training import train
    from triage import service

    fit, val = split(datasets / "banking77" / "train.csv", "category")
    rt = fresh_runtime("kbt-bench-lang-")
    started = time.perf_counter()
    with rt.db.session() as s:
        service.import_tickets(session=s, records=[{"body": t, "category": c} for t, c in fit])
        train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
    out: dict = {"trained_on": len(fit), "trained_seconds": round(time.perf_counter() - started, 1)}
    engine, default = rt.engine, rt.engine.settings.foreign_text_share
    sets = {"English (Banking77 validation)": ([t for t, _ in val], [c for _, c in val])}
    for lang in sorted({r["language"] for r in sample}):
        rows = [r for r in sample if r["language"] == lang]
        sets[lang] = ([r["text"] for r in rows], [r["category"] or None for r in rows])
    for name, (texts, truth) in sets.items():
        before, after = routed(engine, texts, 0.0), routed(engine, texts, default)
        out[name] = {"before": summary(before, truth), "after": summary(after, truth),
                     "decisions_changed": sum(a != b for a, b in zip(after, before))}
    rt.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=Path(os.environ.get("KBTRIAGE_DATASETS", "../shared/datasets")))
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--detector-only", action="store_true")
    args = ap.parse_args()
    if not (args.datasets / "banking77" / "train.csv").exists():
        sys.exit(f"datasets not found at {args.datasets} (pass --datasets or set KBTRIAGE_DATASETS)")
    from application.demo import demo_records

    sample = read_sample(args.sample)
    english = {name: [t for t, _ in split(args.datasets / name / "train.csv", "category")[1]]
               for name in ("banking77", "it_tickets")}
    english["demo"] = [ticket_text(r["subject"], r["body"]) for r in demo_records()]
    cpu, wall = time.process_time(), time.perf_counter()
    out = {"threshold": THRESHOLD, "detector": detector(english, sample)}
    if not args.detector_only:
        out["model"] = model(args.datasets, sample)
    out["cpu_seconds"] = round(time.process_time() - cpu, 1)
    out["wall_seconds"] = round(time.perf_counter() - wall, 1)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
