"""Cross-validation of the linear SVM: the stratified, shuffled folds every cross-validation in
the models uses, each fold's decision scores, the out-of-fold scores they add up to, and the
thread map that runs the folds side by side.
"""
from __future__ import annotations

import numpy as np
from sklearn.svm import LinearSVC

from models.calibration import two_columns


def cv_decision_scores(X, y, *, C: float, cv: int, class_weight=None, n_jobs: int | None = None) -> np.ndarray:
    """Out-of-fold decision scores of a linear SVM (stratified, shuffled with a fixed seed)."""
    y = np.asarray(y)
    splits = folds(y, cv)
    parts = map_threads(lambda split: fold_scores(X, y, split, C=C, class_weight=class_weight), splits, n_jobs)
    return out_of_fold(splits, parts)


def fold_scores(X, y, split, *, C: float, class_weight=None) -> np.ndarray:
    """Decision scores on the split's test rows of a linear SVM fitted on its train rows."""
    train, test = split
    svc = LinearSVC(C=C, class_weight=class_weight).fit(X[train], y[train])
    return two_columns(svc.decision_function(X[test]))


def out_of_fold(splits, parts) -> np.ndarray:
    """Every row's scores from the fold that held it out."""
    scores = np.zeros((sum(len(test) for _, test in splits), parts[0].shape[1]))
    for (_, test), part in zip(splits, parts):
        scores[test] = part
    return scores


def folds(y, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stratified, shuffled folds (fixed seed) every cross-validation here uses."""
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


def map_threads(fn, items: list, n_jobs: int | None) -> list:
    """``[fn(item) for item in items]`` on up to ``n_jobs`` threads (liblinear releases the GIL)."""
    if not items:
        return []
    if not n_jobs or n_jobs == 1 or len(items) == 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n_jobs if n_jobs > 0 else 2, len(items))) as pool:
        return list(pool.map(fn, items))
