"""Auto-routing policy: how sure a model must be before a ticket is routed without a person.

The deployment sets one target precision (``KBTRIAGE_ROUTE_PRECISION``, 0.95 by default). A
routing rule overrides it for one category or tier: a stricter or looser target, or auto-routing
switched off. Rules are stored in the database and apply live: training keeps each model's
validation outcomes (confidence, prediction and truth on the slice the model never saw) with the
version, and every service process turns them into thresholds for the rules in force when it
notices a change (within the engine's reload interval), without retraining.

A threshold is the lowest confidence at which the tickets predicted as that class reach the
target precision on the validation slice. A class needs enough slice tickets predicted as it
for a threshold of its own; with fewer, the threshold that reaches the target over all classes'
tickets applies (the confidences are calibrated, so that is the best estimate there is).

A class with fewer training tickets than ``KBTRIAGE_RARE_CLASS_MIN`` (a desk's long tail: a new
queue, a renamed group) is never auto-routed to, whatever its confidence and whatever a rule
says: its few tickets cannot validate a threshold. The model still learns it and predicts it (an
agent sees it as the suggested category); training records the rare classes with their counts
in the version (``stats["rare_classes"]``) and the report, and a decision predicting one says so.

A rule promises a precision for one class, often judged on a few dozen slice tickets, where a
threshold that happens to reach the target on them is optimistic. So a rule's threshold is also
at least the one where the class's routed tickets' calibrated confidences average the target
(the precision the calibration predicts). On Banking77 with a 0.99 rule on every class, routed
held-back tickets reached 0.9813 precision without that bound and 0.9952 with it
(docs/benchmarks.md).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from common import change_feed
from common.db import upsert, utcnow
from common.errors import NotFound, ValidationError
from models.metrics import threshold_for_precision
from models.version import ModelVersionArtifact
from triage.tables import RoutingRule, Ticket

PARTS = ("category", "tier", "priority")  # a priority rule sets the target of its label's escalation
# where a bundle keeps each part's thresholds
THRESHOLD_KEYS = {"category": "thresholds", "tier": "tier_thresholds", "priority": "priority_thresholds"}
# A ticket unlike every past ticket is a new kind of request: the classifier's confidence was
# measured on familiar ones, so such a ticket goes to a person whatever its confidence. Unlike =
# the mean cosine of its FAMILIAR_NEIGHBOURS most similar labelled tickets is below the
# FAMILIAR_QUANTILE of validation-slice tickets. CLINC150 intents as categories, val.csv: 88% of
# out-of-scope queries were auto-routed without this guard, 26% with it, for 1.9 points of
# in-scope coverage (docs/benchmarks.md).
FAMILIAR_NEIGHBOURS = 5
FAMILIAR_QUANTILE = 0.015
NEVER = 1.01  # above every confidence: nothing is auto-routed
CLASS_MIN_PREDICTED = 30  # slice tickets predicted as a class for its own threshold at the default target
RULE_MIN_PREDICTED = 10  # ... at a target a rule sets (an explicit request: judged on fewer tickets)
MIN_TARGET, MAX_TARGET = 0.5, 1.0
# A threshold's slice tickets must show the target with a margin: the lower end of the Wilson
# interval of their precision, at these z (1: a one-sided 84% bound), must reach it. Taking the
# widest set whose observed precision just reaches the target favours sets that were lucky on the
# slice. In a replay of Banking77 through the service, the first version (385 tickets, a 57-ticket
# slice) promised 0.95 and its auto-routed tickets were 0.895 right. Held-back precision / coverage
# without and with these margins (docs/benchmarks.md): 5 tickets per intent 0.896 / 0.687 -> 0.931 /
# 0.547; 10 per intent 0.923 / 0.728 -> 0.964 / 0.567; the full Banking77 split 0.9495 / 0.94 ->
# 0.9554 / 0.9305; it_tickets 0.9528 / 0.7613 -> 0.9564 / 0.7399. The pooled threshold serves
# classes with few slice tickets, where the slice says least, so it takes the wider margin. A
# rule's threshold keeps the calibration bound instead (see the module docstring): with the
# margins as well, a 0.99 rule on every Banking77 intent (about 15 slice tickets each) routed 7% of
# held-back tickets, against 63% at 0.9952 precision with the bound alone.
POOLED_Z = 1.0
CLASS_Z = 0.5


def outcomes(confidence, predicted, truth) -> dict:
    """A model's validation outcomes as a version keeps them."""
    return {"confidence": np.asarray(confidence, dtype=np.float32),
            "predicted": [str(p) for p in predicted], "truth": [str(t) for t in truth]}


def thresholds(slice_outcomes: dict | None, default_precision: float, rules: dict | None = None,
               fallback: dict | None = None, classes=(), rare: dict | None = None) -> dict:
    """Thresholds for one part (category or tier) under ``rules`` ({label: rule}), for the
    ``classes`` of its model and every label the slice predicts or a rule names.

    Returns ``{"global", "per_class", "target_precision", "classes", "precision", "coverage"}``:
    ``per_class`` maps a label to its threshold (``global`` for the others); ``classes`` says per
    label what it rests on and what it reaches on the slice; ``precision`` and ``coverage`` are the
    whole slice's under the policy. Without outcomes (a version trained before they were kept) the
    version's own ``fallback`` thresholds stand, with the rules that switch auto-routing off.
    ``rare`` ({label: training tickets}) names the classes too rare to auto-route to (basis 'rare').
    """
    rules = rules or {}
    rare = {str(label): int(n) for label, n in (rare or {}).items()}
    if slice_outcomes is None:
        base = fallback or {"global": NEVER, "per_class": {}}
        per_class = {**base.get("per_class", {}),
                     **{label: NEVER for label, rule in rules.items() if not rule["auto_route"]},
                     **{label: NEVER for label in rare}}
        rows = {**base.get("classes", {}), **{label: _rare_row(n) for label, n in rare.items()}} if rare else None
        return {**base, "per_class": per_class, **({"classes": rows} if rows is not None else {})}
    conf = np.asarray(slice_outcomes["confidence"], dtype=float)
    pred = np.asarray(slice_outcomes["predicted"], dtype=object)
    truth = np.asarray(slice_outcomes["truth"], dtype=object)
    correct = pred == truth
    pooled: dict[tuple, float] = {}

    def over_all(target: float, z: float) -> float:
        if (target, z) not in pooled:
            pooled[target, z] = threshold_for_precision(conf, correct, target, z=z)[0]
        return pooled[target, z]

    out = {"global": over_all(default_precision, POOLED_Z), "per_class": {}, "target_precision": default_precision,
           "classes": {}}
    applied = np.full(len(conf), out["global"])
    for label in sorted(set(pred.tolist()) | set(rules) | {str(c) for c in classes} | set(rare)):
        rule = rules.get(label)
        target = rule["target_precision"] if rule and rule["target_precision"] is not None else default_precision
        mask = pred == label
        n = int(mask.sum())
        # A rule's threshold has the calibration bound below instead of the margins.
        z_class, z_pooled = (0.0, 0.0) if rule else (CLASS_Z, POOLED_Z)
        if label in rare:
            out["per_class"][label] = NEVER
            applied[mask] = NEVER
            out["classes"][label] = {**_rare_row(rare[label]), "rule": rule is not None, "predicted": n}
            continue
        if rule and not rule["auto_route"]:
            t, basis = NEVER, "off"
        elif n >= (RULE_MIN_PREDICTED if rule else CLASS_MIN_PREDICTED):
            t, basis = threshold_for_precision(conf[mask], truth[mask] == label, target, RULE_MIN_PREDICTED,
                                               z=z_class)[0], "class"
        else:
            t, basis = over_all(target, z_pooled), "all classes"
        if rule and basis != "off" and t < NEVER:
            bound = calibrated_threshold(conf[mask], target)
            if bound > t:
                t, basis = bound, "calibration"
        out["per_class"][label] = t
        applied[mask] = t
        routed = mask & (conf >= t)
        out["classes"][label] = {
            "target_precision": target if basis != "off" else None, "rule": rule is not None, "basis": basis,
            "threshold": round(t, 4) if t < NEVER else None, "predicted": n,
            "precision": round(float(correct[routed].mean()), 4) if routed.any() else None,
            "coverage": round(float(routed.sum() / n), 4) if n else None}
    routed = conf >= applied
    out["precision"] = round(float(correct[routed].mean()), 4) if routed.any() else None
    out["coverage"] = round(float(routed.mean()), 4) if len(conf) else None
    return out


def _rare_row(training_tickets: int) -> dict:
    """A rare class's row: no threshold, and why."""
    return {"target_precision": None, "rule": False, "basis": "rare", "threshold": None, "predicted": 0,
            "precision": None, "coverage": None, "training_tickets": training_tickets}


def rare_classes(labels, minimum: int) -> dict[str, int]:
    """{label: training tickets} of the labels with fewer than ``minimum`` tickets, by label."""
    from collections import Counter

    return {label: n for label, n in sorted(Counter(str(v) for v in labels).items()) if n < minimum}


def calibrated_threshold(confidence, target: float) -> float:
    """Lowest threshold at which the accepted confidences average at least ``target`` (with
    calibrated confidences, the precision expected there); NEVER when none does."""
    ordered = np.sort(np.asarray(confidence, dtype=float))[::-1]
    if not len(ordered):
        return NEVER
    reached = np.flatnonzero(np.cumsum(ordered) / np.arange(1, len(ordered) + 1) >= target)
    return float(ordered[reached[-1]]) if len(reached) else NEVER


def apply(bundle: ModelVersionArtifact | None, rules: dict, default_precision: float) -> ModelVersionArtifact | None:
    """A shallow copy of the version's ``bundle`` whose thresholds follow ``rules`` (by part)."""
    if bundle is None:
        return None
    kept = bundle.route_outcomes

    def classes(part):
        model = bundle.model(part)
        return model.classes_ if model is not None else ()

    rare = (bundle.stats or {}).get("rare_classes", {})
    out = {key: thresholds(kept.get(part), default_precision, rules.get(part), bundle.thresholds_of(part),
                           classes(part), rare.get(part))
           for part, key in THRESHOLD_KEYS.items()}
    if bundle.model("priority") is not None:
        out["priority_thresholds"]["escalation"] = escalation(
            kept.get("priority"), ((bundle.stats or {}).get("priority_order") or [None])[0], default_precision,
            (rules.get("priority") or {}), rare.get("priority"))
    return replace(bundle, **out)


ESCALATE_MIN_PREDICTED = RULE_MIN_PREDICTED  # slice tickets predicted as the top priority to judge by


def escalation(slice_outcomes: dict | None, label: str | None, default_precision: float, rules: dict | None = None,
               rare: dict | None = None) -> dict:
    """When a ticket predicted as the top priority ``label`` is escalated without a person: the
    lowest confidence at which the slice tickets predicted as ``label`` reach the target precision
    (a rule on ``label`` sets the target or switches escalation off), with the margin a class
    threshold takes (CLASS_Z). Off (``threshold`` None, ``basis`` saying why) when the slice never
    reaches the target, holds too few such tickets, or the label is rare.

    ``precision``: of the slice tickets escalated, the share truly ``label``; ``coverage``: of the
    slice tickets truly ``label``, the share escalated (how many urgent tickets skip the queue)."""
    rule = (rules or {}).get(label) if label is not None else None
    target = rule["target_precision"] if rule and rule["target_precision"] is not None else default_precision
    out = {"label": label, "target_precision": target, "rule": rule is not None, "threshold": None,
           "precision": None, "coverage": None, "predicted": 0, "support": 0}
    if label is None or slice_outcomes is None:
        return {**out, "basis": "no validation outcomes: escalation off"}
    conf = np.asarray(slice_outcomes["confidence"], dtype=float)
    pred = np.asarray(slice_outcomes["predicted"], dtype=object)
    truth = np.asarray(slice_outcomes["truth"], dtype=object)
    mask, actual = pred == label, truth == label
    out.update(predicted=int(mask.sum()), support=int(actual.sum()))
    if rule and not rule["auto_route"]:
        return {**out, "target_precision": None, "basis": f"off: a routing rule switches escalation of '{label}' off"}
    if label in (rare or {}):
        return {**out, "basis": f"rare: '{label}' has {rare[label]} training tickets, too few to validate"}
    if out["predicted"] < ESCALATE_MIN_PREDICTED:
        return {**out, "basis": f"too few: {out['predicted']} validation tickets predicted '{label}' "
                                f"(fewer than {ESCALATE_MIN_PREDICTED}): escalation off"}
    t = threshold_for_precision(conf[mask], actual[mask], target, ESCALATE_MIN_PREDICTED, z=CLASS_Z)[0]
    if t >= NEVER:
        return {**out, "basis": f"not reached: no confidence at which the {out['predicted']} validation tickets "
                                f"predicted '{label}' reach {target:.2f} precision: escalation off"}
    escalated = mask & (conf >= t)
    return {**out, "threshold": round(float(t), 4), "basis": "class",
            "precision": round(float(actual[escalated].mean()), 4),
            "coverage": round(float(escalated.sum() / out["support"]), 4) if out["support"] else None}


def policy_view(*, version_id: int | None, bundle: ModelVersionArtifact | None, rules: dict,
                default_precision: float) -> dict:
    """The policy in force: the deployment's target, the rules, and per part what the active
    version's thresholds are and reach on its validation slice (``bundle`` as :func:`apply` made it)."""
    guard = (bundle.route_familiarity if bundle else None) or {}
    out: dict = {"default_target_precision": default_precision, "model_version": version_id,
                 "rules": [rule for part in PARTS for rule in rules.get(part, {}).values()],
                 "familiarity_threshold": guard.get("threshold")}
    for part in THRESHOLD_KEYS:
        thr = bundle.thresholds_of(part) if bundle and bundle.model(part) is not None else None
        if not thr:
            out[part] = None
            continue
        classes = thr.get("classes") or {label: {"threshold": round(t, 4) if t < NEVER else None}
                                         for label, t in thr.get("per_class", {}).items()}
        out[part] = {"threshold": round(thr["global"], 4) if thr.get("global", NEVER) < NEVER else None,
                     "precision": thr.get("precision"), "coverage": thr.get("coverage"), "classes": classes}
        if part == "priority":
            out[part]["escalation"] = thr.get("escalation")
    return out


def effect(bundle: ModelVersionArtifact | None, part: str, label: str) -> dict | None:
    """What the thresholds in ``bundle`` (as :func:`apply` made it) do for ``label``: its row."""
    return (bundle.thresholds_of(part) if bundle else {}).get("classes", {}).get(label)


def put_rule(engine, *, part: str, label: str, **fields) -> dict:
    """Store a rule (see :func:`set_rule` for ``fields``) for the labels ``engine``'s active
    version and the stored tickets know; return it with its ``effect`` on the validation slice."""
    _, bundle = engine.current()
    with engine.db.session() as session:
        known = known_labels(session=session, part=part, bundle=bundle)
        rule = rule_view(set_rule(session=session, part=part, label=label, known=known, **fields))
    engine.invalidate()
    return {**rule, "effect": effect(engine.current()[1], part, label)}


def remove_rule(engine, *, part: str, label: str) -> None:
    with engine.db.session() as session:
        delete_rule(session=session, part=part, label=label)
    engine.invalidate()


def rules(*, session: Session) -> dict[str, dict[str, dict]]:
    """The stored rules by part and label."""
    out: dict[str, dict[str, dict]] = {part: {} for part in PARTS}
    for rule in session.scalars(select(RoutingRule).order_by(RoutingRule.id)):
        out.setdefault(rule.part, {})[rule.label] = rule_view(rule)
    return out


def rule_view(rule: RoutingRule) -> dict:
    return {"part": rule.part, "label": rule.label, "target_precision": rule.target_precision,
            "auto_route": rule.auto_route, "updated_by": rule.updated_by,
            "updated_at": rule.updated_at.isoformat() if rule.updated_at else None}


def known_labels(*, session: Session, part: str, bundle: ModelVersionArtifact | None) -> set[str]:
    """Labels a rule may name: the active version's classes and the labels stored tickets carry."""
    _check_part(part)
    column = {"category": Ticket.category, "tier": Ticket.tier, "priority": Ticket.priority}[part]
    labels = set(session.scalars(select(column).where(column.is_not(None)).distinct()))
    model = bundle.model(part) if bundle else None
    if model is not None:
        labels |= {str(c) for c in model.classes_}
    return labels


def _check_part(part: str) -> None:
    if part not in PARTS:
        raise ValidationError(f"part must be one of {', '.join(PARTS)}, not {part!r}", field="part")


def set_rule(*, session: Session, part: str, label: str, known: set[str], target_precision: float | None = None,
             auto_route: bool = True, updated_by: str | None = None) -> RoutingRule:
    """Create or replace the rule for ``label``; it must be a label in ``known``."""
    _check_part(part)
    if label not in known:
        raise NotFound(f"no {part} {label!r} in the active model or the stored tickets", field="label")
    if auto_route and target_precision is None:
        raise ValidationError("a rule that keeps auto-routing on needs target_precision", field="target_precision")
    if target_precision is not None and not MIN_TARGET <= target_precision <= MAX_TARGET:
        raise ValidationError(f"target_precision must be between {MIN_TARGET} and {MAX_TARGET}",
                              field="target_precision")
    # One statement, so two admins setting the same label at once leave one rule (the later one).
    fields = {"target_precision": target_precision if auto_route else None, "auto_route": bool(auto_route),
              "updated_by": updated_by, "updated_at": utcnow()}
    upsert(session, RoutingRule, {"part": part, "label": label, **fields}, ["part", "label"], fields)
    change_feed.record(session, "routing", [f"{part}/{label}"])
    session.flush()
    return session.scalar(select(RoutingRule).where(RoutingRule.part == part, RoutingRule.label == label)
                          .execution_options(populate_existing=True))


def delete_rule(*, session: Session, part: str, label: str) -> None:
    """Remove the rule for ``label``: the deployment's target applies to it again."""
    _check_part(part)
    rule = session.scalar(select(RoutingRule).where(RoutingRule.part == part, RoutingRule.label == label))
    if rule is None:
        raise NotFound(f"no routing rule for {part} {label!r}", field="label")
    session.delete(rule)
    change_feed.record(session, "routing", [f"{part}/{label}"])
    session.flush()
