"""Cross-validation of the linear SVM: the stratified, shuffled folds every cross-validation in
the models uses, each fold's decision scores, the out-of-fold scores they add up to, and the
thread map that runs the folds side by side.

A class with fewer examples than folds (a desk's long tail: a new queue, a one-off label) cannot
be held out in every fold. Its examples are put in the training part of every fold and never
held out: the other classes are cross-validated as before, every fold's SVM knows every class
(so the folds' score columns line up), and the rare class's rows have no out-of-fold scores
(:func:`held_out` lists the rows that do).
"""
from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from models.calibration import two_columns

# liblinear's own cap on passes (scikit-learn's default ``max_iter``). Fits above
# models.classifier.SCREEN_WORK stop earlier on purpose (LOOSE_PASSES there, #30), where liblinear
# then says it "failed to converge": that is the point of the cap, so those fits do not show the
# warning (see _linear_svc). Below the bound (tol 1e-4) fits stop by the tolerance in 14-46 passes.
PASSES = 1000
_quiet = {"lock": threading.Lock(), "fits": 0, "filter": None}


@contextmanager
def _capped_quietly():
    """While a capped fit runs, liblinear's "failed to converge" warning is ignored. The filter is
    installed by the first capped fit and removed by the last (``warnings.catch_warnings`` is not
    safe across the threads the fits run on)."""
    with _quiet["lock"]:
        if _quiet["fits"] == 0:
            warnings.filterwarnings("ignore", message="Liblinear failed to converge", category=ConvergenceWarning)
            _quiet["filter"] = warnings.filters[0]
        _quiet["fits"] += 1
    try:
        yield
    finally:
        with _quiet["lock"]:
            _quiet["fits"] -= 1
            if _quiet["fits"] == 0 and _quiet["filter"] in warnings.filters:
                warnings.filters.remove(_quiet["filter"])
                warnings._filters_mutated()


def _linear_svc(X, y, *, C: float, class_weight=None, tol: float = 1e-4, max_iter: int = PASSES) -> LinearSVC:
    """``LinearSVC(...).fit(X, y)``; stopped after ``max_iter`` passes without a warning when capped."""
    svc = LinearSVC(C=C, class_weight=class_weight, tol=tol, max_iter=max_iter)
    if max_iter >= PASSES:
        return svc.fit(X, y)
    with _capped_quietly():
        return svc.fit(X, y)


def cv_decision_scores(X, y, *, C: float, cv: int, class_weight=None, n_jobs: int | None = None,
                       tol: float = 1e-4, max_iter: int = PASSES) -> np.ndarray:
    """Out-of-fold decision scores of a linear SVM (stratified, shuffled with a fixed seed); the
    rows of classes too rare to hold out (see :func:`held_out`) are zeros."""
    y = np.asarray(y)
    splits = folds(y, cv)
    parts = map_threads(lambda split: fold_scores(X, y, split, C=C, class_weight=class_weight, tol=tol,
                                                   max_iter=max_iter), splits, n_jobs)
    return out_of_fold(splits, parts)


def fold_scores(X, y, split, *, C: float, class_weight=None, tol: float = 1e-4, max_iter: int = PASSES) -> np.ndarray:
    """Decision scores on the split's test rows of a linear SVM fitted on its train rows (stopping
    at ``tol``, liblinear's tolerance, or after ``max_iter`` passes)."""
    train, test = split
    svc = _linear_svc(X[train], y[train], C=C, class_weight=class_weight, tol=tol, max_iter=max_iter)
    return two_columns(svc.decision_function(X[test]))


REST = "\x00rest"  # the label of "every other class" in a share of the classes (no real label starts with NUL)


def fit_svc(X, y, *, C: float, class_weight=None, tol: float = 1e-4, n_jobs: int | None = None,
            max_iter: int = PASSES) -> LinearSVC:
    """A one-vs-rest LinearSVC on ``X``, ``y``; with ``n_jobs`` above 1 and many classes, fitted in
    shares of the classes side by side (liblinear fits one problem at a time, on one core).

    One-vs-rest fits each class against all the others, whatever their labels: so a fit on the
    labels of one share of the classes, the others all relabelled ``REST``, gives exactly the
    share's problems (plus one for ``REST``, discarded). Two shares on two threads halve the wall
    time of a 100-queue fit for 2% more work (#30). Classes weighted by their size
    (``class_weight``) are fitted in one piece: the relabelling would change their weights."""
    y = np.asarray(y)
    classes = np.unique(y)
    shares = class_shares(len(classes), n_jobs, class_weight)
    if shares < 2:
        return _linear_svc(X, y, C=C, class_weight=class_weight, tol=tol, max_iter=max_iter)
    groups = np.array_split(np.arange(len(classes)), shares)
    code = np.searchsorted(classes, y)

    def one(group):
        mine = np.isin(code, group)
        return _linear_svc(X, np.where(mine, y, REST), C=C, tol=tol, max_iter=max_iter)

    parts = map_threads(one, groups, shares)
    svc = LinearSVC(C=C, tol=tol, max_iter=max_iter)
    coef, intercept = np.zeros((len(classes), X.shape[1])), np.zeros(len(classes))
    for group, part in zip(groups, parts):
        rows = np.searchsorted(part.classes_, classes[group])  # REST sorts first, its row is dropped
        coef[group], intercept[group] = part.coef_[rows], part.intercept_[rows]
    svc.coef_, svc.intercept_, svc.classes_ = coef, intercept, classes
    svc.n_features_in_ = X.shape[1]
    svc.n_iter_ = max(int(np.max(part.n_iter_)) for part in parts)
    return svc


# Below this many classes per share a fit is not split (the extra REST problem would cost more
# than a share saves: with two classes there is one problem to fit).
SHARE_MIN = 8


def class_shares(n_classes: int, n_jobs: int | None, class_weight=None) -> int:
    """How many shares of the classes :func:`fit_svc` fits side by side (1: in one piece)."""
    if class_weight is not None:
        return 1
    return max(1, min(n_jobs if n_jobs and n_jobs > 0 else 1, n_classes // SHARE_MIN))


def out_of_fold(splits, parts) -> np.ndarray:
    """Every row's scores from the fold that held it out (zeros for rows no fold held out)."""
    train, test = splits[0]
    scores = np.zeros((len(train) + len(test), parts[0].shape[1]))  # every fold covers every row
    for (_, test), part in zip(splits, parts):
        scores[test] = part
    return scores


def held_out(splits) -> np.ndarray:
    """The rows some fold held out, in order (every row but those of classes too rare to fold)."""
    return np.sort(np.concatenate([test for _, test in splits]))


def folds(y, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stratified, shuffled folds (fixed seed) every cross-validation here uses; rows of
    classes with fewer than ``n_splits`` examples are in every fold's training part, never held out."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    labels, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    rare = counts[inverse] < n_splits
    if not rare.any():
        return list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    common, always = np.flatnonzero(~rare), np.flatnonzero(rare)
    splits = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0).split(np.zeros(len(common)), y[common])
    return [(np.sort(np.concatenate([common[train], always])), common[test]) for train, test in splits]


def foldable(y, cv: int) -> int:
    """The number of folds to cross-validate ``y`` with: ``cv``, or fewer when fewer than two
    classes have ``cv`` examples (0: not even two classes have two, nothing can be validated)."""
    counts = np.sort(np.unique(np.asarray(y), return_counts=True)[1])[::-1]
    second = int(counts[1]) if len(counts) > 1 else 0
    folds_ = min(cv, second)
    return folds_ if folds_ >= 2 else 0


def map_threads(fn, items: list, n_jobs: int | None) -> list:
    """``[fn(item) for item in items]`` on up to ``n_jobs`` threads (liblinear releases the GIL)."""
    if not items:
        return []
    if not n_jobs or n_jobs == 1 or len(items) == 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n_jobs if n_jobs > 0 else 2, len(items))) as pool:
        return list(pool.map(fn, items))
