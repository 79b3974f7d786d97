"""Priority: how urgently a ticket needs an answer.

A desk that labels its tickets with a priority (any label set: P1-P4, Blocker ... Trivial, High /
Medium / Low) gets a priority model trained on those labels like the tier model, and each decision
its label with a calibrated confidence. Without labels, priority follows ITIL's impact x urgency
matrix from what the ticket says: how many are affected (impact) and whether work is blocked,
security or data is at stake (urgency); the reason names the words that decided it.

``order`` ranks a desk's labels from most to least urgent, so that the top priority can be
escalated and queues sorted, whatever the labels are called.
"""
from __future__ import annotations

import re

import numpy as np

# Words that say how urgent a label is, most urgent first; a label is ranked by the first it holds.
_RANK_WORDS = ("p0", "sev0", "sev 0", "p1", "sev1", "sev 1", "blocker", "emergency", "urgent", "critical",
               "highest", "p2", "sev2", "sev 2", "high", "major", "p3", "sev3", "sev 3", "medium", "normal",
               "moderate", "p4", "sev4", "sev 4", "low", "minor", "p5", "lowest", "trivial", "planning")
RULE_LABELS = ("P1", "P2", "P3", "P4")
# ITIL's matrix, impact (rows: wide, some, one) x urgency (columns: high, medium, low); a team may
# store its own (triage/priority_settings.py).
IMPACTS, URGENCIES = ("wide", "some", "one"), ("high", "medium", "low")
DEFAULT_MATRIX = {("wide", "high"): "P1", ("wide", "medium"): "P2", ("wide", "low"): "P3",
           ("some", "high"): "P2", ("some", "medium"): "P3", ("some", "low"): "P4",
           ("one", "high"): "P3", ("one", "medium"): "P4", ("one", "low"): "P4"}
_WIDE = ("all users", "all our users", "all of our users", "all staff", "all employees", "everyone", "every user",
         "everybody", "whole company", "entire company", "whole office", "entire office", "whole team",
         "entire team", "all customers", "all our customers", "company-wide", "company wide", "nobody can",
         "no one can", "outage", "production is down", "site is down", "service is down", "all of us")
_SOME = ("several users", "multiple users", "some users", "a few users", "several people", "several of us",
         "our team", "my team", "the team", "colleagues", "customers are", "many users", "users are")
_BLOCKED = ("cannot", "can't", "can not", "cant ", "unable to", "not working", "doesn't work", "does not work",
            "is down", "went down", "stopped working", "blocked", "locked out", "crash", "outage", "fails",
            "failing", "broken", "urgent", "asap", "immediately", "right away", "emergency")
_AT_STAKE = ("security", "breach", "hacked", "compromised", "phishing", "malware", "ransomware", "virus",
             "data loss", "lost data", "lost all", "deleted", "leak", "fraud", "stolen", "unauthori")
_ASKING = ("how do i", "how can i", "how to", "is it possible", "question", "would like", "wondering",
           "feature request", "suggestion", "could you add", "when will", "information about", "can i ")


def _holds(label: str, word: str) -> bool:
    """Whether the (lower-case) label holds the word as a whole word ("p1" in "p1 - urgent", not in "p10")."""
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", label) is not None


def order(labels, given: list[str] | None = None) -> list[str]:
    """The labels from most to least urgent: in the desk's ``given`` order (``import-tickets
    --priority-order``) when there is one, else by the urgency words they hold (P1 before P2,
    Blocker before Major before Minor), labels holding none after those, by name. Labels the given
    order lacks (a correction's new label) follow it, ranked by their words."""
    if given:
        present = {str(label) for label in labels}
        return [label for label in given if label in present] + order(present - set(given))
    def rank(label: str) -> tuple:
        low = label.strip().lower()
        for i, word in enumerate(_RANK_WORDS):
            if _holds(low, word):
                return (0, i, low)
        digits = re.findall(r"\d+", low)
        return (1, int(digits[0]), low) if digits else (2, 0, low)
    return sorted({str(label) for label in labels}, key=rank)


_LEVEL_WORDS = (("P1", ("p0", "p1", "sev0", "sev1", "blocker", "emergency", "urgent", "critical", "highest")),
                ("P2", ("p2", "sev2", "high")),
                ("P4", ("p4", "p5", "sev4", "low", "lowest", "minor", "trivial", "planning")))


def word_level(label: str) -> str:
    """The level P1-P4 a label's own words suggest, seen alone (P3 when they say nothing)."""
    low = label.strip().lower()
    for lvl, words in _LEVEL_WORDS:
        if any(_holds(low, w) for w in words):
            return lvl
    return "P3"


def _found(text: str, words) -> list[str]:
    return [w.strip() for w in words if w in text]


def by_rules(text: str, matrix: dict | None = None) -> dict:
    """ITIL's impact x urgency from the ticket's words: {priority, priority_confidence (None: no
    labels to calibrate against), priority_reason}. ``matrix``: the team's ``{impact: {urgency:
    level}}`` (None: ITIL's); the reason names the cell used."""
    low = " ".join(text.lower().split())
    wide, some = _found(low, _WIDE), _found(low, _SOME)
    blocked, at_stake, asking = _found(low, _BLOCKED), _found(low, _AT_STAKE), _found(low, _ASKING)
    impact = "wide" if wide else "some" if some else "one"
    if at_stake and impact == "one":
        impact = "some"  # a security or data-loss matter reaches beyond the one who reports it
    urgency = "high" if (blocked or at_stake) else "low" if asking else "medium"
    label = matrix[impact][urgency] if matrix else DEFAULT_MATRIX[(impact, urgency)]
    said = {"wide": f"many affected ('{wide[0]}')" if wide else "",
            "some": f"several affected ('{some[0]}')" if some else "security or data at stake",
            "one": "one person affected"}[impact]
    why = (f"work blocked ('{blocked[0]}')" if blocked else f"'{at_stake[0]}' at stake" if at_stake else
           f"a question or request ('{asking[0]}')" if asking else "nothing says work is blocked")
    return {"priority": label, "priority_confidence": None,
            "priority_reason": f"{label}: {said}, {why} ({'the team' if matrix else 'ITIL'}'s impact x urgency "
                               f"matrix, cell impact {impact} x urgency {urgency} = {label}: no priority labels to "
                               "learn from)"}


FEATURE_COLUMNS_KEY = "_feature_columns"  # in a ticket's meta: the fields import-tickets --feature-column named


def feature_columns(meta: dict | None) -> list[str]:
    """The fields a ticket's import named as priority features (``--feature-column``)."""
    named = (meta or {}).get(FEATURE_COLUMNS_KEY)
    return [str(c) for c in named] if isinstance(named, list) else []


def metadata_record(meta: dict | None, channel: str | None, plan: str | None) -> dict:
    """What a priority model may read of a ticket, by field name: its meta's fields (a file's
    columns, the API's ``meta``), its ``plan`` (as the SLA finds it) and its ``channel``."""
    out = {k: v for k, v in (meta or {}).items() if k != FEATURE_COLUMNS_KEY}
    out["plan"], out["channel"] = plan, channel if channel is not None else out.get("channel")
    return out


def metadata_words(field: str, value: str) -> str:
    """A field that weighed in, as a person says it: 'enterprise plan', 'phone channel', "region 'emea'"."""
    return f"{value} {field}" if field in ("plan", "channel") else f"{field} '{value}'"


def by_model(classes, row: np.ndarray, ranked: list[str], trained_on: int, weighed: list[tuple] = ()) -> dict:
    """The priority model's answer for one ticket, with the runner-up in the reason; ``weighed``
    (field, value, the label's probability without it) names the metadata that raised it."""
    top = np.argsort(-row)[:2]
    label, confidence = str(classes[top[0]]), round(float(row[top[0]]), 4)
    said = "".join(f"; {metadata_words(f, v)} (without it {p:.2f})" for f, v, p in weighed)
    reason = (f"{label} ({confidence:.2f}) from the wording{said}, learned from {trained_on} tickets with a "
              "priority")
    if len(top) > 1:
        reason += f"; next {classes[top[1]]} ({float(row[top[1]]):.2f})"
    if ranked and label == ranked[0]:
        reason += "; the most urgent priority"
    return {"priority": label, "priority_confidence": confidence, "priority_reason": reason}


def escalate(decided: dict, policy: dict | None, top: str | None) -> dict:
    """Whether the decision ``decided`` (its priority and confidence) is escalated without a person
    under ``policy`` (the version's escalation of its top priority ``top``, triage/routing.py):
    {escalate, priority_reason} with the reason saying why for a top-priority ticket."""
    label, confidence, reason = decided["priority"], decided["priority_confidence"], decided["priority_reason"]
    if confidence is None:
        if label != (top or RULE_LABELS[0]):
            return {"escalate": False, "priority_reason": reason}
        return {"escalate": False, "priority_reason": f"{reason}; not escalated: no priority model, so no calibrated "
                                                      "confidence to escalate on"}
    if label != top:
        return {"escalate": False, "priority_reason": reason}
    policy = policy or {}
    threshold, target = policy.get("threshold"), policy.get("target_precision")
    if threshold is None:
        why = policy.get("basis") or "no escalation threshold in this model version"
        return {"escalate": False, "priority_reason": f"{reason}; not escalated: {why}"}
    if confidence >= threshold:
        return {"escalate": True, "priority_reason": f"{reason}; escalated: {label} at {confidence:.2f} \u2265 "
                                                     f"threshold {threshold:.2f} for target {target:.2f}"}
    return {"escalate": False, "priority_reason": f"{reason}; not escalated: {label} at {confidence:.2f} < "
                                                  f"threshold {threshold:.2f} for target {target:.2f}"}
