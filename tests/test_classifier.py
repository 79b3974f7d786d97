"""The hybrid classifier follows scikit-learn conventions; metrics compute what they claim."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from models.classifier import HybridTextClassifier
from models.metrics import classification_report, expected_calibration_error, threshold_for_precision

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)

TEXTS = ["cannot log in to my account", "password reset link expired", "login fails with sso",
         "refund my last invoice", "charged twice on my card", "invoice shows wrong amount"] * 4
LABELS = ["login"] * 3 + ["billing"] * 3
LABELS = LABELS * 4


def test_fit_returns_self_and_probabilities_sum_to_one():
    clf = HybridTextClassifier(embedding_weight=0)
    assert clf.fit(TEXTS, LABELS) is clf
    proba = clf.predict_proba(["I was charged twice", "sso login broken"])
    assert proba.shape == (2, 2)
    assert np.allclose(proba.sum(1), 1.0)
    assert list(clf.predict(["I was charged twice", "sso login broken"])) == ["billing", "login"]


def test_predict_before_fit_and_bad_options_raise():
    with pytest.raises(NotFittedError):
        HybridTextClassifier(embedding_weight=0).predict(["x"])
    with pytest.raises(ValueError, match="sigmoid"):
        HybridTextClassifier(calibration="platt").fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="embeddings are required"):
        HybridTextClassifier().fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="two classes"):
        HybridTextClassifier(embedding_weight=0).fit(TEXTS[:3], ["a"] * 3)


def test_single_example_class_still_gets_probabilities():
    clf = HybridTextClassifier(embedding_weight=0).fit(TEXTS + ["export my data to csv"], LABELS + ["export"])
    assert set(clf.classes_) == {"login", "billing", "export"}
    assert np.allclose(clf.predict_proba(["csv export"]).sum(), 1.0)


def test_expected_calibration_error():
    assert expected_calibration_error([0.9] * 10, [1] * 9 + [0]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0] * 4, [1, 0, 1, 0]) == pytest.approx(0.5)


def test_threshold_for_precision_picks_lowest_safe_cut():
    conf = np.linspace(1.0, 0.01, 100)
    correct = np.array([1] * 60 + [0, 1] * 20)
    t, precision, coverage = threshold_for_precision(conf, correct, 0.95, min_support=10)
    assert precision >= 0.95
    assert coverage >= 0.6
    assert t == pytest.approx(conf[int(round(coverage * 100)) - 1])
    assert threshold_for_precision(conf, np.zeros(100), 0.95)[0] > 1.0  # unreachable: route nothing


def test_threshold_with_a_margin_needs_the_slice_to_show_the_target():
    conf = np.linspace(1.0, 0.5, 40)
    correct = np.ones(40)
    correct[19] = 0  # 19 of the top 20 right, then 20 more right
    assert threshold_for_precision(conf, correct, 0.95, min_support=20)[0] == conf[39]  # 39/40 = 0.975
    assert threshold_for_precision(conf[:20], correct[:20], 0.95, min_support=20)[0] == conf[19]  # 0.95 observed
    # 19 of 20 do not show 0.95 with a margin (Wilson lower end at z 1: 0.876), nor do 39 of 40 (0.936)
    assert threshold_for_precision(conf[:20], correct[:20], 0.95, min_support=20, z=1.0)[0] > 1.0
    assert threshold_for_precision(conf, correct, 0.95, min_support=20, z=1.0)[0] > 1.0
    # 25 of 25 do (0.962), so with the margin only they are routed
    perfect = np.ones(40)
    perfect[25] = 0
    t, precision, coverage = threshold_for_precision(conf, perfect, 0.95, min_support=20, z=1.0)
    assert t == conf[24] and precision == 1.0 and coverage == 25 / 40


def test_classification_report_has_per_class_figures():
    rep = classification_report(["a", "a", "b", "b"], ["a", "b", "b", "b"], [0.9, 0.6, 0.8, 0.7])
    assert rep["accuracy"] == 0.75 and rep["n"] == 4
    assert rep["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert rep["per_class"]["b"]["precision"] == pytest.approx(0.6667, abs=1e-4)


def test_search_selects_by_cross_validation_and_reweights_shared_embeddings():
    from models.features import TextFeatures

    rng = np.random.default_rng(0)
    # The embedding carries the label cleanly while the words are shared noise: a heavier
    # embedding block must win the search.
    y = np.array(["a", "b"] * 30)
    texts = [f"ticket number {i} about something" for i in range(60)]
    emb = rng.normal(0, 0.05, (60, 8)).astype(np.float32)
    emb[:, 0] += np.where(y == "a", 1.0, -1.0)
    shared = TextFeatures(embedding_weight=1.0).fit(texts, embeddings=emb)
    clf = HybridTextClassifier(features=shared, search={"embedding_weight": [0.01, 3.0]}).fit(
        texts, y, embeddings=emb)
    assert clf.best_params_ == {"C": 0.3, "embedding_weight": 3.0, "knn_weight": 0.0}
    # ... and the plain model (no embedding block) at the winner's C is scored last, and loses here.
    assert [r["embedding_weight"] for r in clf.search_results_] == [0.01, 3.0, 0.0]
    assert clf.search_results_[1]["cv_accuracy"] > clf.search_results_[0]["cv_accuracy"]
    assert (clf.predict(texts, embeddings=emb) == y).mean() == 1.0
    # The shared extractor is untouched: another model can use it at its own weight.
    assert shared.embedding_weight == 1.0
    base = shared.transform(texts[:2], emb[:2]).toarray()
    assert np.allclose(shared.reweight(shared.transform(texts[:2], emb[:2]), 3.0).toarray()[:, -8:], base[:, -8:] * 3)
    with pytest.raises(ValueError, match="search can tune"):
        HybridTextClassifier(embedding_weight=0, search={"gamma": [1]}).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="knn_weight must be"):
        HybridTextClassifier(embedding_weight=0, search={"knn_weight": [0, 1.5]}).fit(TEXTS, LABELS)

    # On many rows the candidates are screened on one fold of two (#30: each fit sees half the
    # rows); the winner's temperature still comes from every row's out-of-fold score, so it
    # equals the full two-fold cross-validation's. Some labels are
    # flipped so that the temperature has a finite best value: on separable data the likelihood
    # keeps improving as the scale grows, and where the optimiser stops depends on the last digits
    # of the scores (which liblinear's shared C random state makes vary when fits run in threads).
    import models.classifier as classifier

    noisy = y.copy()
    noisy[::10] = np.where(noisy[::10] == "a", "b", "a")
    full = HybridTextClassifier(features=shared, search={"embedding_weight": [0.01, 3.0]}, cv=2).fit(
        texts, noisy, embeddings=emb)
    old, classifier.SCREEN_ABOVE = classifier.SCREEN_ABOVE, 10
    try:
        screened = HybridTextClassifier(features=shared, search={"embedding_weight": [0.01, 3.0]}, n_jobs=2).fit(
            texts, noisy, embeddings=emb)
    finally:
        classifier.SCREEN_ABOVE = old
    assert screened.best_params_ == full.best_params_
    assert [r["folds_scored"] for r in screened.search_results_] == [1, 1, 1]  # the plain candidate too
    assert screened.cv == 3 and screened.model_.cv == 2  # three folds asked for, two used
    assert screened.model_.scale_ == pytest.approx(full.model_.scale_, rel=1e-3)
    # Screening also starts where one fit's work (stored entries x classes) is large, whatever the rows.
    old, classifier.SCREEN_WORK = classifier.SCREEN_WORK, 10
    try:
        heavy = HybridTextClassifier(features=shared, search={"embedding_weight": [0.01, 3.0]}).fit(
            texts, noisy, embeddings=emb)
    finally:
        classifier.SCREEN_WORK = old
    assert [r["folds_scored"] for r in heavy.search_results_] == [1, 1, 1] and heavy.model_.cv == 2
    # Above the work bound the SVMs stop at the looser tolerance (fewer liblinear passes), the
    # refit with the found temperature too; below it scikit-learn's default stands.
    assert heavy.tol_ == classifier.LOOSE_TOL and heavy.model_.svc_.tol == classifier.LOOSE_TOL
    old, classifier.SCREEN_WORK = classifier.SCREEN_WORK, 10
    try:
        refit = HybridTextClassifier(features=shared, scale=heavy.model_.scale_, **{
            k: v for k, v in heavy.best_params_.items()}).fit(texts, noisy, embeddings=emb)
    finally:
        classifier.SCREEN_WORK = old
    assert refit.model_.svc_.tol == classifier.LOOSE_TOL
    assert clf.tol_ == classifier.DEFAULT_TOL and full.model_.svc_.tol == classifier.DEFAULT_TOL
    # The loose fit decides the training tickets as the tight one does, with probabilities close to it.
    tight = HybridTextClassifier(features=shared, scale=heavy.model_.scale_, **heavy.best_params_).fit(
        texts, noisy, embeddings=emb)
    assert (refit.predict(texts, embeddings=emb) == tight.predict(texts, embeddings=emb)).mean() >= 0.95
    assert np.abs(refit.predict_proba(texts, embeddings=emb) - tight.predict_proba(texts, embeddings=emb)).max() < 0.1
    # Below both bounds the search keeps the three folds asked for.
    assert "folds_scored" not in clf.search_results_[0] and clf.model_.cv == 3
    assert heavy.best_params_ == full.best_params_
    assert 0 < full.model_.scale_ < 20


def test_feature_cache_reuses_rows_and_refits_when_the_data_grows(tmp_path):
    from models.feature_cache import FeatureCache

    rng = np.random.default_rng(0)
    base = [f"{t} case {i}" for i, t in enumerate(TEXTS)]
    emb = rng.normal(size=(len(base), 8)).astype(np.float32)
    cache = FeatureCache(tmp_path)
    first, rows, report = cache.features(base, emb, encoder="e", growth=0.25)
    assert report == {"reused": False, "fitted_on": len(base)}
    assert np.allclose(rows.toarray(), first.transform(base, emb).toarray())

    # A few new tickets (one of them with a word the vocabulary never saw), in a new order.
    more = base[::-1] + ["refund my duplicate charge", "zzyzx portal down"]
    more_emb = rng.normal(size=(len(more), 8)).astype(np.float32)
    reused, rows, report = cache.features(more, more_emb, encoder="e", growth=0.25)
    assert report == {"reused": True, "fitted_on": len(base), "rows_from_cache": len(base), "rows_computed": 2}
    assert reused.word_.vocabulary_ == first.word_.vocabulary_ and "zzyzx" not in reused.word_.vocabulary_
    assert np.allclose(rows.toarray(), first.transform(more, more_emb).toarray(), atol=1e-6)

    # Past the growth allowance, another encoder, or fewer tickets: the vocabulary is fitted afresh.
    grown = more + [f"new ticket about zzyzx {i}" for i in range(10)]
    grown_emb = rng.normal(size=(len(grown), 8)).astype(np.float32)
    refit, rows, report = cache.features(grown, grown_emb, encoder="e", growth=0.25)
    assert report == {"reused": False, "fitted_on": len(grown)} and "zzyzx" in refit.word_.vocabulary_
    assert cache.features(grown, grown_emb, encoder="other", growth=0.25)[2]["reused"] is False
    assert cache.features(grown[:-5], grown_emb[:-5], encoder="other", growth=0.25)[2]["reused"] is False


def test_nearest_ticket_vote_is_chosen_where_neighbours_know_better():
    from models.features import TextFeatures
    from models.neighbours import nearest_votes

    # Votes: the two nearest keys point to class 1, weighed by their similarity against the
    # reference; a query far from every key gets almost no vote (the model decides alone).
    keys = np.eye(3, dtype=np.float32)
    votes = nearest_votes(np.array([[0.0, 0.8, 0.6], [0.3, 0.3, 0.3]], dtype=np.float32), keys,
                          np.array([0, 1, 1]), 2, k=2, temperature=0.1, reference=0.7)
    near = np.exp(1) + np.exp(-1)
    assert votes[0] == pytest.approx([0.0, near / (near + 2)])
    assert votes[1].sum() < 0.05

    # Labels follow tight clusters in the embedding that no straight line separates (XOR-like),
    # while the words are shared noise: the linear model fails, the neighbours' vote does not.
    rng = np.random.default_rng(0)
    centres = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.float32)
    which = np.arange(120) % 4
    emb = centres[which] + rng.normal(0, 0.05, (120, 2)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    y = np.where(which % 2 == 0, "a", "b")  # opposite points share a label
    texts = ["a ticket about something"] * 120
    shared = TextFeatures(embedding_weight=1.0).fit(texts, embeddings=emb)
    clf = HybridTextClassifier(features=shared, search={"knn_weight": [0.0, 0.3]}).fit(texts, y, embeddings=emb)
    assert clf.best_params_["knn_weight"] == 0.3
    assert [r["knn_weight"] for r in clf.search_results_[-2:]] == [0.0, 0.3]
    assert clf.search_results_[-1]["cv_accuracy"] > clf.search_results_[-2]["cv_accuracy"]
    proba = clf.predict_proba(texts, embeddings=emb)
    assert np.allclose(proba.sum(1), 1.0) and (clf.classes_[proba.argmax(1)] == y).mean() > 0.95
    # Refitting with the chosen weight and temperature (a retrain that reuses them) gives the same model.
    again = HybridTextClassifier(features=shared, knn_weight=0.3, scale=clf.model_.scale_,
                                 embedding_weight=clf.best_params_["embedding_weight"]).fit(texts, y, embeddings=emb)
    assert np.allclose(again.predict_proba(texts, embeddings=emb), proba)


def test_votes_of_a_few_queries_match_the_batched_product():
    # A few queries go through faiss (no BLAS threads left spinning), many through one matrix
    # product: the votes must not depend on the path.
    from common.threads import FEW_QUERIES
    from models.neighbours import nearest_votes

    rng = np.random.default_rng(3)
    keys = rng.normal(size=(500, 16)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    labels = rng.integers(0, 7, size=500)
    queries = keys[:5] + rng.normal(scale=0.1, size=(5, 16)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    assert len(queries) < FEW_QUERIES
    few = nearest_votes(queries, keys, labels, 7, k=10)
    batched = np.vstack([nearest_votes(np.repeat(q[None], FEW_QUERIES, axis=0), keys, labels, 7, k=10)[0]
                         for q in queries])
    assert few.sum() > 0.5
    np.testing.assert_allclose(few, batched, rtol=1e-4, atol=1e-6)
    # Keys handed over in another dtype or layout are converted for faiss, not misread.
    np.testing.assert_allclose(nearest_votes(queries, np.asfortranarray(keys, dtype=np.float64), labels, 7, k=10),
                               few, rtol=1e-5, atol=1e-7)


def test_many_keys_vote_through_a_graph_that_agrees_with_reading_every_key(monkeypatch):
    # Above VOTE_GRAPH_ABOVE training tickets the served model votes through an HNSW graph over
    # the keys (approximate); on clustered data it must find the same neighbours as reading every
    # key, for one ticket and for a batch alike, and survive the bundle's pickling.
    import pickle

    from common.threads import FEW_QUERIES
    from models import neighbours
    from models.features import TextFeatures
    from models.neighbours import KeyGraph, nearest_votes

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(12, 24)).astype(np.float32)
    which = np.arange(3000) % 12
    keys = centres[which] + rng.normal(scale=0.25, size=(3000, 24)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    labels = which % 4
    queries = keys[:40] + rng.normal(scale=0.05, size=(40, 24)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    graph = KeyGraph(keys)
    assert len(graph) == 3000
    exact = nearest_votes(queries, keys, labels, 4, k=20, temperature=0.1)
    approx = nearest_votes(queries, graph, labels, 4, k=20, temperature=0.1)
    assert exact.sum() > 10
    np.testing.assert_allclose(approx, exact, atol=1e-3)
    one = np.vstack([nearest_votes(q[None], graph, labels, 4, k=20, temperature=0.1) for q in queries[:3]])
    assert len(queries) >= FEW_QUERIES  # the batch above took the pooled path, these the single one
    np.testing.assert_allclose(one, approx[:3], rtol=1e-5, atol=1e-7)
    restored = pickle.loads(pickle.dumps(graph))
    np.testing.assert_array_equal(nearest_votes(queries, restored, labels, 4, k=20, temperature=0.1), approx)

    # A classifier trained on more tickets than the threshold keeps a graph, one below keeps the keys.
    texts = [f"ticket {i % 7}" for i in range(3000)]
    y = np.array([f"c{v}" for v in labels])
    shared = TextFeatures(embedding_weight=1.0).fit(texts, embeddings=keys)
    below = HybridTextClassifier(features=shared, knn_weight=0.3, scale=5.0).fit(texts, y, embeddings=keys)
    monkeypatch.setattr(neighbours, "VOTE_GRAPH_ABOVE", 1000)
    above = HybridTextClassifier(features=shared, knn_weight=0.3, scale=5.0).fit(texts, y, embeddings=keys)
    assert isinstance(above.knn_keys_, KeyGraph) and isinstance(below.knn_keys_, np.ndarray)
    new_texts = [f"ticket {i % 7}" for i in range(40)]
    served = pickle.loads(pickle.dumps(above)).predict_proba(new_texts, embeddings=queries)
    np.testing.assert_allclose(served, below.predict_proba(new_texts, embeddings=queries), atol=1e-3)


@pytest.mark.parametrize("words_kept", [50_000, 3])
def test_features_of_a_few_texts_equal_scikit_learns_transform(words_kept, monkeypatch):
    # A few texts take a shortcut past scikit-learn's per-call checks, with the character block's
    # columns kept per word (also when the words kept start again, at 3); the rows must not change.
    from common.threads import FEW_QUERIES
    from models import features as features_module
    from models.features import TextFeatures

    monkeypatch.setattr(features_module, "WORDS_KEPT", words_kept)

    history = ["Reset my SSO password please", "VPN drops every hour on the office wifi",
               "printer on floor 3 jams", "card payment declined twice", "password expired, cannot log in"]
    features = TextFeatures(embedding_weight=0).fit(history)
    new = ["password password password reset", "", "zzqx unknown words only", "VPN wifi drops: ÉTÉ café",
           "Printer jams AND payment declined", "a"]
    assert len(new) < FEW_QUERIES
    few = features.lexical(new)
    reference = sp.hstack([features.word_.transform(new), features.char_.transform(new)], format="csr")
    assert few.shape == reference.shape
    np.testing.assert_allclose(few.toarray(), reference.toarray(), rtol=1e-12, atol=1e-15)
    assert few[0].nnz > 0 and few[1].nnz == 0  # known words counted, an empty text has no entries
    again = features.lexical(new[::-1])  # the same words again, from the columns kept
    np.testing.assert_allclose(again.toarray(), few.toarray()[::-1], rtol=1e-12, atol=1e-15)
    many = features.lexical(new * FEW_QUERIES)  # the scikit-learn path
    np.testing.assert_allclose(many[:len(new)].toarray(), few.toarray(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_of_a_few_tickets_equal_those_of_a_batch(n_classes):
    # A few rows take the direct SVM product and TF-IDF shortcut; a batch goes through scikit-learn.
    from common.threads import FEW_QUERIES

    texts = ["card payment declined", "payment failed at checkout", "charged twice for one order",
             "cannot log in with sso", "password reset link expired", "sso login loops back",
             "vpn drops every hour", "vpn client will not connect", "vpn slow from home"]
    labels = ["billing"] * 3 + ["login"] * 3 + ["network"] * 3
    keep = [i for i, y in enumerate(labels) if y in sorted(set(labels))[:n_classes]]
    clf = HybridTextClassifier(embedding_weight=0, cv=2).fit([texts[i] for i in keep], [labels[i] for i in keep])
    new = ["my payment was declined", "sso keeps looping", "vpn will not connect at home"]
    few = clf.predict_proba(new)
    batch = clf.predict_proba(new * FEW_QUERIES)[:len(new)]
    assert few.shape == (len(new), n_classes)
    np.testing.assert_allclose(few, batch, rtol=1e-10, atol=1e-12)


def test_mean_nearest_similarity_matches_brute_force_on_every_path():
    from common.threads import FEW_QUERIES
    from models.neighbours import KeyGraph, mean_nearest_similarity

    rng = np.random.default_rng(8)
    keys = rng.normal(size=(2000, 16)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    queries = rng.normal(size=(1500, 16)).astype(np.float32)  # more than one block of 1,024
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    expected = np.sort(queries @ keys.T, axis=1)[:, -5:].mean(axis=1)
    np.testing.assert_allclose(mean_nearest_similarity(queries, keys, 5), expected, rtol=1e-5)
    few = queries[:FEW_QUERIES - 1]  # through faiss on the calling thread
    np.testing.assert_allclose(mean_nearest_similarity(few, keys, 5), expected[:len(few)], rtol=1e-5)
    graph = mean_nearest_similarity(queries[:200], KeyGraph(keys), 5)  # approximate, close
    assert np.abs(graph - expected[:200]).max() < 0.02
    assert mean_nearest_similarity(queries[:3], keys[:2], 5).shape == (3,)  # fewer keys than k
    assert mean_nearest_similarity(queries[:0], keys, 5).shape == (0,)


def test_a_fit_in_shares_of_the_classes_equals_the_one_piece_fit():
    """One-vs-rest fits each class against all the others whatever their labels, so the classes
    fitted in two shares side by side (#30) give the one-piece fit's model."""
    from sklearn.svm import LinearSVC

    from models.crossval import fit_svc

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(20, 30))
    y = np.array([f"q{c:02d}" for c in rng.integers(0, 20, 600)])
    X = centres[np.searchsorted(np.unique(y), y)] + rng.normal(scale=1.5, size=(600, 30))
    whole = LinearSVC(C=0.5, tol=1e-8, max_iter=20000).fit(X, y)
    shared = fit_svc(X, y, C=0.5, tol=1e-8, n_jobs=2)
    assert list(shared.classes_) == list(whole.classes_)
    assert np.allclose(shared.coef_, whole.coef_, atol=1e-3) and np.allclose(shared.intercept_, whole.intercept_, atol=1e-3)
    assert np.allclose(shared.decision_function(X[:50]), whole.decision_function(X[:50]), atol=1e-3)
    assert (shared.predict(X) == whole.predict(X)).all()
    # Balanced class weights depend on the labels' sizes: such a fit stays in one piece.
    assert fit_svc(X, y, C=0.5, class_weight="balanced", n_jobs=2).class_weight == "balanced"
    # A model selected and fitted with two jobs serves the same decisions as one fitted with one.
    texts = [f"ticket {label} case {i}" for i, label in enumerate(y)]
    two = HybridTextClassifier(embedding_weight=1.0, n_jobs=2, scale=2.0).fit(texts, y, embeddings=X.astype(np.float32))
    one = HybridTextClassifier(embedding_weight=1.0, scale=2.0).fit(texts, y, embeddings=X.astype(np.float32))
    assert list(two.classes_) == list(one.classes_)
    assert (two.predict(texts, embeddings=X) == one.predict(texts, embeddings=X)).mean() > 0.98
    assert np.abs(two.predict_proba(texts, embeddings=X) - one.predict_proba(texts, embeddings=X)).max() < 0.05


def test_positive_proba_equals_scikit_learns_predict_proba():
    from sklearn.linear_model import LogisticRegression

    from models.calibration import ScoreCalibrator, positive_proba

    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    for rows in (X[:1], X[:7], X):
        np.testing.assert_allclose(positive_proba(model, rows), model.predict_proba(rows)[:, 1], rtol=1e-12)
    scores = rng.uniform(size=50)
    calibrator = ScoreCalibrator().fit(scores, (scores + rng.normal(scale=0.2, size=50) > 0.5).astype(int))
    np.testing.assert_allclose(calibrator.predict(scores),
                               calibrator.model_.predict_proba(ScoreCalibrator._logit(scores))[:, 1], rtol=1e-12)


def test_a_repeated_search_of_the_same_keys_reuses_the_last_answer_and_equal_keys_are_shared(monkeypatch):
    """A decision searches one set of keys for one ticket several times (two votes, the routing
    guard): the second search answers from the first, cut to its k, equal to a search of its own;
    other queries or other keys search again. A loaded version holds equal key sets as one object."""
    from models import neighbours
    from models.version import ModelVersionArtifact

    rng = np.random.default_rng(3)
    keys = rng.normal(size=(300, 16)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    query, other = keys[:1] + 0.1, keys[1:2] + 0.1
    searched = []
    search = neighbours._search
    monkeypatch.setattr(neighbours, "_search", lambda *a: searched.append(a[2]) or search(*a))
    near20, top20 = neighbours.nearest_keys(query, keys, 20)
    near5, top5 = neighbours.nearest_keys(query.copy(), keys, 5)  # equal queries, another array
    assert searched == [20]
    fresh_near, fresh_top = search(np.ascontiguousarray(query), keys, 5)
    assert np.array_equal(top5, fresh_top) and np.allclose(near5, fresh_near)
    assert np.array_equal(top5, top20[:, :5])
    neighbours.nearest_keys(other, keys, 5)  # another ticket
    neighbours.nearest_keys(other, keys.copy(), 5)  # other keys (equal, but not the same object)
    neighbours.nearest_keys(other, keys, 30)  # more neighbours than the last search found
    assert searched == [20, 5, 5, 30]
    import gc
    import weakref

    gone = keys.copy()
    watch = weakref.ref(gone)
    neighbours.nearest_keys(query, gone, 5)
    del gone
    gc.collect()
    assert watch() is None  # the memo does not keep a set of keys alive

    cat, tier = HybridTextClassifier(), HybridTextClassifier()
    cat.knn_keys_, tier.knn_keys_ = keys, keys.copy()
    bundle = ModelVersionArtifact(encoder="e", encoder_dim=16, category_model=cat, tier_model=tier,
                                  route_familiarity={"threshold": 0.5, "keys": keys.copy()},
                                  gap_history_keys=keys[:100].copy()).share_keys()
    assert tier.knn_keys_ is cat.knn_keys_ and bundle.route_familiarity["keys"] is cat.knn_keys_
    assert bundle.gap_history_keys is not cat.knn_keys_ and len(bundle.gap_history_keys) == 100
