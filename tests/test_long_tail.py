"""A desk's long tail: a class with one or a few tickets is learnt, never auto-routed to, and does
not change the calibrated model that serves every other class."""
from __future__ import annotations

import numpy as np
import pytest

from models.classifier import HybridTextClassifier, TemperatureScaledSVC
from models import crossval

LONE = "Please add the new Zurich office printer to the asset register under cost centre 4471"
FEW = ["our fax gateway returns error 77 when sending scanned contracts",
       "fax gateway error 77 again on scanned contract pages",
       "the fax to e-mail gateway rejects scanned contracts with error 77"]


@pytest.mark.engine_independent  # the models alone, no database
def test_folds_keep_rare_rows_in_training_and_hold_out_the_others():
    y = np.array(["a"] * 9 + ["b"] * 9 + ["lone"] + ["pair"] * 2)
    splits = crossval.folds(y, 3)
    assert len(splits) == 3
    rare = {18, 19, 20}
    for train, test in splits:
        assert rare <= set(train.tolist())  # always learnt
        assert not rare & set(test.tolist())  # never held out
        assert set(y[train]) == {"a", "b", "lone", "pair"}  # every fold's SVM knows every class
    assert crossval.held_out(splits).tolist() == list(range(18))
    assert crossval.foldable(y, 3) == 3
    assert crossval.foldable(np.array(["a", "b", "c", "a"]), 3) == 0  # not two classes with two


@pytest.mark.engine_independent  # the models alone, no database
def test_a_single_example_class_keeps_the_calibrated_svm_for_the_others():
    texts = ["cannot log in to my account", "password reset link expired", "login fails with sso",
             "sso redirect loops on login", "refund my last invoice", "charged twice on my card",
             "invoice shows wrong amount", "vat missing on the invoice"] * 3
    labels = (["login"] * 4 + ["billing"] * 4) * 3
    clf = HybridTextClassifier(embedding_weight=0).fit(texts + [LONE], labels + ["assets"])
    assert isinstance(clf.model_, TemperatureScaledSVC)  # no LogisticRegression fallback
    assert clf.class_counts_ == {"assets": 1, "billing": 12, "login": 12}
    assert list(clf.classes_) == ["assets", "billing", "login"]
    # The others are decided as without the rare class.
    plain = HybridTextClassifier(embedding_weight=0).fit(texts, labels)
    probe = ["charged twice this month", "sso login broken", "refund please", "cannot reset password"]
    assert list(clf.predict(probe)) == list(plain.predict(probe))
    assert list(clf.predict(["charged twice this month", "sso login broken", LONE])) == ["billing", "login", "assets"]


def test_a_rare_category_is_learnt_reported_and_never_auto_routed(tmp_path):
    from application.demo import demo_records
    from application.training import train
    from models import registry
    from triage import service as triage_service
    from tests.conftest import make_runtime

    rt = make_runtime(tmp_path / "home")
    try:
        # Categories only (no tier labels, no articles): the category model alone decides the route.
        records = [{"subject": r["subject"], "body": r["body"], "category": r["category"]} for r in demo_records()[:700]]
        records += [{"subject": "Asset register", "body": LONE, "category": "asset_register"}]
        records += [{"subject": "Fax gateway", "body": text, "category": "fax_gateway"} for text in FEW]
        with rt.db.session() as s:
            triage_service.import_tickets(session=s, records=records)
            version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
            report = version.report["category"]
            bundle = registry.read_bundle(version.path)
        assert isinstance(bundle.category_model.model_, TemperatureScaledSVC)
        assert report["rare_classes"] == {"min_tickets": rt.settings.rare_class_min, "count": 2,
                                          "classes": {"asset_register": 1, "fax_gateway": 3}}
        assert bundle.stats["rare_classes"]["category"] == {"asset_register": 1, "fax_gateway": 3}
        # The other classes are still validated and auto-routed at the target.
        assert report["validation"]["auto_route_coverage"] > 0.1
        decisions = rt.engine.decide([f"Asset register\n\n{LONE}", f"Fax gateway\n\n{FEW[0]}",
                                      *[f"{r['subject']}\n\n{r['body']}" for r in records[:60]]])
        assert [d["category"] for d in decisions[:2]] == ["asset_register", "fax_gateway"]
        for d, n in zip(decisions[:2], (1, 3)):
            assert d["route"] == "review"
            assert f"'{d['category']}' is a rare class ({n} training ticket" in d["reason"]
        routed = [d for d in decisions[2:] if d["route"] == "auto"]
        assert routed and all(d["category"] not in ("asset_register", "fax_gateway") for d in routed)
        # A routing rule cannot switch auto-routing on for a rare class either.
        from triage import routing

        policy = routing.apply(bundle, {"category": {"fax_gateway": {"target_precision": 0.5, "auto_route": True}}},
                               rt.settings.route_precision)
        assert policy.thresholds["per_class"]["fax_gateway"] >= routing.NEVER
        assert policy.thresholds["classes"]["fax_gateway"]["basis"] == "rare"
    finally:
        rt.close()


@pytest.mark.engine_independent  # the models alone, no database
def test_model_selection_chooses_the_plain_model_when_the_embeddings_do_not_help():
    from models.features import TextFeatures

    words = {"login": "password sso login account locked reset", "billing": "invoice refund charged card vat amount",
             "network": "vpn wifi proxy dns latency router"}
    rng = np.random.default_rng(3)
    texts, labels = [], []
    for label, vocab in words.items():
        for _ in range(30):
            filler = " ".join(rng.choice("please help thanks urgent today hi".split(), 3))
            texts.append(" ".join(rng.choice(vocab.split(), 2)) + " " + filler)
            labels.append(label)
    noise = rng.normal(size=(len(texts), 32)).astype(np.float32)  # an encoder that reads nothing
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    shared = TextFeatures(embedding_weight=2.0).fit(texts, embeddings=noise)
    clf = HybridTextClassifier(features=shared, search={"C": [0.3], "embedding_weight": [2.0]}).fit(
        texts, labels, embeddings=noise)
    assert clf.search_results_[-1]["embedding_weight"] == 0.0  # the plain candidate was scored
    assert clf.best_params_["embedding_weight"] == 0.0 and clf.embedding_weight_ == 0.0
    assert clf.search_results_[-1]["cv_accuracy"] > clf.search_results_[0]["cv_accuracy"]
    assert list(clf.predict(["vpn router please", "refund invoice thanks"], embeddings=noise[:2])) == ["network", "billing"]
    without = HybridTextClassifier(features=shared, plain=False, search={"C": [0.3], "embedding_weight": [2.0]}).fit(
        texts, labels, embeddings=noise)
    assert [r["embedding_weight"] for r in without.search_results_] == [2.0]
