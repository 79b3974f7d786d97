"""The article side of a version: the history model that suggests articles from past resolved
tickets, its calibrated scores and gap thresholds, and the tier combiner that reads the best
article's score beside the tier model."""
from __future__ import annotations

import numpy as np

from application.model_selection import (
    fit_probe,
    fit_served,
    routing_report,
    selection_report,
    served_early,
    validation_split,
)
from kb import service as kb_service
from kb.suggest import GAP_NEIGHBOURS, GAP_QUANTILE, fuse, warm_probabilities
from models.calibration import ScoreCalibrator, tier_features
from models.metrics import classification_report, expected_calibration_error
from models.neighbours import mean_nearest_similarity
from triage import routing


def _ranked(session, store, article_model, texts, emb, k, adaptation=None) -> list[list[dict]]:
    """Suggestions for each text, as the engine ranks them (passages fused with history)."""
    cold = kb_service.search_passages(session=session, store=store, vectors=emb, texts=texts, k=20,
                                      adaptation=adaptation)
    warm = warm_probabilities(article_model, texts, emb)
    return [fuse(c, w, k) for c, w in zip(cold, warm)]


def best_match_scores(session, store, article_model, texts, emb, k, adaptation=None) -> np.ndarray:
    """Score of each text's best article suggestion (0 when nothing matches)."""
    ranked = _ranked(session, store, article_model, texts, emb, k, adaptation)
    return np.array([r[0]["score"] if r else 0.0 for r in ranked])


def suggestion_scores(session, store, model, texts, emb, truth, k) -> tuple[dict, list[list[dict]]]:
    ranked = _ranked(session, store, model, texts, emb, k)
    top = [([s["article_id"] for s in r] + [None] * 3)[:3] for r in ranked]
    report = {"n": len(truth),
              "hit@1": round(float(np.mean([h[0] == t for h, t in zip(top, truth)])), 4),
              "hit@3": round(float(np.mean([t in h for h, t in zip(top, truth)])), 4)}
    return report, ranked


def _suggestion_calibrator(ranked, truth, report) -> ScoreCalibrator | None:
    """Fit score -> P(this article resolves the ticket) on every shown suggestion of the slice
    tickets; report ECE before and after (after: out-of-fold, so the figure is honest)."""
    from sklearn.model_selection import StratifiedKFold

    scores = np.array([s["score"] for r in ranked for s in r])
    right = np.array([int(s["article_id"] == t) for r, t in zip(ranked, truth) for s in r])
    if len(right) < 20 or min(right.sum(), len(right) - right.sum()) < 5:
        return None
    held_out = np.zeros(len(scores))
    for fit, test in StratifiedKFold(5, shuffle=True, random_state=0).split(scores, right):
        held_out[test] = ScoreCalibrator().fit(scores[fit], right[fit]).predict(scores[test])
    report["score_calibration"] = {
        "suggestions": int(len(right)),
        "ece_raw": round(expected_calibration_error(scores, right), 4),
        "ece_calibrated": round(expected_calibration_error(held_out, right), 4)}
    return ScoreCalibrator().fit(scores, right)


def fit_articles(*, session, store, ids, texts, emb, labels, k, progress, features, matrix, jobs, reuse=None):
    """History model for suggestions, its slice report and the gap thresholds: GAP_QUANTILE of
    the best suggestion score, and of the similarity to the nearest resolved tickets, among
    slice tickets that an article did resolve."""
    fit_idx, val_idx = validation_split(ids, labels)
    probe, refit, report, slice_data, calibrator = None, {}, {}, None, None
    gap = {"gap_threshold": 0.0, "gap_similarity_threshold": None}
    served = served_early(features, matrix, labels, reuse, jobs)
    if len(val_idx):
        progress(f"articles: learning from {len(fit_idx)} resolved tickets, validating on {len(val_idx)}")
        probe, refit = fit_probe(features, matrix, labels, fit_idx, jobs, reuse)
        val_texts, truth = [texts[i] for i in val_idx], [labels[i] for i in val_idx]
        report, ranked = suggestion_scores(session, store, probe, val_texts, emb[val_idx], truth, k)
        calibrator = _suggestion_calibrator(ranked, truth, report)
        best = np.array([r[0]["score"] if r else 0.0 for r in ranked])
        best = calibrator.predict(best) if calibrator else best
        similarity = mean_nearest_similarity(emb[val_idx], emb[fit_idx], GAP_NEIGHBOURS)
        gap = {"gap_threshold": float(np.quantile(best, GAP_QUANTILE)),
               "gap_similarity_threshold": float(np.quantile(similarity, GAP_QUANTILE))}
        report.update({name: round(value, 4) for name, value in gap.items()})
        # Both thresholds at other quantiles: the gap trade-off a deployment could choose from.
        report["gap_thresholds_by_quantile"] = {
            str(q): [round(float(np.quantile(best, q)), 4), round(float(np.quantile(similarity, q)), 4)]
            for q in (0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.12)}
        # Resolved slice tickets that either test flags (the share of false gaps to expect).
        report["gap_flagged"] = round(float(np.mean((best < gap["gap_threshold"])
                                                    | (similarity < gap["gap_similarity_threshold"]))), 4)
        report["model_selection"] = selection_report(probe, refit, reuse, len(labels))
        slice_data = (val_texts, emb[val_idx], truth)
    progress(f"articles: fitting the served history model on {len(labels)} resolved tickets")
    model = served.result() if served is not None else fit_served(features, matrix, labels, refit)
    return model, probe, report, gap, slice_data, calibrator


def fit_tier_combiner(*, session, store, tier_probe, tier_slice, article_probe, k, report, target_precision,
                   adaptation=None, rules=None):
    """Blend the tier model with the strength of the best KB match (a strong match argues for
    L1), fitted on the validation slice that neither the tier nor the article probe saw."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    texts, emb, truth = tier_slice
    classes = list(tier_probe.classes_)
    if len(classes) != 2 or len(set(truth)) != 2 or min(np.unique(truth, return_counts=True)[1]) < 5:
        return None
    features = tier_features(tier_probe.predict_proba(texts, embeddings=emb)[:, 1],
                             best_match_scores(session, store, article_probe, texts, emb, k, adaptation))
    target = (truth == classes[1]).astype(int)
    combiner = LogisticRegression(C=1.0)
    held_out = cross_val_predict(combiner, features, target, cv=5, method="predict_proba")[:, 1]
    pred = np.where(held_out >= 0.5, classes[1], classes[0])
    conf = np.maximum(held_out, 1 - held_out)
    rep = classification_report(truth, pred, conf)
    kept = routing.outcomes(conf, pred, truth)
    thresholds = routing.thresholds(kept, target_precision, rules)
    rep.update(routing_report(thresholds))
    report["validation_with_kb_match"] = rep
    return combiner.fit(features, target), thresholds, kept
