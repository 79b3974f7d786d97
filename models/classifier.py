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

from common.threads import FEW_QUERIES, faiss_threads_for

CALIBRATIONS = ("temperature", "sigmoid", "isotonic")
# Above this many rows, model selection screens the candidates on one fold (see _select). On
# it_tickets (25k rows) one fold picked C 1 over C 0.3 and cost 0.3 points of held-back accuracy
# (docs/benchmarks.md), so screening is kept for data sets where the full search gets expensive.
SCREEN_ABOVE = 50_000


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def _two_columns(scores: np.ndarray) -> np.ndarray:
    """Binary SVMs give one margin; make it two columns like the multi-class case."""
    return np.column_stack([-scores, scores]) / 2 if scores.ndim == 1 else scores


def cv_decision_scores(X, y, *, C: float, cv: int, class_weight=None, n_jobs: int | None = None) -> np.ndarray:
    """Out-of-fold decision scores of a linear SVM (stratified, shuffled with a fixed seed)."""
    y = np.asarray(y)
    splits = _folds(y, cv)
    parts = _map_threads(lambda split: _fold_scores(X, y, split, C=C, class_weight=class_weight), splits, n_jobs)
    return _out_of_fold(splits, parts)


def _fold_scores(X, y, split, *, C: float, class_weight=None) -> np.ndarray:
    """Decision scores on the split's test rows of a linear SVM fitted on its train rows."""
    train, test = split
    svc = LinearSVC(C=C, class_weight=class_weight).fit(X[train], y[train])
    return _two_columns(svc.decision_function(X[test]))


def _out_of_fold(splits, parts) -> np.ndarray:
    """Every row's scores from the fold that held it out."""
    scores = np.zeros((sum(len(test) for _, test in splits), parts[0].shape[1]))
    for (_, test), part in zip(splits, parts):
        scores[test] = part
    return scores


def _folds(y, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stratified, shuffled folds (fixed seed) every cross-validation here uses."""
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


def _map_threads(fn, items: list, n_jobs: int | None) -> list:
    """``[fn(item) for item in items]`` on up to ``n_jobs`` threads (liblinear releases the GIL)."""
    if not items:
        return []
    if not n_jobs or n_jobs == 1 or len(items) == 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n_jobs if n_jobs > 0 else 2, len(items))) as pool:
        return list(pool.map(fn, items))


def fit_temperature(scores: np.ndarray, target: np.ndarray, votes: np.ndarray | None = None,
                    vote_weight: float = 0.0) -> float:
    """The softmax scale minimising the log-loss of ``scores`` against class indices ``target``
    (of the mixture ``(1 - vote_weight) * softmax + vote_weight * votes`` when votes are given)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        p = _mix(_softmax(scores * np.exp(log_t)), votes, vote_weight)
        return -np.mean(np.log(p[np.arange(len(target)), target] + 1e-12))

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 6), method="bounded").x))


def _mix(proba: np.ndarray, votes: np.ndarray | None, weight: float) -> np.ndarray:
    """``(1 - weight) * proba + weight * votes``, where the share of the vote that no close
    neighbour claimed (``1 - votes.sum()``) follows ``proba``."""
    if votes is None or weight == 0:
        return proba
    unclaimed = 1.0 - votes.sum(axis=1, keepdims=True)
    return (1 - weight) * proba + weight * (votes + unclaimed * proba)


# A neighbour at this cosine weighs as much as "no neighbour": closer ones outvote it, farther
# ones leave the vote to the model. Absolute, not relative to the nearest: a ticket unlike every
# past one (a content gap) gets no confident vote. On CLINC150 the relative vote lowered the
# separation of out-of-scope queries (AUC of the best probability 0.986 -> 0.974); this one kept it (0.985).
VOTE_REFERENCE = 0.7
# Above this many past tickets the vote searches an HNSW graph over them (KeyGraph) instead of
# reading every key: one ticket's vote over it_tickets' 30,615 keys took 3.2-3.6 ms exact and 0.32
# ms on the graph (recall@20 0.994, held-back accuracy unchanged; banking77's 8,002 keys 0.6-1.2
# vs 0.15 ms, recall@20 0.9994; docs/benchmarks.md). Below it, reading every key is cheap and exact.
VOTE_GRAPH_ABOVE = 5_000
GRAPH_M, GRAPH_EF_CONSTRUCTION, GRAPH_EF_SEARCH = 32, 80, 128


class KeyGraph:
    """An HNSW graph (faiss ``IndexHNSWFlat``, inner product) over the vote's keys: the most similar
    keys of a query without reading every key. It holds the keys itself; pickling carries it as
    faiss's serialised bytes, so a model bundle keeps it."""

    def __init__(self, keys: np.ndarray):
        import faiss

        keys = np.ascontiguousarray(keys, dtype=np.float32)
        self.index_ = faiss.IndexHNSWFlat(keys.shape[1], GRAPH_M, faiss.METRIC_INNER_PRODUCT)
        self.index_.hnsw.efConstruction = GRAPH_EF_CONSTRUCTION
        self.index_.add(keys)
        self.index_.hnsw.efSearch = GRAPH_EF_SEARCH

    def __len__(self) -> int:
        return int(self.index_.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, key rows) of each query's ``k`` nearest keys; row -1 where the graph found fewer."""
        with faiss_threads_for(len(queries)):
            return self.index_.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def __getstate__(self) -> dict:
        import faiss

        return {"index": faiss.serialize_index(self.index_)}

    def __setstate__(self, state: dict) -> None:
        import faiss

        self.index_ = faiss.deserialize_index(state["index"])
        self.index_.hnsw.efSearch = GRAPH_EF_SEARCH


def vote_keys(embeddings: np.ndarray) -> "np.ndarray | KeyGraph":
    """What a model keeps to vote with: the keys themselves, or a KeyGraph over many of them."""
    keys = np.ascontiguousarray(embeddings, dtype=np.float32)
    return KeyGraph(keys) if len(keys) > VOTE_GRAPH_ABOVE else keys


def nearest_votes(queries: np.ndarray, keys: "np.ndarray | KeyGraph", key_labels: np.ndarray, n_classes: int, *,
                  k: int = 20, temperature: float = 0.05, reference: float = VOTE_REFERENCE,
                  chunk: int = 2048) -> np.ndarray:
    """Each query's votes per class from its ``k`` most similar keys (cosine of normalised
    embeddings; ``keys`` is an array, read in full, or a :class:`KeyGraph`): a neighbour at
    similarity s weighs exp((s - reference) / temperature), and the votes are shares of
    (total weight + k), so rows sum to less than 1 when neighbours are far."""
    out = np.zeros((len(queries), n_classes))
    k = min(k, len(keys))
    if k == 0:
        return out
    for start in range(0, len(queries), chunk):
        near, top = nearest_keys(queries[start:start + chunk], keys, k)
        weights = np.where(top >= 0, np.exp((near - reference) / temperature), 0.0)
        weights /= weights.sum(axis=1, keepdims=True) + k
        rows = np.repeat(np.arange(len(top)), k)
        np.add.at(out[start:start + chunk], (rows, key_labels[np.maximum(top, 0)].ravel()), weights.ravel())
    return out


def nearest_keys(queries: np.ndarray, keys: "np.ndarray | KeyGraph", k: int) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, key rows) of each query's ``k`` most similar keys (``k`` at most the number
    of keys; row -1 where a graph found fewer)."""
    part = np.ascontiguousarray(queries, dtype=np.float32)
    if isinstance(keys, KeyGraph):
        return keys.search(part, k)
    if len(part) < FEW_QUERIES:
        # A BLAS product would leave an OpenBLAS worker busy-waiting on the other core for
        # ~0.1 s, slowing the encoder of the next ticket; faiss scores a few queries on the
        # calling thread (docs/benchmarks.md, single-ticket latency).
        import faiss

        with faiss_threads_for(len(part)):
            return faiss.knn(part, np.ascontiguousarray(keys, dtype=np.float32), k, metric=faiss.METRIC_INNER_PRODUCT)
    sims = part @ keys.T
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return np.take_along_axis(sims, top, axis=1), top


def mean_nearest_similarity(queries: np.ndarray, keys: "np.ndarray | KeyGraph", k: int) -> np.ndarray:
    """Mean similarity of each query to its ``k`` most similar keys (how familiar it looks)."""
    out = np.zeros(len(queries))
    k = min(k, len(keys))
    if k == 0:
        return out
    for start in range(0, len(queries), 1024):  # bounds the similarity block a batch reads at once
        near, top = nearest_keys(queries[start:start + 1024], keys, k)
        out[start:start + 1024] = np.where(top >= 0, near, 0.0).mean(axis=1)
    return out


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

    def fit(self, X, y, cv_scores: np.ndarray | None = None):
        """``cv_scores``: cross-validated decision scores of this very model on ``X`` when the
        caller already has them (model selection computes them), to fit the temperature from."""
        svc = LinearSVC(C=self.C, class_weight=self.class_weight)
        self.classes_ = np.unique(y)
        if self.scale is not None:
            # Temperature already known (from a run on a subset of the same data): one fit.
            self.scale_ = float(self.scale)
        else:
            if cv_scores is None:
                cv_scores = cv_decision_scores(X, y, C=self.C, cv=self.cv, class_weight=self.class_weight)
            self.scale_ = fit_temperature(cv_scores, np.searchsorted(self.classes_, y))
        self.svc_ = svc.fit(X, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "svc_")
        return _softmax(_two_columns(self._decision_function(X)) * self.scale_)

    def _decision_function(self, X) -> np.ndarray:
        """The SVM's scores; for a few sparse rows computed directly, skipping scikit-learn's
        input checks (0.6 ms of a single decision against 0.04 for the product itself)."""
        coef = self.svc_.coef_
        if sp.issparse(X) and X.shape[0] < FEW_QUERIES and X.shape[1] == coef.shape[1]:
            scores = np.asarray(X @ coef.T) + self.svc_.intercept_
            return scores.ravel() if scores.shape[1] == 1 else scores
        return self.svc_.decision_function(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _tfidf_rows(vectorizer: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for a few texts, without scikit-learn's per-call checks,
    which cost more than the counting itself for one short ticket (1.7 ms vs 0.65 for the word and
    character blocks; docs/benchmarks.md). Same rows (a test compares them); configurations other
    than the one used here go to ``transform``."""
    if vectorizer.binary or not vectorizer.use_idf or vectorizer.norm != "l2":
        return vectorizer.transform(texts)
    analyze, vocabulary, idf = vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_
    indptr, indices, data = [0], [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
    for text in texts:
        counts = Counter(j for j in map(vocabulary.get, analyze(text)) if j is not None)
        columns = np.array(sorted(counts), dtype=np.int64)
        values = np.array([counts[j] for j in columns], dtype=np.float64)
        if vectorizer.sublinear_tf:
            values = np.log(values) + 1
        values *= idf[columns]
        norm = np.sqrt(values @ values)
        if norm > 0:
            values /= norm
        indices.append(columns)
        data.append(values)
        indptr.append(indptr[-1] + len(columns))
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                         shape=(len(texts), len(vocabulary)))


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
        self.fit_transform(X, y, embeddings=embeddings)
        return self

    def fit_transform(self, X, y=None, embeddings=None):
        """Fit and return the features of ``X`` in one pass over the texts."""
        return self.join(self.fit_lexical(X, embeddings=embeddings), embeddings)

    def fit_lexical(self, X, embeddings=None):
        """Fit the TF-IDF blocks on ``X`` and return their rows (no embedding columns); the
        embeddings' width is recorded so that :meth:`join` can add them later."""
        if self.embedding_weight < 0:
            raise ValueError(f"embedding_weight must be >= 0, got {self.embedding_weight!r}")
        texts = [str(t) for t in X]
        self.word_ = TfidfVectorizer(ngram_range=tuple(self.word_ngrams), sublinear_tf=True,
                                     min_df=self.min_df, lowercase=True)
        blocks = [self.word_.fit_transform(texts)]
        self.char_ = None
        if self.char_ngrams:
            self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams), sublinear_tf=True,
                                         min_df=self.min_df, lowercase=True)
            blocks.append(self.char_.fit_transform(texts))
        self.n_embedding_ = int(np.asarray(embeddings).shape[1]) if self.embedding_weight > 0 and embeddings is not None else 0
        return sp.hstack(blocks, format="csr")

    def reweight(self, features, embedding_weight: float):
        """``features`` from :meth:`transform` with the embedding block at ``embedding_weight``
        instead of this extractor's own weight (how models sharing it pick their own weight)."""
        if self.n_embedding_ == 0 or embedding_weight == self.embedding_weight:
            return features
        out = sp.csr_matrix(features, copy=True)
        # Scale only the stored entries of the embedding columns (the last n_embedding_).
        out.data[out.indices >= out.shape[1] - self.n_embedding_] *= embedding_weight / self.embedding_weight
        return out

    def transform(self, X, embeddings=None):
        return self.join(self.lexical(X), embeddings)

    def lexical(self, X):
        """The TF-IDF rows of ``X`` (word and character blocks, no embedding columns)."""
        check_is_fitted(self, "word_")
        texts = [str(t) for t in X]
        vectorizers = [v for v in (self.word_, self.char_) if v is not None]
        if len(texts) < FEW_QUERIES:
            blocks = [_tfidf_rows(v, texts) for v in vectorizers]
        else:
            blocks = [v.transform(texts) for v in vectorizers]
        return sp.hstack(blocks, format="csr")

    def join(self, lexical, embeddings):
        """The full feature rows: ``lexical`` (from :meth:`lexical`) beside the weighted embeddings."""
        if self.embedding_weight > 0:
            if embeddings is None:
                raise ValueError("embeddings are required when embedding_weight > 0")
            embeddings = np.asarray(embeddings, dtype=np.float32)
            if embeddings.shape[0] != lexical.shape[0]:
                raise ValueError(f"got {embeddings.shape[0]} embeddings for {lexical.shape[0]} texts")
            return sp.hstack([lexical, sp.csr_matrix(embeddings * self.embedding_weight)], format="csr")
        return sp.csr_matrix(lexical)


class HybridTextClassifier(ClassifierMixin, BaseEstimator):
    """:class:`TextFeatures` -> linear SVM with temperature-scaled (calibrated) probabilities.

    ``features`` is an already fitted :class:`TextFeatures` to share with other models (fitted with
    embeddings unless the weight is 0); the model then rescales the shared embedding block to its own
    ``embedding_weight``. Without it the classifier fits its own from ``embedding_weight``,
    ``char_ngrams``, ``word_ngrams`` and ``min_df``.

    ``search`` (e.g. ``{"C": [0.3, 1], "embedding_weight": [0.5, 2]}``) selects those parameters by
    cross-validated accuracy on the training data (ties go to the first candidate); the chosen
    ones are in ``best_params_`` and every candidate's score in ``search_results_``. The chosen
    candidate's out-of-fold scores also fit the temperature, so the search costs ``cv`` fits per
    candidate. ``scale`` fixes the softmax temperature instead of fitting it (used to refit on
    all the data with the parameters and temperature found on a subset, at the cost of one fit).

    ``knn_weight`` mixes in a vote of the ``knn_k`` most similar training tickets (their
    embeddings are keys pointing to their labels, see :func:`nearest_votes`):
    ``(1 - knn_weight) * svm_probability + knn_weight * vote``. It can be searched too; the
    temperature is then fitted on the mixture's out-of-fold probabilities. Above
    ``VOTE_GRAPH_ABOVE`` training tickets the fitted model votes through a :class:`KeyGraph`
    (approximate nearest keys); cross-validation during the fit votes exactly.

    ``fit(X, y, embeddings=E)`` and ``predict_proba(X, embeddings=E)`` take the texts ``X`` and,
    when the embedding weight is above 0, their embeddings ``E`` (one row per text).
    """

    def __init__(self, C: float = 0.3, embedding_weight: float = 2.0, char_ngrams: tuple | None = (2, 5),
                 word_ngrams: tuple = (1, 2), calibration: str = "temperature", cv: int = 3,
                 class_weight: str | None = None, min_df: int = 1, scale: float | None = None,
                 features: TextFeatures | None = None, search: dict | None = None, n_jobs: int | None = None,
                 knn_weight: float = 0.0, knn_k: int = 20, knn_temperature: float = 0.05):
        self.knn_weight = knn_weight
        self.knn_k = knn_k
        self.knn_temperature = knn_temperature
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
        self.search = search
        self.n_jobs = n_jobs

    def _check_params(self):
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}")
        if self.C <= 0:
            raise ValueError(f"C must be positive, got {self.C!r}")
        if self.scale is not None and self.scale <= 0:
            raise ValueError(f"scale must be positive, got {self.scale!r}")
        unknown = set(self.search or {}) - {"C", "embedding_weight", "knn_weight"}
        if unknown:
            raise ValueError(f"search can tune C, embedding_weight and knn_weight, not {sorted(unknown)}")
        weights = (self.search or {}).get("knn_weight", [self.knn_weight])
        if any(not 0 <= w < 1 for w in weights):
            raise ValueError(f"knn_weight must be in [0, 1), got {list(weights)!r}")

    def _candidates(self) -> list[dict]:
        grid = self.search or {}
        return [{"C": float(c), "embedding_weight": float(w)}
                for c in grid.get("C", [self.C]) for w in grid.get("embedding_weight", [self.embedding_weight])]

    def fit(self, X, y, embeddings=None):
        self._check_params()
        if self.features is not None:
            check_is_fitted(self.features, "word_")
            self.features_ = self.features
            base = self.features_.transform(X, embeddings)
        else:
            self.features_ = TextFeatures(self.embedding_weight, self.char_ngrams, self.word_ngrams, self.min_df)
            base = self.features_.fit_transform(X, embeddings=embeddings)
        return self._fit_matrix(base, y)

    def fit_features(self, features, y):
        """Fit on rows already computed by the shared ``features`` extractor (training computes
        every ticket's features once and slices them for each model)."""
        self._check_params()
        if self.features is None:
            raise ValueError("fit_features needs the shared, fitted `features` extractor")
        check_is_fitted(self.features, "word_")
        self.features_ = self.features
        return self._fit_matrix(features, y)

    def _fit_matrix(self, base, y):
        y = np.asarray([str(v) for v in y])
        if len(set(y)) < 2:
            raise ValueError("need at least two classes to fit a classifier")
        smallest = min(Counter(y).values())
        folds = min(self.cv, smallest)
        self.best_params_ = {"C": self.C, "embedding_weight": self.embedding_weight}
        embeddings = self._embeddings(base)
        self.knn_weight_ = self.knn_weight if embeddings is not None and folds >= 2 else 0.0
        cv_scores, scale = None, self.scale
        if folds >= 2 and self.calibration == "temperature" and self.scale is None:
            cv_scores = self._select(base, y, folds)
            scale = self._select_vote(cv_scores, y, folds, embeddings)
        self.best_params_["knn_weight"] = self.knn_weight_
        self.embedding_weight_ = self.best_params_["embedding_weight"] if self.features_.embedding_weight > 0 else 0.0
        C = self.best_params_["C"]
        features = self.features_.reweight(base, self.embedding_weight_)
        self.knn_keys_ = self.knn_labels_ = None
        if self.knn_weight_ > 0:
            self.knn_keys_ = vote_keys(embeddings)
            self.knn_labels_ = np.searchsorted(np.unique(y), y)
        if folds >= 2 and self.calibration == "temperature":
            self.model_ = TemperatureScaledSVC(C=C, cv=folds, class_weight=self.class_weight, scale=scale)
            self.model_.fit(features, y, cv_scores=cv_scores)
        elif folds >= 2:
            base_svc = LinearSVC(C=C, class_weight=self.class_weight)
            self.model_ = CalibratedClassifierCV(base_svc, method=self.calibration, cv=folds).fit(features, y)
        else:
            # Some class has a single example: cross-validated calibration is impossible, so use
            # a model that is probabilistic by construction.
            self.model_ = LogisticRegression(C=C * 20, max_iter=2000, class_weight=self.class_weight)
            self.model_.fit(features, y)
        self.classes_ = self.model_.classes_
        return self

    def _select(self, base, y, folds: int) -> np.ndarray:
        """Score every candidate by out-of-fold accuracy; keep the best; return its scores.

        Above ``SCREEN_ABOVE`` rows the candidates are compared on the first fold only and the
        winner alone is fitted on the other folds (its full out-of-fold scores fit the
        temperature): half the fits, with a held-out fold that is large enough to rank them."""
        candidates = self._candidates()
        if self.features_.embedding_weight == 0:  # no embedding block to reweight
            candidates = list({c["C"]: {**c, "embedding_weight": 0.0} for c in candidates}.values())
        classes = np.unique(y)
        splits = _folds(y, folds)
        screen = len(y) > SCREEN_ABOVE and len(candidates) > 1
        scored = splits[:1] if screen else splits
        weighted = {w: self.features_.reweight(base, w) for w in {c["embedding_weight"] for c in candidates}}

        def fold(cand, split):
            return _fold_scores(weighted[cand["embedding_weight"]], y, split, C=cand["C"], class_weight=self.class_weight)

        parts = _map_threads(lambda job: fold(*job), [(c, split) for c in candidates for split in scored], self.n_jobs)
        rows = np.concatenate([test for _, test in scored])
        best, self.search_results_ = None, []
        for i, cand in enumerate(candidates):
            mine = parts[i * len(scored):(i + 1) * len(scored)]
            accuracy = float(np.mean(classes[np.concatenate(mine).argmax(1)] == y[rows]))
            self.search_results_.append({**cand, "cv_accuracy": round(accuracy, 4),
                                         **({"folds_scored": len(scored)} if screen else {})})
            if best is None or accuracy > best[0]:
                best = (accuracy, cand, mine)
        self.best_params_ = dict(best[1])
        rest = _map_threads(lambda split: fold(best[1], split), splits[len(scored):], self.n_jobs)
        return _out_of_fold(splits, best[2] + rest)

    def _embeddings(self, base) -> np.ndarray | None:
        """The (unweighted) embeddings inside feature rows of the shared extractor, if it has them."""
        n = getattr(self.features_, "n_embedding_", 0)
        if not n or self.features_.embedding_weight <= 0:
            return None
        return np.asarray(sp.csr_matrix(base)[:, -n:].toarray() / self.features_.embedding_weight, dtype=np.float32)

    def _select_vote(self, cv_scores, y, folds: int, embeddings) -> float | None:
        """Choose ``knn_weight_`` among the searched weights by out-of-fold accuracy of the mixture
        (ties go to the first); return the temperature fitted on the chosen mixture (None when
        there is no vote: the SVM's own temperature then applies)."""
        weights = [float(w) for w in (self.search or {}).get("knn_weight", [self.knn_weight])]
        if embeddings is None or not any(weights):
            self.knn_weight_ = 0.0
            return None
        classes = np.unique(y)
        target = np.searchsorted(classes, y)
        votes = np.zeros_like(cv_scores)
        for train, test in _folds(y, folds):
            votes[test] = nearest_votes(embeddings[test], embeddings[train], target[train], len(classes),
                                        k=self.knn_k, temperature=self.knn_temperature)
        best = None
        for w in weights:
            scale = fit_temperature(cv_scores, target, votes, w)
            accuracy = float(np.mean(_mix(_softmax(cv_scores * scale), votes, w).argmax(1) == target))
            self.search_results_.append({"knn_weight": w, "cv_accuracy": round(accuracy, 4)})
            if best is None or accuracy > best[0]:
                best = (accuracy, w, scale)
        self.knn_weight_ = best[1]
        return best[2] if best[1] > 0 else None

    def predict_proba_features(self, features) -> np.ndarray:
        """Probabilities from features already computed by ``self.features_``."""
        check_is_fitted(self, "model_")
        proba = self.model_.predict_proba(self.features_.reweight(features, self.embedding_weight_))
        if getattr(self, "knn_weight_", 0) > 0:
            votes = nearest_votes(self._embeddings(features), self.knn_keys_, self.knn_labels_, len(self.classes_),
                                  k=self.knn_k, temperature=self.knn_temperature)
            proba = _mix(proba, votes, self.knn_weight_)
        return proba

    def predict_proba(self, X, embeddings=None) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.predict_proba_features(self.features_.transform(X, embeddings))

    def predict(self, X, embeddings=None) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X, embeddings), axis=1)]


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
        return self.model_.predict_proba(self._logit(scores))[:, 1]


def tier_features(p_second: np.ndarray, best_match: np.ndarray) -> np.ndarray:
    """Inputs of the tier combiner: the tier model's log-odds and the best KB match score."""
    p = np.clip(np.asarray(p_second, dtype=float), 1e-4, 1 - 1e-4)
    return np.column_stack([np.log(p / (1 - p)), np.asarray(best_match, dtype=float)])
