"""Auto-routing policy: per-class targets and switches, applied live without retraining."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from common.errors import NotFound, ValidationError
from models.metrics import threshold_for_precision, wilson_lower
from tests.conftest import make_runtime
from triage import routing
from triage.tables import RoutingRule


def _slice(seed: int = 0) -> dict:
    """Validation outcomes of a calibrated three-class model: 'big' (400 predictions), 'mid' (100),
    'small' (15). Each prediction is right with probability equal to its confidence."""
    rng = np.random.default_rng(seed)
    pred = np.array(["big"] * 400 + ["mid"] * 100 + ["small"] * 15, dtype=object)
    conf = rng.uniform(0.4, 1.0, len(pred))
    right = rng.uniform(size=len(pred)) < conf
    truth = np.where(right, pred, "other")
    return routing.outcomes(conf, pred, truth)


def _reached(kept: dict, label: str, t: float) -> tuple[float, int]:
    conf = np.asarray(kept["confidence"], dtype=float)
    pred, truth = np.asarray(kept["predicted"]), np.asarray(kept["truth"])
    routed = (pred == label) & (conf >= t)
    return float((truth[routed] == label).mean()), int(routed.sum())


def test_default_policy_is_per_class_where_a_class_has_enough_tickets():
    kept = _slice()
    thr = routing.thresholds(kept, 0.9)
    conf = np.asarray(kept["confidence"], dtype=float)
    correct = np.asarray(kept["predicted"]) == np.asarray(kept["truth"])
    assert thr["global"] == threshold_for_precision(conf, correct, 0.9, z=routing.POOLED_Z)[0]
    # the slice must show the target with a margin, so the threshold is above the bare one
    assert thr["global"] > threshold_for_precision(conf, correct, 0.9)[0]
    for label in ("big", "mid"):
        assert thr["classes"][label]["basis"] == "class"
        precision, routed = _reached(kept, label, thr["per_class"][label])
        assert precision >= 0.9 and routed >= routing.RULE_MIN_PREDICTED
        assert wilson_lower(round(precision * routed), routed, routing.CLASS_Z) >= 0.9
        assert thr["classes"][label]["precision"] == round(precision, 4)
    # 15 predictions are too few for a threshold of its own: the one over all classes applies
    assert thr["classes"]["small"]["basis"] == "all classes"
    assert thr["per_class"]["small"] == thr["global"]
    applied = np.array([thr["per_class"][p] for p in kept["predicted"]])
    assert thr["coverage"] == round(float((conf >= applied).mean()), 4)
    assert thr["precision"] == round(float(correct[conf >= applied].mean()), 4)


def test_rules_set_a_class_target_or_switch_it_off():
    kept = _slice()
    default = routing.thresholds(kept, 0.9)
    rules = {"big": {"target_precision": 0.98, "auto_route": True},
             "mid": {"target_precision": 0.7, "auto_route": True},
             "small": {"target_precision": 0.99, "auto_route": True}}
    thr = routing.thresholds(kept, 0.9, rules)
    strict, _ = _reached(kept, "big", thr["per_class"]["big"])
    assert strict >= 0.98 and thr["per_class"]["big"] > default["per_class"]["big"]
    assert thr["classes"]["big"]["coverage"] < default["classes"]["big"]["coverage"]
    assert thr["per_class"]["mid"] < default["per_class"]["mid"]  # a looser target routes more
    assert thr["classes"]["mid"]["coverage"] > default["classes"]["mid"]["coverage"]
    # a rule lowers the support a class needs for its own threshold (10), 'small' has 15; and a
    # rule's threshold is never below where the class's calibrated confidences average its target
    assert thr["classes"]["small"]["basis"] in ("class", "calibration")
    assert thr["classes"]["small"]["target_precision"] == 0.99
    conf, pred = np.asarray(kept["confidence"], dtype=float), np.asarray(kept["predicted"])
    for label, rule in rules.items():
        bound = routing.calibrated_threshold(conf[pred == label], rule["target_precision"])
        assert thr["per_class"][label] >= bound
        routed = conf[(pred == label) & (conf >= thr["per_class"][label])]
        assert not len(routed) or routed.mean() >= rule["target_precision"]
    off = routing.thresholds(kept, 0.9, {"mid": {"target_precision": None, "auto_route": False}})
    assert off["per_class"]["mid"] == routing.NEVER and off["classes"]["mid"]["basis"] == "off"
    assert off["classes"]["mid"]["coverage"] == 0.0 and off["classes"]["mid"]["threshold"] is None
    assert off["per_class"]["big"] == default["per_class"]["big"]
    assert off["coverage"] < default["coverage"]


def test_calibration_bound_on_rules():
    assert routing.calibrated_threshold([0.99, 0.97, 0.9, 0.5], 0.95) == 0.9  # (0.99 + 0.97 + 0.9) / 3 >= 0.95
    assert routing.calibrated_threshold([0.99, 0.97, 0.9, 0.5], 0.99) == 0.99
    assert routing.calibrated_threshold([0.8, 0.7], 0.95) == routing.NEVER
    assert routing.calibrated_threshold([], 0.95) == routing.NEVER
    # a class whose slice tickets are all right, at confidences far below its target: the
    # empirical threshold alone would route them all
    kept = routing.outcomes([0.6] * 12 + [0.9] * 30, ["x"] * 12 + ["y"] * 30, ["x"] * 12 + ["y"] * 27 + ["z"] * 3)
    thr = routing.thresholds(kept, 0.5, {"x": {"target_precision": 0.95, "auto_route": True}})
    assert thr["per_class"]["x"] == routing.NEVER and thr["classes"]["x"]["basis"] == "calibration"
    assert routing.thresholds(kept, 0.5)["per_class"]["x"] == pytest.approx(0.6)  # no rule: 'all classes' at 0.5


def test_versions_without_outcomes_keep_their_thresholds_and_honour_switches():
    fallback = {"global": 0.8, "per_class": {"a": 0.7}}
    rules = {"b": {"target_precision": None, "auto_route": False}, "a": {"target_precision": 0.99, "auto_route": True}}
    thr = routing.thresholds(None, 0.95, rules, fallback)
    assert thr == {"global": 0.8, "per_class": {"a": 0.7, "b": routing.NEVER}}


def test_rules_are_stored_validated_and_removed(session):
    known = {"Billing", "Access"}
    rule = routing.set_rule(session=session, part="category", label="Billing", known=known, target_precision=0.99,
                            updated_by="lead")
    routing.set_rule(session=session, part="category", label="Access", known=known, auto_route=False)
    routing.set_rule(session=session, part="category", label="Billing", known=known, target_precision=0.97)
    stored = routing.rules(session=session)
    assert stored["category"]["Billing"]["target_precision"] == 0.97 and rule.id is not None
    assert stored["category"]["Access"] == {**stored["category"]["Access"], "auto_route": False,
                                            "target_precision": None}
    assert stored["tier"] == {}
    with pytest.raises(NotFound) as err:
        routing.set_rule(session=session, part="category", label="Nope", known=known, target_precision=0.9)
    assert err.value.field == "label"
    with pytest.raises(ValidationError) as err:
        routing.set_rule(session=session, part="category", label="Billing", known=known, target_precision=0.2)
    assert err.value.field == "target_precision"
    with pytest.raises(ValidationError) as err:
        routing.set_rule(session=session, part="queue", label="Billing", known=known, target_precision=0.9)
    assert err.value.field == "part"
    routing.delete_rule(session=session, part="category", label="Billing")
    assert set(routing.rules(session=session)["category"]) == {"Access"}
    with pytest.raises(NotFound):
        routing.delete_rule(session=session, part="category", label="Billing")


def test_two_admins_setting_one_rule_at_once_leave_one_rule_and_no_error(tmp_path):
    rt = make_runtime(tmp_path / "home")
    barrier, errors, seen = threading.Barrier(6), [], []

    def put(target):
        try:
            barrier.wait()
            with rt.db.session() as s:
                rule = routing.set_rule(session=s, part="category", label="Billing", known={"Billing"},
                                        target_precision=target, updated_by=f"admin-{target}")
                seen.append((rule.target_precision, rule.updated_by))
                s.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(0.90 + n / 100,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Each caller was answered with a rule it or a racing admin wrote, never a half-made one.
    assert all(by == f"admin-{target}" for target, by in seen) and len(seen) == 6
    with rt.db.session() as s:
        rows = s.query(RoutingRule).all()
        assert len(rows) == 1 and rows[0].updated_by == f"admin-{rows[0].target_precision}"
    rt.close()


def test_a_rare_class_is_never_auto_routed_whatever_its_confidence_or_rule():
    kept = _slice()
    rules = {"small": {"target_precision": 0.5, "auto_route": True}}
    thr = routing.thresholds(kept, 0.9, rules, rare={"small": 4, "unseen": 1})
    assert thr["per_class"]["small"] >= routing.NEVER and thr["per_class"]["unseen"] >= routing.NEVER
    row = thr["classes"]["small"]
    assert (row["basis"], row["training_tickets"], row["threshold"], row["rule"], row["predicted"]) == (
        "rare", 4, None, True, 15)
    # The others keep the thresholds they had; the slice's figures leave the rare class unrouted.
    plain = routing.thresholds(kept, 0.9)
    assert thr["per_class"]["big"] == plain["per_class"]["big"]
    assert thr["coverage"] < plain["coverage"]
    # A version trained before outcomes were kept: its own thresholds, with the rare class off.
    old = routing.thresholds(None, 0.9, fallback={"global": 0.8, "per_class": {}}, rare={"small": 4})
    assert old["per_class"]["small"] >= routing.NEVER and old["classes"]["small"]["basis"] == "rare"
    assert routing.rare_classes(["a"] * 10 + ["b"] * 9 + ["c"], 10) == {"b": 9, "c": 1}
