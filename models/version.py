"""The model version artifact: everything a training run fits, in one typed object that training
writes (application/training.py) and the triage engine reads (triage/engine.py).

A version on disk carries ``format``; a reader refuses another format with an error that names the
fix (train a new version), instead of failing somewhere inside a decision. Bump ``FORMAT`` when a
field changes meaning or a pickled class moves to another module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# 1: an untyped dict (before this module); 2: this dataclass, with the estimators' parts in
# models.features, models.neighbours and models.calibration.
FORMAT = 2
PARTS = ("category", "tier")


@dataclass
class ModelVersionArtifact:
    """The fitted parts of one model version. Parts a run could not fit (too few labels, no
    resolved history) are None; dictionaries are empty."""

    encoder: str  # the encoder setting the ticket vectors came from; another one cannot be served
    encoder_dim: int
    features: Any = None  # models.features.TextFeatures, shared by the classifiers below
    category_model: Any = None  # models.classifier.HybridTextClassifier
    tier_model: Any = None
    priority_model: Any = None  # trained when tickets carry the desk's priority labels
    article_model: Any = None  # classifier over the articles that resolved past tickets
    # Auto-route thresholds per part (triage.routing.thresholds' shape), as trained; the engine
    # serves a copy that follows the routing rules in force (triage.routing.apply).
    thresholds: dict = field(default_factory=dict)
    tier_thresholds: dict = field(default_factory=dict)
    priority_thresholds: dict = field(default_factory=dict)
    route_outcomes: dict = field(default_factory=dict)  # per part, validation outcomes thresholds come from
    route_familiarity: dict | None = None  # {"threshold", "keys"}: a new kind of request is not auto-routed
    # {"tier_by_category": {category: {tier: count}}, "priority_order": labels most urgent first,
    #  "priority_trained_on": tickets}
    stats: dict = field(default_factory=dict)
    tier_combiner: Any = None  # logistic regression over (tier probability, best article score)
    gap_threshold: float | None = None  # best suggestion score under which a ticket is a content gap
    gap_similarity_threshold: float | None = None  # ... or similarity to resolved tickets under which
    gap_history_keys: Any = None  # the resolved tickets' vectors (models.neighbours keys)
    article_history: dict = field(default_factory=dict)  # article id -> tickets it resolved
    suggestion_calibrator: Any = None  # models.calibration.ScoreCalibrator: score -> P(resolves)
    article_adaptation: Any = None  # kb.adaptation.ArticleAdaptation, when no resolved history existed
    rejections: Any = None  # kb.suggest rejection memory: (article, ticket vector) pairs agents rejected
    rejections_through_event: int = 0  # the newest feedback event the memory holds
    format: int = FORMAT

    def share_keys(self) -> "ModelVersionArtifact":
        """Make equal sets of vote keys one object (the models' votes and the auto-routing guard
        are often fitted on the same tickets): held once in memory, and a decision searches them
        once (:func:`models.neighbours.nearest_keys`). Returns self."""
        import numpy as np

        seen: list[np.ndarray] = []

        def shared(keys):
            if not isinstance(keys, np.ndarray):
                return keys
            for other in seen:
                if other is keys or (other.shape == keys.shape and np.array_equal(other, keys)):
                    return other
            seen.append(keys)
            return keys

        for part in ("category", "tier", "priority", "article"):
            model = self.model(part)
            if getattr(model, "knn_keys_", None) is not None:
                model.knn_keys_ = shared(model.knn_keys_)
        if self.route_familiarity and self.route_familiarity.get("keys") is not None:
            self.route_familiarity["keys"] = shared(self.route_familiarity["keys"])
        self.gap_history_keys = shared(self.gap_history_keys)
        return self

    def model(self, part: str):
        """The classifier of ``part`` (category, tier, priority or article), or None."""
        return getattr(self, f"{part}_model")

    def thresholds_of(self, part: str) -> dict:
        """The auto-route thresholds of ``part`` (category, tier or priority)."""
        return {"category": self.thresholds, "tier": self.tier_thresholds}.get(part, self.priority_thresholds)
