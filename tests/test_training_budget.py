"""Training cost above the work bound (#30): liblinear's passes are capped only there, and a retrain
whose fits run in shares of the classes fits the served model after the probe, on the same threads."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

import models.classifier as classifier
from application.model_selection import fit_served, served_early
from models import crossval
from models.classifier import HybridTextClassifier
from models.features import TextFeatures

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)


def _desk(classes: int, per_class: int = 12, seed: int = 3):
    """Texts of ``classes`` queues (each its own words, plus shared noise) and stand-in embeddings."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(400)]
    texts, labels = [], []
    for c in range(classes):
        own = words[c * 4:(c + 1) * 4]
        for _ in range(per_class):
            texts.append(" ".join(list(rng.choice(own, 3)) + list(rng.choice(words, 6))))
            labels.append(f"queue-{c:02d}")
    emb = rng.normal(size=(len(texts), 16)).astype(np.float32)
    return texts, np.array(labels), emb


def test_the_pass_cap_applies_above_the_work_bound_only(monkeypatch):
    texts, y, emb = _desk(6)
    below = HybridTextClassifier(embedding_weight=0, C=1.0).fit(texts, y)
    assert below.max_iter_ == crossval.PASSES and below.model_.max_iter == crossval.PASSES
    assert np.max(below.model_.svc_.n_iter_) < crossval.PASSES  # stopped by the tolerance, as before
    # Below the bound the served SVM is the one scikit-learn's defaults give on the same rows (up to
    # liblinear's random order of the examples, seeded anew on every fit).
    rows = below.features_.transform(texts)
    default = LinearSVC(C=1.0).fit(rows, y)
    assert np.allclose(below.model_.svc_.coef_, default.coef_, atol=1e-4)
    assert (below.model_.svc_.predict(rows) == default.predict(rows)).all()

    monkeypatch.setattr(classifier, "PASS_CAP_WORK", 10)
    monkeypatch.setattr(classifier, "DEFAULT_TOL", 1e-12)  # so that the cap, not the tolerance, stops it
    with warnings.catch_warnings(record=True) as shown:
        above = HybridTextClassifier(embedding_weight=0, C=1.0).fit(texts, y)
    # The cap stops liblinear on purpose: no "failed to converge" warning in the training's log.
    assert not [w for w in shown if issubclass(w.category, ConvergenceWarning)]
    assert above.max_iter_ == classifier.LOOSE_PASSES and above.model_.max_iter == classifier.LOOSE_PASSES
    assert np.max(above.model_.svc_.n_iter_) == classifier.LOOSE_PASSES
    # ... and still decides its training tickets as the uncapped model does.
    assert (above.predict(texts) == below.predict(texts)).mean() >= 0.95


@pytest.mark.parametrize("classes", [20, 6])
def test_a_reused_retrain_fits_the_served_model_after_the_probe_when_it_is_split(classes):
    texts, y, emb = _desk(classes)
    features = TextFeatures(embedding_weight=1.0)
    matrix = features.fit_transform(texts, embeddings=emb)
    reuse = {"C": 0.3, "embedding_weight": 1.0, "knn_weight": 0.0, "scale": 3.0}
    served = served_early(features, matrix, list(y), reuse, jobs=2)
    split = crossval.class_shares(classes, 2) > 1
    # Split in shares (20 queues) the probe keeps both threads busy: the served fit waits for it.
    # In one piece (6 queues) it runs in a thread beside the probe, as before.
    assert split == (classes >= 2 * crossval.SHARE_MIN)
    assert (type(served).__name__ == "_Later") == split
    if split:
        served.start()  # as fit_labelled does once the probe is fitted
    model = served.result()
    alone = fit_served(features, matrix, list(y), {**reuse, "n_jobs": 2 if split else None})
    assert list(model.classes_) == list(alone.classes_)
    assert np.allclose(model.model_.svc_.coef_, alone.model_.svc_.coef_, atol=1e-3)
    assert model.model_.scale_ == 3.0 and model.model_.n_jobs == (2 if split else None)
