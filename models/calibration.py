"""Turning scores into probabilities: the softmax temperature fitted on cross-validated scores
(optionally mixed with the nearest-neighbour vote), Platt scaling of ranking scores
(ScoreCalibrator), and the log-odds inputs of the tier combiner.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted


def positive_proba(model: LogisticRegression, X) -> np.ndarray:
    """A fitted binary LogisticRegression's ``predict_proba(X)[:, 1]``, the same figures without
    scikit-learn's per-call checks (about 0.3 ms a call, several calls a decision)."""
    return expit(np.asarray(X, dtype=float) @ model.coef_[0] + model.intercept_[0])


def softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def two_columns(scores: np.ndarray) -> np.ndarray:
    """Binary SVMs give one margin; make it two columns like the multi-class case."""
    return np.column_stack([-scores, scores]) / 2 if scores.ndim == 1 else scores


def fit_temperature(scores: np.ndarray, target: np.ndarray, votes: np.ndarray | None = None,
                    vote_weight: float = 0.0) -> float:
    """The softmax scale minimising the log-loss of ``scores`` against class indices ``target``
    (of the mixture ``(1 - vote_weight) * softmax + vote_weight * votes`` when votes are given)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        p = mix(softmax(scores * np.exp(log_t)), votes, vote_weight)
        return -np.mean(np.log(p[np.arange(len(target)), target] + 1e-12))

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 6), method="bounded").x))


def mix(proba: np.ndarray, votes: np.ndarray | None, weight: float) -> np.ndarray:
    """``(1 - weight) * proba + weight * votes``, where the share of the vote that no close
    neighbour claimed (``1 - votes.sum()``) follows ``proba``."""
    if votes is None or weight == 0:
        return proba
    unclaimed = 1.0 - votes.sum(axis=1, keepdims=True)
    return (1 - weight) * proba + weight * (votes + unclaimed * proba)


class ScoreCalibrator(BaseEstimator):
    """Turns a ranking score in [0, 1] into the probability that the item is right (Platt scaling:
    logistic regression on the score's log-odds), fitted on outcomes seen in history. Monotone,
    so rankings do not change; only what a score means does."""

    def __init__(self, C: float = 1.0):
        self.C = C

    @staticmethod
    def _logit(scores) -> np.ndarray:
        p = np.clip(np.asarray(scores, dtype=float).ravel(), 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p))[:, None]

    def fit(self, scores, outcomes):
        outcomes = np.asarray(outcomes, dtype=int).ravel()
        if len(set(outcomes.tolist())) < 2:
            raise ValueError("need both right and wrong outcomes to calibrate")
        self.model_ = LogisticRegression(C=self.C).fit(self._logit(scores), outcomes)
        return self

    def predict(self, scores) -> np.ndarray:
        check_is_fitted(self, "model_")
        return positive_proba(self.model_, self._logit(scores))


def tier_features(p_second: np.ndarray, best_match: np.ndarray) -> np.ndarray:
    """Inputs of the tier combiner: the tier model's log-odds and the best KB match score."""
    p = np.clip(np.asarray(p_second, dtype=float), 1e-4, 1 - 1e-4)
    return np.column_stack([np.log(p / (1 - p)), np.asarray(best_match, dtype=float)])
