"""The promotion guard: re-score the active version's probes on this run's validation slice and
list where the new version is worse beyond a tolerance (overall, or for one class)."""
from __future__ import annotations

from pathlib import Path

from application.model_selection import score_classifier
from application.suggestion_training import suggestion_scores
from models import registry
from models.tables import ModelVersion

CLASS_MIN_SUPPORT = 20
GUARDED_METRICS = (("category", "accuracy"), ("category", "macro_f1"), ("tier", "accuracy"),
                   ("priority", "macro_f1"), ("priority", "accuracy"), ("suggestions", "hit@3"))
LABELLED_PARTS = ("category", "tier", "priority")  # a version before priority has no priority probe: skipped


def compare_with_active(*, session, store, active: ModelVersion | None, slices: dict, new_report: dict,
                        k: int, tolerance: float, encoder: str, class_tolerance: float = 1.0,
                        models_dir: Path | None = None) -> dict:
    """Re-score the active version's probes on this run's slice and list where the new one is worse.
    The probes are read from this machine's copy of the active version (``models_dir``), fetched
    from the database when it was trained elsewhere."""
    if active is None or not active.path:
        return {"active_version": None, "worse": [], "note": "no active version to compare with"}
    if active.encoder != encoder:
        return {"active_version": active.id, "worse": [],
                "note": f"the active version was trained with encoder {active.encoder!r}, which this one replaces"}
    folder = registry.local_folder(session, active, models_dir) if models_dir is not None else active.path
    probes = registry.read_probes(folder) if folder else None
    if probes is None:
        return {"active_version": active.id, "worse": [],
                "note": "active version has no probes to compare (none kept, or written by an earlier release)"}
    active_metrics: dict = {}
    for part in LABELLED_PARTS:
        if slices.get(part) and probes.get(part) is not None:
            texts, emb, truth, *records = slices[part]  # priority's slice may keep the tickets' metadata
            active_metrics[part] = score_classifier(probes[part], texts, emb, truth,
                                                    records=records[0] if records else None)[0]
    if slices.get("suggestions") and probes.get("suggestions") is not None:
        texts, emb, truth = slices["suggestions"]
        active_metrics["suggestions"] = suggestion_scores(session, store, probes["suggestions"], texts, emb,
                                                           truth, k)[0]
    worse = []
    for part, metric in GUARDED_METRICS:
        new = (new_report.get(part, {}).get("validation") if part != "suggestions"
               else new_report.get("suggestions")) or {}
        old = active_metrics.get(part, {})
        if metric in new and metric in old and new[metric] < old[metric] - tolerance:
            worse.append(f"{part} {metric} {new[metric]:.4f} < active {old[metric]:.4f} - {tolerance}")
    # Per class: an overall gain must not hide a class that got much worse (a queue that would
    # suddenly receive the wrong tickets). Only classes with enough slice tickets to judge.
    for part in LABELLED_PARTS:
        new_classes = ((new_report.get(part) or {}).get("validation") or {}).get("per_class", {})
        old_classes = active_metrics.get(part, {}).get("per_class", {})
        for cls, new_row in sorted(new_classes.items()):
            old_row = old_classes.get(cls)
            if old_row and new_row["support"] >= CLASS_MIN_SUPPORT and new_row["f1"] < old_row["f1"] - class_tolerance:
                worse.append(f"{part} class '{cls}' F1 {new_row['f1']:.4f} < active {old_row['f1']:.4f} "
                             f"- {class_tolerance}")
    for active_part in active_metrics.values():
        active_part.pop("per_class", None)  # the comparison keeps the verdicts, not the tables
    return {"active_version": active.id, "active_on_this_slice": active_metrics, "tolerance": tolerance,
            "class_tolerance": class_tolerance, "worse": worse}
