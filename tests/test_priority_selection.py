"""Model selection for priority (#28): a class-weighted part is not handed the plain TF-IDF model for
winning on out-of-fold accuracy (on jira_priority that cost held-out macro-F1 0.334 -> 0.274); an
unweighted part (category, tier) still tries it."""
from __future__ import annotations

import numpy as np

from application.demo import demo_records
from application.model_selection import fit_probe
from models.features import TextFeatures
import pytest

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)


def test_a_weighted_part_never_tries_the_plain_model_and_an_unweighted_one_does(runtime):
    records = demo_records()[:400]
    texts = [r["subject"] + "\n" + r["body"] for r in records]
    emb = runtime.cached_encoder.encode(texts)
    features = TextFeatures()
    matrix = features.fit_transform(texts, embeddings=emb)
    rows = np.arange(len(texts))
    weighted, _ = fit_probe(features, matrix, [r["priority"] for r in records], rows, 1, None, "balanced")
    plain_tried = [c for c in weighted.search_results_ if c.get("embedding_weight") == 0.0]
    assert plain_tried == [] and weighted.best_params_["embedding_weight"] > 0
    unweighted, _ = fit_probe(features, matrix, [r["category"] for r in records], rows, 1, None, None)
    assert any(c.get("embedding_weight") == 0.0 for c in unweighted.search_results_)
