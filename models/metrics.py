"""Evaluation measures shared by training reports and benchmarks."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support


def reliability_table(confidence, correct, bins: int = 15) -> list[dict]:
    """Equal-width confidence bins that hold predictions: per bin its ``edges``, ``n``, the mean
    confidence and the share correct (right-closed bins, the first one closed on both sides)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    return [{"edges": (float(edges[b]), float(edges[b + 1])), "n": int((idx == b).sum()),
             "confidence": float(confidence[idx == b].mean()), "accuracy": float(correct[idx == b].mean())}
            for b in range(bins) if (idx == b).any()]


def expected_calibration_error(confidence, correct, bins: int = 15) -> float:
    """ECE with equal-width confidence bins (Guo et al. 2017)."""
    total = len(confidence)
    return float(sum(row["n"] / total * abs(row["accuracy"] - row["confidence"])
                     for row in reliability_table(confidence, correct, bins))) if total else 0.0


def threshold_for_precision(confidence, correct, target: float, min_support: int = 20,
                            z: float = 0.0) -> tuple[float, float, float]:
    """Lowest confidence threshold whose accepted set reaches ``target`` precision.

    With ``z`` > 0 the accepted set's precision must reach the target with that margin: the lower
    end of its Wilson interval (z 1: a one-sided 84% bound) instead of the observed share. Picking
    the widest set whose observed precision just reaches the target favours sets that got lucky
    on the validation tickets, and more so the fewer there are (see triage/routing.py).

    Returns (threshold, precision, coverage); threshold is 1.01 (route nothing) when unreachable.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if not len(confidence):
        return 1.01, 1.0, 0.0
    order = np.argsort(-confidence, kind="stable")
    conf_sorted = confidence[order]
    n = np.arange(1, len(order) + 1)
    hits = np.cumsum(correct[order])
    precision = hits / n
    bound = wilson_lower(hits, n, z) if z > 0 else precision
    # A threshold must accept every item at or above it, so only cut between distinct values.
    cut = np.append(conf_sorted[1:] != conf_sorted[:-1], True)
    ok = np.flatnonzero(cut & (n >= min_support) & (bound >= target))
    if not len(ok):
        return 1.01, 1.0, 0.0
    i = ok[-1]
    return float(conf_sorted[i]), float(precision[i]), float(n[i] / len(order))


def classification_report(y_true, y_pred, confidence) -> dict:
    """Accuracy, macro-F1 and ECE of a set of predictions."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
        "ece": round(expected_calibration_error(confidence, y_true == y_pred), 4),
        "per_class": {str(c): {"precision": round(float(p), 4), "recall": round(float(r), 4),
                               "f1": round(float(f), 4), "support": int(n)}
                      for c, p, r, f, n in zip(labels, precision, recall, f1, support)},
    }


def wilson_lower(successes, n, z: float = 1.96):
    """Lower end of the Wilson score interval for ``successes`` of ``n`` (arrays or numbers)."""
    successes, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.maximum(0.0, centre - half)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (95% by default) for a proportion: ``(low, high)``; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    # The interval is symmetric under swapping successes and failures.
    return float(wilson_lower(successes, n, z)), float(1 - wilson_lower(n - successes, n, z))


def head_tail_f1(y_true, y_pred, train_counts: dict, tail_below: int = 20) -> dict:
    """Macro-F1 over the head classes and over the tail (fewer than ``tail_below`` training
    tickets) separately, each over the classes of its group that the truth or the predictions
    hold; a group with none is None."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    seen = set(y_true.tolist()) | set(y_pred.tolist())
    tail = sorted(c for c in seen if train_counts.get(c, 0) < tail_below)
    head = sorted(c for c in seen if train_counts.get(c, 0) >= tail_below)

    def macro(labels):
        return round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4) if labels else None

    return {"head_macro_f1": macro(head), "head_classes": len(head), "tail_macro_f1": macro(tail),
            "tail_classes": len(tail), "tail_below": tail_below,
            "tail_share_of_tickets": round(float(np.isin(y_true, tail).mean()), 4) if len(y_true) else None}
