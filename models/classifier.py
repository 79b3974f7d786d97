"""Text classifiers with calibrated probabilities, following scikit-learn conventions.

The default model joins sparse lexical features (TF-IDF over words and character n-grams) with a
dense sentence embedding computed outside the estimator (so the encoder is loaded once per
process and embeddings can be cached), and fits a linear SVM whose scores are calibrated by
cross-validation into probabilities.

The pieces they are built from live beside this module: models.features (TextFeatures),
models.crossval (folds and out-of-fold scores), models.calibration (the softmax temperature and
the mixture with the vote) and models.neighbours (the vote of the most similar past tickets).
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from common.threads import FEW_QUERIES
from models import crossval
from models.calibration import fit_temperature, mix, softmax, two_columns
from models.features import TextFeatures
from models.neighbours import nearest_votes, vote_keys

CALIBRATIONS = ("temperature", "sigmoid", "isotonic")
# Above this many rows, model selection screens the candidates on one fold (see _select). On
# it_tickets (25k rows) one fold picked C 1 over C 0.3 and cost 0.3 points of held-back accuracy
# (docs/benchmarks.md), so screening is kept for data sets where the full search gets expensive.
SCREEN_ABOVE = 50_000
# ... and when one fit's work is large: stored feature entries x classes (liblinear's one-vs-rest
# passes cost about that each). Long e-mail bodies over a hundred queues reach it well before
# 50,000 rows (#30, docs/benchmarks.md "Training at scale"); Banking77 (about 0.3e9 on the probe's
# rows, estimated) and it_tickets (0.1e9) stay below and are selected on every fold as before.
SCREEN_WORK = 600_000_000
# Above SCREEN_WORK the SVMs also stop at a looser tolerance: liblinear's dual coordinate descent
# then stops after about a third of the passes (8 instead of 22 at 2,000 e-mail bodies x 50
# queues), at the same held-out accuracy (#30, docs/benchmarks.md "Training at scale"). The
# softmax temperature is fitted on the scores of the same loose fits, so the probabilities
# stay calibrated. Below the bound scikit-learn's default (1e-4) is kept: those models are
# unchanged.
LOOSE_TOL = 0.1
DEFAULT_TOL = 1e-4
# ... and above PASS_CAP_WORK (the same bound today, its own constant so that each lever can be
# moved or tested alone) liblinear stops after at most LOOSE_PASSES passes: at LOOSE_TOL it took
# 9-15 there, the later passes costing about as much as the first, and 5 cut one fit's CPU time by
# 27% (10,000 e-mail bodies x 100 queues, plain rows on 8,500: 21.1 -> 15.4 CPU-s, held-out
# accuracy 0.9947 both). Forced onto the TF-IDF + LinearSVC baseline of the real sets (80/20,
# seed 7, tol 0.1, mean of three runs, uncapped / 5 passes): endava 0.6394 / 0.6418 (C 0.3),
# 0.6339 / 0.6326 (C 1); it_tickets (first 12,000 rows) 0.8621 / 0.8619, 0.8559 / 0.8568;
# Banking77 0.8879 / 0.8883, 0.8976 / 0.8954 (#30, docs/benchmarks.md "Training at scale").
# Below the bound liblinear's own cap (1000 passes) is kept: those models are unchanged.
PASS_CAP_WORK = SCREEN_WORK
LOOSE_PASSES = 5


class TemperatureScaledSVC(ClassifierMixin, BaseEstimator):
    """A linear SVM fitted on all the data whose multi-class scores become probabilities through a
    softmax with one temperature, chosen to minimise the log-loss of cross-validated scores.

    Unlike CalibratedClassifierCV, the served model sees every training example, and a single
    shared temperature keeps the classes' probabilities comparable (Guo et al. 2017).
    """

    def __init__(self, C: float = 0.5, cv: int = 3, class_weight: str | None = None, scale: float | None = None,
                 tol: float = DEFAULT_TOL, n_jobs: int | None = None, max_iter: int = crossval.PASSES):
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.C = C
        self.cv = cv
        self.class_weight = class_weight
        self.scale = scale

    def fit(self, X, y, cv_scores: np.ndarray | None = None):
        """``cv_scores``: cross-validated decision scores of this very model on ``X`` when the
        caller already has them (model selection computes them), to fit the temperature from."""
        self.classes_ = np.unique(y)
        if self.scale is not None:
            # Temperature already known (from a run on a subset of the same data): one fit.
            self.scale_ = float(self.scale)
        else:
            held = crossval.held_out(crossval.folds(np.asarray(y), self.cv))
            if cv_scores is None:
                cv_scores = crossval.cv_decision_scores(X, y, C=self.C, cv=self.cv, class_weight=self.class_weight,
                                                        tol=self.tol, max_iter=self.max_iter)
            # Rows of classes too rare to hold out have no out-of-fold scores: the temperature is
            # fitted on the others.
            self.scale_ = fit_temperature(cv_scores[held], np.searchsorted(self.classes_, np.asarray(y)[held]))
        # The one fit on every row: in shares of the classes on n_jobs threads (crossval.fit_svc).
        self.svc_ = crossval.fit_svc(X, y, C=self.C, class_weight=self.class_weight, tol=self.tol,
                                     n_jobs=self.n_jobs, max_iter=self.max_iter)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "svc_")
        return softmax(two_columns(self._decision_function(X)) * self.scale_)

    def _decision_function(self, X) -> np.ndarray:
        """The SVM's scores; for a few sparse rows computed directly, skipping scikit-learn's
        input checks (0.6 ms of a single decision against 0.04 for the product itself), from the
        coefficients of each row's non-zero features only: ``X @ coef.T`` made scipy copy the whole
        transposed coefficient matrix on every call (1 ms a call with the demo's vocabulary, 8 ms
        of a triage request)."""
        coef = self.svc_.coef_
        if sp.issparse(X) and X.shape[0] < FEW_QUERIES and X.shape[1] == coef.shape[1]:
            X = X.tocsr()
            scores = np.empty((X.shape[0], coef.shape[0]))
            for row in range(X.shape[0]):
                lo, hi = X.indptr[row], X.indptr[row + 1]
                scores[row] = coef[:, X.indices[lo:hi]] @ X.data[lo:hi]
            scores += self.svc_.intercept_
            return scores.ravel() if scores.shape[1] == 1 else scores
        return self.svc_.decision_function(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


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

    With ``plain`` (the default) a search also scores the plain model, the TF-IDF blocks alone
    (embedding weight 0) at the winner's C, and keeps it when it is strictly better out of fold:
    on a desk whose texts the encoder reads poorly the embedding block is a cost, not a help.

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
                 knn_weight: float = 0.0, knn_k: int = 20, knn_temperature: float = 0.05, plain: bool = True):
        self.plain = plain
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
        # Training examples per class. A class with fewer than ``folds`` is trained like the others
        # but never held out in cross-validation (models.crossval.folds): it does not change the
        # calibrated model of the other classes. Which classes are too rare to auto-route to is the
        # routing policy's call (triage.routing), from these counts.
        self.class_counts_ = {str(k): int(v) for k, v in sorted(Counter(y).items())}
        folds = crossval.foldable(y, self.cv)
        work = self._work(base, y)
        self.tol_ = LOOSE_TOL if work > SCREEN_WORK else DEFAULT_TOL
        self.max_iter_ = LOOSE_PASSES if work > PASS_CAP_WORK else crossval.PASSES
        if folds > 2 and self._screens(base, y):
            # Large work: two folds are large enough to rank the candidates and fit the
            # temperature, and each fit sees half the rows instead of two thirds (#30).
            folds = 2
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
            self.model_ = TemperatureScaledSVC(C=C, cv=folds, class_weight=self.class_weight, scale=scale, tol=self.tol_,
                                               n_jobs=self.n_jobs, max_iter=self.max_iter_)
            self.model_.fit(features, y, cv_scores=cv_scores)
        elif folds >= 2:
            base_svc = LinearSVC(C=C, class_weight=self.class_weight, tol=self.tol_)  # not capped: not the default model
            self.model_ = CalibratedClassifierCV(base_svc, method=self.calibration,
                                                 cv=crossval.folds(y, folds)).fit(features, y)
        else:
            # Not even two classes have two examples: nothing can be cross-validated, so use a
            # model that is probabilistic by construction (tiny data only; one rare class among
            # others keeps the calibrated SVM above).
            self.model_ = LogisticRegression(C=C * 20, max_iter=2000, class_weight=self.class_weight)
            self.model_.fit(features, y)
        self.classes_ = self.model_.classes_
        return self

    def _select(self, base, y, folds: int) -> np.ndarray:
        """Score every candidate by out-of-fold accuracy; keep the best; return its scores.

        Above ``SCREEN_ABOVE`` rows, or ``SCREEN_WORK`` stored entries x classes, the candidates
        are compared on the first fold only and the winner alone is fitted on the other folds (its
        full out-of-fold scores fit the temperature): half the fits, with a held-out fold that is
        large enough to rank them; :meth:`_fit_matrix` then uses two folds, so each fit sees half
        the rows. The plain model (see ``plain``) is scored last, at the winner's C. The matrix is
        reweighted for one embedding weight at a time (one copy alive, not one per weight)."""
        candidates = self._search_candidates()
        embedded = self.features_.embedding_weight > 0
        classes = np.unique(y)
        splits = crossval.folds(y, folds)
        screen = self._screens(base, y)
        scored = splits[:1] if screen else splits
        rows = np.concatenate([test for _, test in scored])
        best, self.search_results_ = None, []

        def folds_of(weight, jobs):
            """Each (C, split) job's scores on the rows reweighted to ``weight``: one reweighted
            copy of the matrix at a time, shared by that weight's candidates (#30: memory)."""
            if not jobs:
                return []
            matrix = self.features_.reweight(base, weight)
            return crossval.map_threads(lambda job: crossval.fold_scores(
                matrix, y, job[1], C=job[0], class_weight=self.class_weight, tol=self.tol_, max_iter=self.max_iter_),
                jobs, self.n_jobs)

        def score(cands):
            nonlocal best
            parts = {}
            for weight in dict.fromkeys(c["embedding_weight"] for c in cands):
                keys = [(c["C"], weight, n) for c in cands if c["embedding_weight"] == weight
                        for n in range(len(scored))]
                parts.update(zip(keys, folds_of(weight, [(C, scored[n]) for C, _, n in keys])))
            for cand in cands:
                mine = [parts[(cand["C"], cand["embedding_weight"], n)] for n in range(len(scored))]
                accuracy = float(np.mean(classes[np.concatenate(mine).argmax(1)] == y[rows]))
                self.search_results_.append({**cand, "cv_accuracy": round(accuracy, 4),
                                             **({"folds_scored": len(scored)} if screen else {})})
                if best is None or accuracy > best[0]:
                    best = (accuracy, cand, mine)

        score(candidates)
        if self.plain and embedded and self.search and best[1]["embedding_weight"] > 0:
            score([{"C": best[1]["C"], "embedding_weight": 0.0}])
        self.best_params_ = dict(best[1])
        rest = folds_of(best[1]["embedding_weight"], [(best[1]["C"], split) for split in splits[len(scored):]])
        return crossval.out_of_fold(splits, best[2] + rest)  # rows no fold held out are zeros

    def _search_candidates(self) -> list[dict]:
        """The candidates :meth:`_select` scores (one per C when there is no embedding block)."""
        candidates = self._candidates()
        if self.features_.embedding_weight <= 0:  # no embedding block to reweight
            candidates = list({c["C"]: {**c, "embedding_weight": 0.0} for c in candidates}.values())
        return candidates

    def _screens(self, base, y) -> bool:
        """Whether :meth:`_select` screens the candidates on one fold: several candidates, and
        more than ``SCREEN_ABOVE`` rows or one fit's work (stored entries x classes) above
        ``SCREEN_WORK``."""
        if self.scale is not None or self.calibration != "temperature":
            return False
        return ((len(y) > SCREEN_ABOVE or self._work(base, y) > SCREEN_WORK)
                and len(self._search_candidates()) > 1)

    @staticmethod
    def _work(base, y) -> int:
        """One fit's work: stored feature entries x classes (liblinear's one-vs-rest pass costs that)."""
        return int(base.nnz) * len(np.unique(y))

    def _embeddings_dim(self) -> int:
        """How many embedding columns the shared extractor's rows carry (0: none)."""
        n = getattr(self.features_, "n_embedding_", 0)
        return n if n and self.features_.embedding_weight > 0 else 0

    def _embeddings(self, base) -> np.ndarray | None:
        """The (unweighted) embeddings inside feature rows of the shared extractor, if it has them."""
        n = self._embeddings_dim()
        if not n:
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
        splits = crossval.folds(y, folds)
        for train, test in splits:
            votes[test] = nearest_votes(embeddings[test], embeddings[train], target[train], len(classes),
                                        k=self.knn_k, temperature=self.knn_temperature)
        held = crossval.held_out(splits)  # rows of classes too rare to fold have no out-of-fold scores
        cv_scores, votes, target = cv_scores[held], votes[held], target[held]
        best = None
        for w in weights:
            scale = fit_temperature(cv_scores, target, votes, w)
            accuracy = float(np.mean(mix(softmax(cv_scores * scale), votes, w).argmax(1) == target))
            self.search_results_.append({"knn_weight": w, "cv_accuracy": round(accuracy, 4)})
            if best is None or accuracy > best[0]:
                best = (accuracy, w, scale)
        self.knn_weight_ = best[1]
        return best[2] if best[1] > 0 else None

    def predict_proba_features(self, features, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Probabilities from features already computed by ``self.features_``; ``embeddings``: the
        (unweighted) embeddings those features were computed from, when the caller has them at
        hand (else they are read back out of the feature rows)."""
        check_is_fitted(self, "model_")
        proba = self.model_.predict_proba(self.features_.reweight(features, self.embedding_weight_))
        if getattr(self, "knn_weight_", 0) > 0:
            if embeddings is None or self._embeddings_dim() != np.shape(embeddings)[-1]:
                embeddings = self._embeddings(features)
            votes = nearest_votes(embeddings, self.knn_keys_, self.knn_labels_, len(self.classes_),
                                  k=self.knn_k, temperature=self.knn_temperature)
            proba = mix(proba, votes, self.knn_weight_)
        return proba

    def predict_proba(self, X, embeddings=None) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.predict_proba_features(self.features_.transform(X, embeddings))

    def predict(self, X, embeddings=None) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X, embeddings), axis=1)]
