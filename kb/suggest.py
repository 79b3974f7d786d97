"""Rank articles for a ticket by fusing passage retrieval (cold) with what history taught (warm).

Cold: hybrid (dense cosine + BM25) similarity between the ticket and each article's best passage.
Warm: the probability, from a classifier trained on past tickets each resolved by an article,
that the article resolves this ticket. The fused score is a convex mix of the warm probability
and a softmax over the cold similarities, so it stays in [0, 1]. Without history the ranking is
the cold similarity alone, which the engine shows capped at 1.
"""
from __future__ import annotations

import numpy as np

COLD_TEMPERATURE = 0.05
COLD_WEIGHT = 0.25


def cold_probabilities(cold: list[dict]) -> dict[str, float]:
    """Softmax of the retrieved articles' hybrid scores (sharp: a clear winner gets most mass)."""
    if not cold:
        return {}
    scores = np.array([c["score"] for c in cold]) / COLD_TEMPERATURE
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return {c["article_id"]: float(w) for c, w in zip(cold, weights)}


def fuse(cold: list[dict], warm: dict[str, float] | None, k: int) -> list[dict]:
    """Top ``k`` suggestions as dicts (article_id, score, cosine, title?, passage?), best first."""
    by_id = {c["article_id"]: c for c in cold}
    if not warm:
        return sorted(cold, key=lambda r: -r["score"])[:k]
    cold_p = cold_probabilities(cold)
    ids = set(cold_p) | {a for a, p in warm.items() if p > 1e-4}
    scored = []
    for aid in ids:
        score = (1 - COLD_WEIGHT) * warm.get(aid, 0.0) + COLD_WEIGHT * cold_p.get(aid, 0.0)
        base = by_id.get(aid, {"article_id": aid})
        scored.append({**base, "score": float(score)})
    return sorted(scored, key=lambda r: -r["score"])[:k]


# Content gaps with history: a ticket is also a gap when it is unlike every ticket an article
# resolved (the mean cosine of its GAP_NEIGHBOURS most similar ones, models.neighbours
# .mean_nearest_similarity, is below the version's
# threshold), unless its best article has fewer than GAP_MIN_HISTORY resolved tickets (a new
# article's tickets are unlike the history, and the article may well answer them). Both gap
# thresholds sit at GAP_QUANTILE of resolved validation tickets. On CLINC150's val.csv (3,000
# in-scope, 100 out-of-scope queries) the best score alone at its 5th percentile flagged 6.6% of
# in-scope and 82% of oos; both tests at their 1.5th flagged 4.0% and 89% (docs/benchmarks.md).
GAP_NEIGHBOURS = 5
GAP_MIN_HISTORY = 5
GAP_QUANTILE = 0.015


def warm_probabilities(model, texts, embeddings, proba=None) -> list[dict[str, float]]:
    """Per text, article id -> probability from the history-trained article model (``proba``:
    its predictions when the caller already has them)."""
    if model is None:
        return [None] * len(texts)
    if proba is None:
        proba = model.predict_proba(texts, embeddings=embeddings)
    classes = list(model.classes_)
    out = []
    for row in proba:
        top = np.argsort(-row)[:20]
        out.append({classes[i]: float(row[i]) for i in top})
    return out


# A past rejection counts against an article for tickets like the rejected one: at cosine
# REJECTION_FROM the penalty starts, and at REJECTION_FULL the article's score is multiplied by
# 1 - REJECTION_MAX. Only "not_related" and "related_but_not_answered" count ("outdated" says
# the article is right but stale: a job for the editor, see the article report).
REJECTION_FROM = 0.75
REJECTION_FULL = 0.95
REJECTION_MAX = 0.9
REJECTION_BELOW = 0.99  # a full-strength rejection scores this fraction of the row's lowest other suggestion
REJECTION_REASONS = ("not_related", "related_but_not_answered")


def rejection_memory(article_ids: list[str], vectors: np.ndarray, base: dict | None = None) -> dict | None:
    """The rejected (ticket embedding, article) pairs as the engine consults them: the vectors,
    and for each article the rows of its rejections; ``base``, an earlier memory, comes first."""
    if not article_ids:
        return base
    offset = len(base["vectors"]) if base else 0
    rows: dict[str, list[int]] = {aid: list(r) for aid, r in base["rows"].items()} if base else {}
    for row, aid in enumerate(article_ids):
        rows.setdefault(aid, []).append(offset + row)
    vectors = np.asarray(vectors, dtype=np.float32)
    return {"rows": {aid: np.array(r) for aid, r in rows.items()},
            "vectors": np.ascontiguousarray(np.vstack([base["vectors"], vectors]) if base else vectors)}


def apply_rejections(ranked: list[list[dict]], embeddings: np.ndarray, memory: dict | None) -> None:
    """Lower (in place) the score of suggestions that agents rejected for similar tickets, then
    re-sort each row; each changed suggestion records ``rejected_similar`` (the closest cosine)."""
    if not memory:
        return
    sims = np.asarray(embeddings, dtype=np.float32) @ memory["vectors"].T
    for row, ticket_sims in zip(ranked, sims):
        changed, full = False, []
        for s in row:
            rows = memory["rows"].get(s["article_id"])
            if rows is None:
                continue
            closest = float(ticket_sims[rows].max())
            strength = np.clip((closest - REJECTION_FROM) / (REJECTION_FULL - REJECTION_FROM), 0.0, 1.0)
            if strength > 0:
                s["score"] = float(s["score"] * (1 - REJECTION_MAX * strength))
                s["rejected_similar"] = round(closest, 4)
                changed = True
                if strength >= 1:
                    full.append(s)
        if full:
            # Rejected for a near-identical ticket: below every suggestion not rejected so, however
            # confident the model was in it.
            others = [r["score"] for r in row if "rejected_similar" not in r or r not in full]
            if others:
                floor = min(others) * REJECTION_BELOW
                for s in full:
                    s["score"] = min(s["score"], floor)
        if changed:
            row.sort(key=lambda r: -r["score"])
