"""Benchmark: article suggestions and content-gap detection on ../shared/datasets.

Each intent becomes one article (title = intent name with spaces, body = the same) and each
training query a past ticket resolved by its intent's article, as ../shared/tools/eval-cli.sh does
(80/20 split, seed 7). Measures, through the service's own import/train/triage code:

- banking77: hit@1, hit@3, MRR, cold (articles only), cold with the training queries as past
  tickets that no one linked to an article (kb/adaptation.py), and warm (with the resolved history);
- clinc150: the gap trade-off (share of `oos` queries flagged vs share of in-scope flagged) over
  a range of thresholds on the best score, and the points the trained thresholds pick; and on the
  dataset's own val.csv (100 `oos` queries), the trade-off over the quantile both gap tests use,
  and the cold gap threshold (no resolved history) on the same file;
- a learning curve: hit@1 as history grows (0, 1, 3, 10, 30 tickets per article), saved as a PNG.

    python scripts/bench_suggest.py [--datasets ../shared/datasets] [--out docs]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fresh_runtime, hits, intent_articles, line_plot, split  # noqa: E402


def run(labels, history, queries, *, encoder_cache: Path, familiarity: list | None = None):
    """Fresh database: import articles and history, train, triage the queries. Returns decisions.
    ``familiarity``, a list, receives each query's similarity to its nearest resolved tickets and
    the version's resolved-ticket count per article (the gap test's inputs)."""
    from kb import service as kb_service
    from models.encoder import CachedEncoder
    from application.training import train
    from triage import service as triage_service

    rt = fresh_runtime()
    cached = CachedEncoder(rt.encoder, encoder_cache)
    items = intent_articles(labels)
    with rt.db.session() as s:
        kb_service.upsert_many(session=s, store=rt.store, items=items)
        if history:
            triage_service.import_tickets(session=s, records=[{"body": t, "article": a} for t, a in history])
        version = train(session=s, store=rt.store, encoder=cached, settings=rt.settings)
        report = version.report
    texts = [t for t, _ in queries]
    emb_started = time.perf_counter()
    decisions = []
    for i in range(0, len(texts), 256):
        decisions.extend(rt.engine.decide(texts[i:i + 256]))
    elapsed = time.perf_counter() - emb_started
    if familiarity is not None:
        from kb.suggest import GAP_NEIGHBOURS
        from models import registry
        from models.neighbours import mean_nearest_similarity

        bundle = registry.read_bundle(version.path)
        familiarity.extend([mean_nearest_similarity(cached.encode(texts), bundle.gap_history_keys, GAP_NEIGHBOURS),
                            bundle.article_history])
    rt.close()
    return decisions, report, elapsed


def gap_clustering(cfit, cval, cache: Path, missing: int = 15) -> dict:
    """Do the gap clusters recover missing articles? ``missing`` in-scope intents lose their
    articles; their held-out queries plus every `oos` query are clustered as the gap worklist
    would cluster them. ARI and purity are over the missing intents' queries (oos queries are
    many different needs, so they only count as noise that may pollute clusters)."""
    import random

    from sklearn.metrics import adjusted_rand_score

    from models.clustering import cluster
    from common.config import load
    from models.encoder import CachedEncoder, load_encoder

    intents = sorted({y for _, y in cfit if y != "oos"})
    gone = set(random.Random(11).sample(intents, missing))
    rows = [(t, y) for t, y in cval if y in gone or y == "oos"]
    settings = load()
    encoder = CachedEncoder(load_encoder(settings.encoder, settings.encoder_backend, settings.encoder_cache), cache)
    labels = cluster(encoder.encode([t for t, _ in rows]))
    truth = np.array([y for _, y in rows])
    inscope = truth != "oos"
    ari = adjusted_rand_score(truth[inscope], labels[inscope])
    sizes = defaultdict(int)
    for c in labels:
        sizes[c] += 1
    big = [c for c in set(labels) if sizes[c] >= 3]  # what the worklist shows (min_size 3)
    recovered, purity_num = 0, 0
    for c in big:
        members = truth[labels == c]
        top = max(set(members), key=lambda y: (members == y).sum())
        purity_num += int((members == top).sum())
    for intent in gone:
        in_intent = labels[truth == intent]
        main = max(set(in_intent), key=lambda c: (in_intent == c).sum())
        members = truth[labels == main]
        if (in_intent == main).mean() >= 0.5 and (members == intent).mean() >= 0.5 and sizes[main] >= 3:
            recovered += 1
    return {"missing_intents": missing, "queries_missing_intents": int(inscope.sum()),
            "oos_queries": int((~inscope).sum()), "clusters_size_3_plus": len(big),
            "ari_missing_intents": round(float(ari), 4),
            "purity_size_3_plus": round(purity_num / max(1, sum(sizes[c] for c in big)), 4),
            "intents_recovered": recovered,
            "oos_in_clusters_size_3_plus": round(float(np.mean([sizes[c] >= 3 for c in labels[~inscope]])), 4)}


def _clinc_rows(ds: Path, name: str) -> list[tuple[str, str]]:
    return [(r["text"], r["intent"]) for r in csv.DictReader(open(ds / "clinc150" / name, newline=""))]


def gap_tradeoff(ds: Path, cache: Path) -> dict:
    """CLINC150 gaps on the dataset's own val.csv (3,000 in-scope queries, 100 `oos`), with every
    in-scope query of train.csv as resolved history: the trained point, and the trade-off with both
    gap thresholds (best suggestion score, similarity to the nearest resolved tickets) taken at
    other quantiles of the resolved validation-slice tickets."""
    from kb.suggest import GAP_MIN_HISTORY

    fit, val = _clinc_rows(ds, "train.csv"), _clinc_rows(ds, "val.csv")
    labels = sorted({y for _, y in fit if y != "oos"})
    familiarity: list = []
    dec, report, _ = run(labels, [(t, y) for t, y in fit if y != "oos"], val, encoder_cache=cache,
                         familiarity=familiarity)
    similarity, history = familiarity
    oos = np.array([y == "oos" for _, y in val])
    best = np.array([d["suggestions"][0]["score"] if d["suggestions"] else 0.0 for d in dec])
    known = np.array([bool(d["suggestions"]) and history.get(d["suggestions"][0]["article_id"], 0) >= GAP_MIN_HISTORY
                      for d in dec])
    gap = np.array([d["gap"] for d in dec])
    curve = []
    for q, (score_t, similarity_t) in report["suggestions"]["gap_thresholds_by_quantile"].items():
        both = (best < score_t) | ((similarity < similarity_t) & known)
        alone = best < score_t
        curve.append({"quantile": float(q),
                      "oos_flagged": round(float(both[oos].mean()), 4), "inscope_flagged": round(float(both[~oos].mean()), 4),
                      "score_only_oos_flagged": round(float(alone[oos].mean()), 4),
                      "score_only_inscope_flagged": round(float(alone[~oos].mean()), 4)})
    inscope = np.flatnonzero(~oos)
    return {"inscope": hits([dec[i] for i in inscope], [val[i][1] for i in inscope]),
            "oos_flagged": round(float(gap[oos].mean()), 4), "inscope_flagged": round(float(gap[~oos].mean()), 4),
            "gap_thresholds": {k: report["suggestions"].get(k) for k in ("gap_threshold", "gap_similarity_threshold")},
            "tradeoff": curve}


def cold_gaps(labels, history, queries, cache: Path) -> dict:
    """Without resolved history (articles only, or ``history`` of unlinked past tickets): in-scope
    hits of ``queries``, the shares flagged as gaps, and the trade-off over the cold threshold on
    the best score (share of `oos` and of in-scope queries under each threshold)."""
    dec, report, _ = run(labels, history, queries, encoder_cache=cache)
    oos = np.array([y == "oos" for _, y in queries])
    inscope = np.flatnonzero(~oos)
    best = np.array([d["suggestions"][0]["score"] if d["suggestions"] else 0.0 for d in dec])
    gap = np.array([d["gap"] for d in dec])
    return {"inscope": hits([dec[i] for i in inscope], [queries[i][1] for i in inscope]),
            "adaptation": report.get("article_adaptation"),
            "oos_flagged": round(float(gap[oos].mean()), 4), "inscope_flagged": round(float(gap[~oos].mean()), 4),
            "tradeoff": [{"threshold": float(t), "oos_flagged": round(float((best[oos] < t).mean()), 4),
                          "inscope_flagged": round(float((best[~oos] < t).mean()), 4)}
                         for t in np.round(np.linspace(0.3, 0.6, 7), 3)]}


def cold_gap_check(ds: Path, cache: Path) -> dict:
    """The cold gap threshold (no resolved history, so the best score alone) on CLINC150's own
    val.csv, a file it was not chosen on: articles only, and with every train.csv query as a past
    ticket that no one linked to an article."""
    fit, val = _clinc_rows(ds, "train.csv"), _clinc_rows(ds, "val.csv")
    labels = sorted({y for _, y in fit if y != "oos"})
    return {name: cold_gaps(labels, history, val, cache)
            for name, history in (("articles_only", []), ("unlinked_history", [(t, None) for t, _ in fit]))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs"))
    parser.add_argument("--skip-curve", action="store_true")
    args = parser.parse_args(argv)
    ds = Path(args.datasets)
    if not (ds / "banking77" / "train.csv").exists():
        sys.exit(f"datasets not found at {ds} (give --datasets)")
    cache = Path(tempfile.mkdtemp(prefix="kbt-emb-")) / "emb.sqlite"
    out: dict = {"command": "python scripts/bench_suggest.py " + " ".join(argv if argv is not None else sys.argv[1:])}

    fit, val = split(ds / "banking77" / "train.csv", "category")
    labels = sorted({y for _, y in fit})
    truth = [y for _, y in val]
    cold, _, _ = run(labels, [], val, encoder_cache=cache)
    # Cold start with past tickets that nobody linked to an article (kb/adaptation.py).
    unlinked, unlinked_report, _ = run(labels, [(t, None) for t, _ in fit], val, encoder_cache=cache)
    warm, report, secs = run(labels, fit, val, encoder_cache=cache)
    from models.metrics import expected_calibration_error

    top_scores = [d["suggestions"][0]["score"] for d in warm if d["suggestions"]]
    top_right = [d["suggestions"][0]["article_id"] == y for d, (_, y) in zip(warm, val) if d["suggestions"]]
    all_scores = [s["score"] for d in warm for s in d["suggestions"]]
    all_right = [s["article_id"] == y for d, (_, y) in zip(warm, val) for s in d["suggestions"]]
    out["banking77"] = {"cold": hits(cold, truth),
                        "cold_with_unlinked_history": {**hits(unlinked, truth),
                                                       "adaptation": unlinked_report.get("article_adaptation")},
                        "warm": hits(warm, truth),
                        "warm_inscope_flagged": round(float(np.mean([d["gap"] for d in warm])), 4),
                        "warm_score_ece_top1": round(expected_calibration_error(top_scores, top_right), 4),
                        "warm_score_ece_all_suggestions": round(expected_calibration_error(all_scores, all_right), 4),
                        "training_slice_score_calibration": report.get("suggestions", {}).get("score_calibration"),
                        "triage_tickets_per_s": round(len(val) / secs, 1)}

    cfit, cval = split(ds / "clinc150" / "train.csv", "intent")
    clabels = sorted({y for _, y in cfit if y != "oos"})
    chist = [(t, y) for t, y in cfit if y != "oos"]
    dec, creport, _ = run(clabels, chist, cval, encoder_cache=cache)
    ctruth = [y for _, y in cval]
    inscope = [i for i, y in enumerate(ctruth) if y != "oos"]
    oos = [i for i, y in enumerate(ctruth) if y == "oos"]
    best = np.array([d["suggestions"][0]["score"] if d["suggestions"] else 0.0 for d in dec])
    curve = []
    for t in np.round(np.linspace(0.05, 0.9, 18), 3):
        curve.append({"threshold": float(t), "oos_flagged": round(float((best[oos] < t).mean()), 4),
                      "inscope_flagged": round(float((best[inscope] < t).mean()), 4)})
    out["clinc150"] = {
        "inscope": hits([dec[i] for i in inscope], [ctruth[i] for i in inscope]),
        "trained_gap_threshold": creport.get("suggestions", {}).get("gap_threshold"),
        "trained_gap_similarity_threshold": creport.get("suggestions", {}).get("gap_similarity_threshold"),
        "oos_flagged": round(float(np.mean([dec[i]["gap"] for i in oos])), 4),
        "inscope_flagged": round(float(np.mean([dec[i]["gap"] for i in inscope])), 4),
        "tradeoff": curve,
    }

    for name, history in (("clinc150_cold", []), ("clinc150_cold_with_unlinked_history", [(t, None) for t, _ in cfit])):
        out[name] = cold_gaps(clabels, history, cval, cache)

    out["clinc150_val_csv"] = gap_tradeoff(ds, cache)
    out["clinc150_val_csv_cold"] = cold_gap_check(ds, cache)
    out["clinc150_gap_clusters"] = gap_clustering(cfit, cval, cache)

    if not args.skip_curve:
        by_article = defaultdict(list)
        for t, y in fit:
            by_article[y].append((t, y))
        points = []
        for n in (0, 1, 3, 10, 30):
            history = [row for rows in by_article.values() for row in rows[:n]]
            decisions, _, _ = run(labels, history, val, encoder_cache=cache)
            points.append({"per_article": n, **hits(decisions, truth)})
        out["learning_curve_banking77"] = points
        out["learning_curve_png"] = line_plot(
            Path(args.out) / "learning_curve.png", [p["per_article"] for p in points],
            {"hit@1": [p["hit@1"] for p in points], "hit@3": [p["hit@3"] for p in points]},
            title="Banking77: suggestions learn from resolved tickets",
            xlabel="resolved tickets per article in history", ylabel="share of held-out tickets", symlog=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
