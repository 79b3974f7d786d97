"""Rank articles for a ticket by fusing passage retrieval (cold) with what history taught (warm).

Cold: cosine similarity between the ticket and each article's best passage.
Warm: the probability, from a classifier trained on past tickets each resolved by an article,
that the article resolves this ticket. The fused score is a convex mix of the warm probability
and a softmax over the cold similarities, so it stays in [0, 1] either way.
"""
from __future__ import annotations

import numpy as np

COLD_TEMPERATURE = 0.05
COLD_WEIGHT = 0.25


def cold_probabilities(cold: list[dict]) -> dict[str, float]:
    """Softmax of the retrieved articles' cosine scores (sharp: a clear winner gets most mass)."""
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
        ranked = [{**c, "cosine": c["score"]} for c in cold]
        return sorted(ranked, key=lambda r: -r["score"])[:k]
    cold_p = cold_probabilities(cold)
    ids = set(cold_p) | {a for a, p in warm.items() if p > 1e-4}
    scored = []
    for aid in ids:
        score = (1 - COLD_WEIGHT) * warm.get(aid, 0.0) + COLD_WEIGHT * cold_p.get(aid, 0.0)
        base = by_id.get(aid, {"article_id": aid})
        scored.append({**base, "score": float(score), "cosine": base.get("score")})
    return sorted(scored, key=lambda r: -r["score"])[:k]


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
