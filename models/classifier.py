"""Text classifiers with calibrated probabilities, following scikit-learn conventions.

The default model joins sparse lexical features (TF-IDF over words and character n-grams) with a
dense sentence embedding computed outside the estimator (so the encoder is loaded once per
process and embeddings can be cached), and fits a linear SVM whose scores are calibrated by
cross-validation into probabilities.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

CALIBRATIONS = ("temperature", "sigmoid", "isotonic")


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


class TemperatureScaledSVC(ClassifierMixin, BaseEstimator):
    """A linear SVM fitted on all the data whose multi-class scores become probabilities through a
    softmax with one temperature, chosen to minimise the log-loss of cross-validated scores.

    Unlike CalibratedClassifierCV, the served model sees every training example, and a single
    shared temperature keeps the classes' probabilities comparable (Guo et al. 2017).
    """

    def __init__(self, C: float = 0.5, cv: int = 3, class_weight: str | None = None, scale: float | None = None):
        self.C = C
        self.cv = cv
        self.class_weight = class_weight
        self.scale = scale

    def fit(self, X, y):
        from scipy.optimize import minimize_scalar
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        svc = LinearSVC(C=self.C, class_weight=self.class_weight)
        if self.scale is not None:
            # Temperature already known (from a run on a subset of the same data): one fit.
            self.classes_ = np.unique(y)
            self.scale_ = float(self.scale)
            self.svc_ = svc.fit(X, y)
            return self
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=0)
        scores = cross_val_predict(svc, X, y, cv=folds, method="decision_function")
        self.classes_ = np.unique(y)
        if scores.ndim == 1:  # binary: one margin, make it two columns
            scores = np.column_stack([-scores, scores]) / 2
        target = np.searchsorted(self.classes_, y)

        def nll(log_t):
            p = _softmax(scores * np.exp(log_t))
            return -np.mean(np.log(p[np.arange(len(target)), target] + 1e-12))

        self.scale_ = float(np.exp(minimize_scalar(nll, bounds=(-3, 6), method="bounded").x))
        self.svc_ = svc.fit(X, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "svc_")
        scores = self.svc_.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores]) / 2
        return _softmax(scores * self.scale_)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class TextFeatures(TransformerMixin, BaseEstimator):
    """Word + char TF-IDF blocks and the weighted sentence embedding, side by side (sparse).

    Fitted once per training run and shared by the category, tier and article models, so a
    ticket's features are computed once per decision instead of once per model.
    """

    def __init__(self, embedding_weight: float = 2.0, char_ngrams: tuple | None = (2, 5),
                 word_ngrams: tuple = (1, 2), min_df: int = 1):
        self.embedding_weight = embedding_weight
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df

    def fit(self, X, y=None, embeddings=None):
        if self.embedding_weight < 0:
            raise ValueError(f"embedding_weight must be >= 0, got {self.embedding_weight!r}")
        texts = [str(t) for t in X]
        self.word_ = TfidfVectorizer(ngram_range=tuple(self.word_ngrams), sublinear_tf=True,
                                     min_df=self.min_df, lowercase=True).fit(texts)
        self.char_ = (TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams), sublinear_tf=True,
                                      min_df=self.min_df, lowercase=True).fit(texts)
                      if self.char_ngrams else None)
        return self

    def transform(self, X, embeddings=None):
        check_is_fitted(self, "word_")
        texts = [str(t) for t in X]
        blocks = [self.word_.transform(texts)]
        if self.char_ is not None:
            blocks.append(self.char_.transform(texts))
        if self.embedding_weight > 0:
            if embeddings is None:
                raise ValueError("embeddings are required when embedding_weight > 0")
            embeddings = np.asarray(embeddings, dtype=np.float32)
            if embeddings.shape[0] != len(texts):
                raise ValueError(f"got {embeddings.shape[0]} embeddings for {len(texts)} texts")
            blocks.append(sp.csr_matrix(embeddings * self.embedding_weight))
        return sp.hstack(blocks, format="csr")


class HybridTextClassifier(ClassifierMixin, BaseEstimator):
    """:class:`TextFeatures` -> linear SVM with temperature-scaled (calibrated) probabilities.

    ``features`` is an already fitted :class:`TextFeatures` to share with other models; without
    it the classifier fits its own from ``embedding_weight``, ``char_ngrams``, ``word_ngrams`` and
    ``min_df``. ``scale`` fixes the softmax temperature instead of fitting it by cross-validation
    (used to refit on all the data with the temperature found on a subset, at the cost of one fit).

    ``fit(X, y, embeddings=E)`` and ``predict_proba(X, embeddings=E)`` take the texts ``X`` and,
    when the embedding weight is above 0, their embeddings ``E`` (one row per text).
    """

    def __init__(self, C: float = 1.0, embedding_weight: float = 2.0, char_ngrams: tuple | None = (2, 5),
                 word_ngrams: tuple = (1, 2), calibration: str = "temperature", cv: int = 3,
                 class_weight: str | None = None, min_df: int = 1, scale: float | None = None,
                 features: TextFeatures | None = None):
        self.C = C
        self.embedding_weight = embedding_weight
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.calibration = calibration
        self.cv = cv
        self.class_weight = class_weight
        self.min_df = min_df
        self.scale = scale
        self.features = features

    def _check_params(self):
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}")
        if self.C <= 0:
            raise ValueError(f"C must be positive, got {self.C!r}")
        if self.scale is not None and self.scale <= 0:
            raise ValueError(f"scale must be positive, got {self.scale!r}")

    def fit(self, X, y, embeddings=None):
        self._check_params()
        y = np.asarray([str(v) for v in y])
        if len(set(y)) < 2:
            raise ValueError("need at least two classes to fit a classifier")
        if self.features is not None:
            check_is_fitted(self.features, "word_")
            self.features_ = self.features
        else:
            self.features_ = TextFeatures(self.embedding_weight, self.char_ngrams, self.word_ngrams,
                                          self.min_df).fit(X, embeddings=embeddings)
        features = self.features_.transform(X, embeddings)
        smallest = min(Counter(y).values())
        folds = min(self.cv, smallest)
        if folds >= 2 and self.calibration == "temperature":
            self.model_ = TemperatureScaledSVC(C=self.C, cv=folds, class_weight=self.class_weight, scale=self.scale)
        elif folds >= 2:
            base = LinearSVC(C=self.C, class_weight=self.class_weight)
            self.model_ = CalibratedClassifierCV(base, method=self.calibration, cv=folds)
        else:
            # Some class has a single example: cross-validated calibration is impossible, so use
            # a model that is probabilistic by construction.
            self.model_ = LogisticRegression(C=self.C * 20, max_iter=2000, class_weight=self.class_weight)
        self.model_.fit(features, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba_features(self, features) -> np.ndarray:
        """Probabilities from features already computed by ``self.features_``."""
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(features)

    def predict_proba(self, X, embeddings=None) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self.features_.transform(X, embeddings))

    def predict(self, X, embeddings=None) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X, embeddings), axis=1)]


def tier_features(p_second: np.ndarray, best_match: np.ndarray) -> np.ndarray:
    """Inputs of the tier combiner: the tier model's log-odds and the best KB match score."""
    p = np.clip(np.asarray(p_second, dtype=float), 1e-4, 1 - 1e-4)
    return np.column_stack([np.log(p / (1 - p)), np.asarray(best_match, dtype=float)])
