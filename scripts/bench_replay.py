"""Benchmark: the feedback loop, replayed on Banking77 through the service's own code path.

Starts from 5 labelled tickets per intent, then streams the rest of the training split as new
tickets: each is triaged (and stored), and the agent's feedback is sent (the true category as a
correction when the model was wrong, and the article that resolved it, one article per intent).
Every ``--every`` tickets a training job runs with the promotion guardrail. Accuracy and suggestion
hit@1 are measured on a fixed validation split (20%, seed 7) after each retrain and compared with
a model trained on all the data at once. The triage report (``triage/report.py``) then says what
agents' feedback made of the streamed decisions: live accuracy and auto-route precision against the
target, overall, per category and per model version. Finally a deliberately bad retrain (shuffled category
corrections on 1,000 tickets) must be refused promotion.

    python scripts/bench_replay.py [--datasets ../shared/datasets] [--every 500] [--out docs]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fresh_runtime, hits, intent_articles, line_plot, split  # noqa: E402


def evaluate(rt, val) -> dict:
    texts, truth = [t for t, _ in val], [y for _, y in val]
    decisions = []
    for i in range(0, len(texts), 256):
        decisions.extend(rt.engine.decide(texts[i:i + 256]))
    acc = float(np.mean([d["category"] == y for d, y in zip(decisions, truth)]))
    return {"accuracy": round(acc, 4), "hit@1": hits(decisions, truth)["hit@1"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--limit", type=int, default=None, help="stream only this many tickets (smoke runs)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs"))
    args = parser.parse_args(argv)
    path = Path(args.datasets) / "banking77" / "train.csv"
    if not path.exists():
        sys.exit(f"dataset not found: {path}")

    from kb import service as kb_service
    from models import registry
    from application.training import train
    from triage import feedback
    from triage import service as triage_service
    from triage.report import triage_report

    fit, val = split(path, "category")
    labels = sorted({y for _, y in fit})
    seed_rows, stream, per = [], [], defaultdict(int)
    for text, y in fit:
        if per[y] < 5:
            per[y] += 1
            seed_rows.append((text, y))
        else:
            stream.append((text, y))
    stream = stream[: args.limit] if args.limit else stream

    rt = fresh_runtime("kbt-replay-")
    with rt.db.session() as s:
        kb_service.upsert_many(session=s, store=rt.store, items=intent_articles(labels))
        triage_service.import_tickets(session=s, records=[{"body": t, "category": y, "article": y}
                                                          for t, y in seed_rows])
        train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
    curve = [{"tickets_seen": len(seed_rows), **evaluate(rt, val)}]
    print(json.dumps(curve[-1]), file=sys.stderr)
    started = time.perf_counter()
    stream_ids = []
    for n, (text, y) in enumerate(stream, 1):
        with rt.db.session() as s:
            ticket, decision = triage_service.triage_ticket(session=s, engine=rt.engine, fields={"body": text})
            stream_ids.append(ticket.id)
            events = [{"kind": "resolved", "decision_id": decision.id, "article_id": y, "agent_id": "replay"}]
            if decision.category != y:
                events.insert(0, {"kind": "category_corrected", "decision_id": decision.id, "value": y,
                                  "agent_id": "replay"})
            feedback.record_many(session=s, events=events)
        if n % args.every == 0 or n == len(stream):
            with rt.db.session() as s:
                version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
                promoted = version.report["promotion"]
            curve.append({"tickets_seen": len(seed_rows) + n, **evaluate(rt, val), "version": version.id,
                          "promotion": promoted})
            print(json.dumps(curve[-1]), file=sys.stderr)
    replay_s = time.perf_counter() - started
    # What the triage report makes of the stream: every decision was judged by its feedback.
    with rt.db.session() as s:
        report = triage_report(session=s, default_precision=rt.settings.route_precision)
    live = {"decisions": report["decisions"], "routes": report["routes"],
            "category_accuracy": report["category_accuracy"], "auto_route": report["auto_route"],
            "calibration_ece": report["calibration"]["ece"],
            "hit@1": report["suggestions"]["hit@1"], "hit@3": report["suggestions"]["hit@3"],
            "categories_by_status": dict(Counter(c["auto_route"]["status"] for c in report["categories"])),
            "model_versions": report["model_versions"]}
    print(json.dumps(live), file=sys.stderr)

    # Reference: everything at once, in a fresh database.
    ref = fresh_runtime("kbt-ref-")
    with ref.db.session() as s:
        kb_service.upsert_many(session=s, store=ref.store, items=intent_articles(labels))
        triage_service.import_tickets(session=s, records=[{"body": t, "category": y, "article": y}
                                                          for t, y in seed_rows + stream])
        train(session=s, store=ref.store, encoder=ref.cached_encoder, settings=ref.settings)
    all_at_once = evaluate(ref, val)

    # A deliberately bad retrain: shuffled category corrections on 1,000 streamed tickets.
    rng = random.Random(0)
    with rt.db.session() as s:
        before = registry.active(session=s).id
        bad = [{"kind": "category_corrected", "ticket_id": tid, "value": rng.choice(labels), "agent_id": "vandal"}
               for tid in rng.sample(stream_ids, min(1000, len(stream_ids)))]
        feedback.record_many(session=s, events=bad)
        version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
        refused = {"version": version.id, "status": version.status, "promotion": version.report["promotion"],
                   "worse": version.report["comparison"]["worse"],
                   "active_still": registry.active(session=s).id, "active_before": before}

    out = {"command": "python scripts/bench_replay.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "seed_tickets": len(seed_rows), "streamed": len(stream), "retrain_every": args.every,
           "replay_seconds": round(replay_s, 1), "curve": curve, "triage_report": live, "all_at_once": all_at_once, "bad_retrain": refused}
    out["plot"] = line_plot(
        Path(args.out) / "replay.png", [p["tickets_seen"] for p in curve],
        {"category accuracy": [p["accuracy"] for p in curve], "suggestion hit@1": [p["hit@1"] for p in curve]},
        hlines={"accuracy, all data at once": all_at_once["accuracy"], "hit@1, all data at once": all_at_once["hit@1"]},
        title=f"Banking77 replay: retrain every {args.every} tickets",
        xlabel="tickets seen (triaged, then feedback)", ylabel="fixed validation split")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
