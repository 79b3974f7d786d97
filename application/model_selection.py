"""Fitting one classifier for a version: the validation slice, model selection on the fit part
(or the active version's choice reused while data has not grown much), its report and auto-route
thresholds on the slice, and the served model refitted on everything."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import numpy as np

from models import crossval
from models.classifier import HybridTextClassifier
from models.metadata import WithMetadata
from models.metrics import classification_report
from models.neighbours import mean_nearest_similarity, vote_keys
from models.tables import ModelVersion
from triage import routing

Progress = Callable[[str], None]
# Model selection for every classifier, by cross-validated accuracy on the fit part of the data:
# it_tickets prefers a light embedding block (0.5), Banking77 a heavy one (2.0); C=0.3 beat 1.0
# on both (docs/benchmarks.md).
# The vote of the most similar past tickets (k 20) is mixed in where it helps out of fold: on
# Banking77 a 0.15 share lifted held-back top-3 accuracy from 0.976 to 0.981. A 0.3 share scored
# as well on accuracy but made out-of-scope CLINC150 queries look resolvable (fewer flagged as
# gaps), so it is not a candidate (docs/benchmarks.md).
SEARCH = {"C": (0.3, 1.0), "embedding_weight": (0.5, 2.0), "knn_weight": (0.0, 0.15)}
REUSE_GROWTH = 0.25  # a retrain reuses the active version's selected parameters until data grows this much


def in_validation_slice(ticket_id: int) -> bool:
    """About 15% of tickets, chosen by a multiplicative hash of the id (stable, not by position)."""
    return (int(ticket_id) * 2654435761) % 1000 < 150


def validation_split(ids: list[int], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(fit indices, validation indices); no validation when the slice would be useless."""
    mask = np.array([in_validation_slice(i) for i in ids], dtype=bool)
    fit, val = np.flatnonzero(~mask), np.flatnonzero(mask)
    if len(val) < 10 or len({labels[i] for i in fit}) < 2:
        return np.arange(len(ids)), np.array([], dtype=int)
    return fit, val


def score_classifier(model, texts, emb, truth, matrix=None, records=None) -> tuple[dict, np.ndarray, np.ndarray]:
    """Report of ``model`` on the texts (or on their rows ``matrix`` from the model's own features);
    a model that reads metadata (models.metadata.WithMetadata) also gets the tickets' ``records``."""
    if matrix is not None:
        proba = model.predict_proba_features(matrix)
    elif isinstance(model, WithMetadata):
        proba = model.predict_proba(texts, embeddings=emb, records=records)
    else:
        proba = model.predict_proba(texts, embeddings=emb)
    pred = model.classes_[proba.argmax(1)]
    conf = proba.max(1)
    return classification_report(truth, pred, conf), pred, conf


def fit_probe(features, matrix, labels, fit_idx, jobs: int, reuse: dict | None,
              class_weight: str | None = None) -> tuple[HybridTextClassifier, dict]:
    """The model fitted without the validation slice (parameters selected by cross-validation on
    the fit part, or ``reuse``d from the active version), and the settings that refit it on all
    the data in one fit."""
    params = {**_reused_params(reuse), "scale": reuse.get("scale")} if reuse else {"search": SEARCH}
    # The plain model (TF-IDF alone) is kept when it wins on out-of-fold accuracy, which is not what a
    # class-weighted model is for: on jira_priority's priorities it won on accuracy and cost held-out
    # macro-F1 0.334 -> 0.274 (docs/benchmarks.md, "Priority"), so weighted parts do not try it.
    probe = HybridTextClassifier(features=features, n_jobs=jobs, class_weight=class_weight,
                                 plain=class_weight is None, **params).fit_features(
        matrix[fit_idx], [labels[i] for i in fit_idx])
    # n_jobs: the served model's one fit runs in shares of the classes on that many threads (#30).
    return probe, {**probe.best_params_, "scale": getattr(probe.model_, "scale_", None), "class_weight": class_weight,
                   "n_jobs": jobs}


def _reused_params(reuse: dict) -> dict:
    return {"C": reuse["C"], "embedding_weight": reuse["embedding_weight"], "knn_weight": reuse.get("knn_weight", 0.0)}


def selection_report(probe, refit: dict, reuse: dict | None, n_labelled: int) -> dict:
    """The report's record of the probe's parameters (``refit``: what refits the served model)."""
    scale = refit["scale"]
    if reuse:
        return {"chosen": probe.best_params_, "scale": scale, "reused_from_version": reuse["version"],
                "examples": reuse["examples"],
                "note": f"searched on {reuse['examples']} tickets; searched again when data grows over "
                        f"{REUSE_GROWTH:.0%} beyond that"}
    return {"chosen": probe.best_params_, "scale": scale, "candidates": getattr(probe, "search_results_", []),
            "examples": n_labelled}


def reusable_selection(active: ModelVersion | None, part: str, examples: int) -> dict | None:
    """The active version's selected parameters and softmax temperature for ``part`` while the
    labelled data has grown at most REUSE_GROWTH beyond what they were searched on: a retrain after
    a little new feedback skips the search and the cross-validation (one fit for the probe, one for
    the served model); thresholds, calibration report and the guardrail are computed as always."""
    if active is None:
        return None
    sel = ((active.report or {}).get(part) or {}).get("model_selection") or {}
    if not sel.get("examples") or not sel.get("chosen") or examples > sel["examples"] * (1 + REUSE_GROWTH):
        return None
    return {**sel["chosen"], "scale": sel.get("scale"), "version": sel.get("reused_from_version", active.id),
            "examples": sel["examples"]}


def fit_labelled(ids, texts, emb, labels, target_precision: float, progress: Progress, what: str, features,
                  matrix, jobs: int, reuse: dict | None = None, rules: dict | None = None,
                  class_weight: str | None = None, metadata=None, records=None):
    """Probe on the slice (report, outcomes and thresholds under the routing ``rules``), then the
    served model on all rows. ``class_weight='balanced'`` weighs each class inversely to its size
    (where the rare classes are the ones that count, as with priority). With ``metadata`` (a fitted
    models.metadata.MetadataFeatures whose columns lead ``matrix``) the probe and the served model
    read the tickets' ``records`` too: both come wrapped in WithMetadata, and the slice keeps the
    records (the promotion guard re-scores the active version with them)."""
    report: dict = {"classes": len(set(labels)), "examples": len(labels)}
    thresholds = {"global": routing.NEVER, "per_class": {}}
    probe, refit, slice_data, kept = None, {"class_weight": class_weight}, None, None
    fit_idx, val_idx = validation_split(ids, labels)
    served = served_early(features, matrix, labels, reuse, jobs, class_weight)
    if len(val_idx):
        progress(f"{what}: selecting and fitting on {len(fit_idx)} tickets, validating on {len(val_idx)}")
        probe, refit = fit_probe(features, matrix, labels, fit_idx, jobs, reuse, class_weight)
        if isinstance(served, _Later):
            served.start()  # the probe's fit is done: the served one runs while the slice is scored
        report["model_selection"] = selection_report(probe, refit, reuse, len(labels))
        val_texts, truth = [texts[i] for i in val_idx], np.array([labels[i] for i in val_idx])
        rep, pred, conf = score_classifier(probe, val_texts, emb[val_idx], truth, matrix=matrix[val_idx])
        kept = routing.outcomes(conf, pred, truth)
        thresholds = routing.thresholds(kept, target_precision, rules)
        rep.update(routing_report(thresholds))
        similarity = mean_nearest_similarity(emb[val_idx], emb[fit_idx], routing.FAMILIAR_NEIGHBOURS)
        rep["familiarity_threshold"] = round(float(np.quantile(similarity, routing.FAMILIAR_QUANTILE)), 4)
        report["validation"] = rep
        slice_data = (val_texts, emb[val_idx], truth)
        if metadata is not None:
            slice_data += ([records[i] for i in val_idx],)
            probe = WithMetadata(probe, metadata)
    progress(f"{what}: fitting the served model on {len(labels)} tickets")
    model = served.result() if served is not None else fit_served(features, matrix, labels, refit)
    if metadata is not None:
        model = WithMetadata(model, metadata)
    return model, probe, report, thresholds, slice_data, kept


def routing_report(thresholds: dict) -> dict:
    """The slice's auto-routing figures under the policy (per-class thresholds applied)."""
    return {"auto_route_threshold": round(thresholds["global"], 4), "auto_route_precision": thresholds["precision"],
            "auto_route_coverage": thresholds["coverage"], "target_precision": thresholds["target_precision"],
            "routing_rules": sum(row["rule"] for row in thresholds["classes"].values())}


def served_keys(model: HybridTextClassifier, emb: np.ndarray):
    """The served model's training tickets as searchable keys: its vote's own keys when it keeps
    them (the same object, stored once), else built from ``emb``."""
    keys = getattr(model, "knn_keys_", None)
    return keys if keys is not None else vote_keys(emb)


def fit_served(features, matrix, labels, refit: dict) -> HybridTextClassifier:
    """The served model: one fit on every labelled row with the parameters chosen on the fit part."""
    return HybridTextClassifier(features=features, **refit).fit_features(matrix, labels)


class _Later:
    """The served fit, started once the probe's fit is done (:meth:`start`: in a thread beside the
    scoring of the validation slice), or run when its result is asked for."""

    def __init__(self, fit: Callable[[], HybridTextClassifier]):
        self._fit, self._future = fit, None

    def start(self) -> None:
        if self._future is None:
            pool = ThreadPoolExecutor(max_workers=1)
            try:
                self._future = pool.submit(self._fit)
            finally:
                pool.shutdown(wait=False)

    def result(self) -> HybridTextClassifier:
        return self._future.result() if self._future is not None else self._fit()


def served_early(features, matrix, labels, reuse: dict | None, jobs: int,
                 class_weight: str | None = None) -> Future | _Later | None:
    """When the parameters and temperature are reused, the served model needs nothing from the
    probe: fit it in a thread beside the probe (liblinear releases the GIL). When the fits are
    split in shares of the classes (models.crossval.fit_svc) the probe already keeps ``jobs``
    threads busy: the served model is then fitted after the probe's fit (beside the scoring of the
    slice, see :class:`_Later`), on as many threads, which takes the same time on the machine's
    cores without holding two fits' copies of the matrix at once (#30)."""
    if not (reuse and reuse.get("scale") and jobs > 1):
        return None
    refit = {**_reused_params(reuse), "scale": reuse["scale"], "class_weight": class_weight}
    if crossval.class_shares(len(set(labels)), jobs, class_weight) > 1:
        return _Later(lambda: fit_served(features, matrix, labels, {**refit, "n_jobs": jobs}))
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(fit_served, features, matrix, labels, refit)
    finally:
        pool.shutdown(wait=False)
