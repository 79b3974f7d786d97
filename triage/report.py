"""The triage report for support leads: how the decisions did in production, judged by agents.

Validation figures say what a model should do; this report says what it did. It reads the stored
decisions and the feedback agents gave on them:

- **Categories.** A decision's category is *corrected* when an agent changed it to another
  label, and *confirmed* when the ticket reached an outcome (resolved, escalated, an article
  accepted, or the tier corrected) with the category left as it was, or corrected to the same
  label. Decisions with neither are not judged. Live accuracy = confirmed / judged.
- **Auto-routing.** The same judgement over auto-routed decisions is the precision the intake
  system actually got, per category, against the target the routing policy promised (the
  deployment's default or the category's rule). Each figure carries a 95% Wilson interval; a
  category is ``below_target`` when even the interval's upper end is under its target (the
  promise is clearly broken: set a stricter rule or switch its auto-routing off), ``watch``
  when its precision is under target but the interval still reaches it, ``ok`` otherwise.
- **Calibration.** Whether the stated category confidences hold live: ECE over the judged
  decisions and a reliability table (per confidence bin, the mean confidence and the share right).
- **Tiers.** Tier 2 means L1 could not resolve the ticket, so a tier is judged by what happened:
  a tier correction names the right tier; an escalation says tier 2 was needed; a resolution on
  the first touch says L1 sufficed. Otherwise it is not judged. Tickets predicted L1 that were
  escalated are also counted apart.
- **Suggestions.** For tickets an article answered (accepted, or resolved with an article): at
  which rank the answering article was suggested (live hit@1 and hit@3), or not at all;
  rejections by reason.
- **First-contact resolution.** Of the tickets that reached a known outcome (escalated, or resolved
  with ``first_touch`` given), the share resolved on the first touch. Resolved feedback without
  ``first_touch`` does not count either way.
- **Gaps.** Decisions flagged as content gaps, and how many of those an existing article answered
  after all.
- **SLA attainment.** Per priority level (an agent's correction first) and per category, over the
  tickets whose latest decision in the window carries due times: a clock is *met* when it was
  stopped (``responded`` / ``resolved`` feedback) by its due time, *breached* when it was stopped
  later or is still running past it, and *running* otherwise (not counted yet). Attainment =
  met / (met + breached).

Feedback that names a decision applies to it; feedback that names only the ticket applies to the
ticket's latest decision made before the feedback.
"""
from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.db import as_utc
from common.errors import ValidationError
from models.metrics import expected_calibration_error, reliability_table, wilson_interval
from triage import routing, sla
from triage.feedback import REJECT_REASONS
from triage.service import is_first_tier
from triage.tables import FeedbackEvent, Ticket, TriageDecision

OUTCOMES = ("resolved", "escalated", "accepted", "tier_corrected")


@dataclass
class _Judged:
    """What the feedback says about one decision."""

    category: str | None = None  # the category agents settled on (None: not corrected)
    tier: str | None = None
    outcome: bool = False  # reached an outcome (resolved, escalated, accepted, tier corrected)
    resolved: bool = False
    first_touch: bool | None = None  # None: no resolved feedback said
    escalated: bool = False
    answered_by: str | None = None  # the article that answered the ticket
    rejected: Counter = field(default_factory=Counter)


def _tally() -> dict:
    """Counts of a group of decisions (a category, a model version); [confirmed, judged] pairs."""
    return {"decisions": 0, "auto_routed": 0, "all": [0, 0], "auto": [0, 0]}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _precision(confirmed: int, judged: int) -> dict:
    low, high = wilson_interval(confirmed, judged)
    return {"judged": judged, "confirmed": confirmed, "corrected": judged - confirmed,
            "precision": _share(confirmed, judged),
            "interval": [round(low, 4), round(high, 4)] if judged else None}


def _status(row: dict, target: float | None) -> str:
    if not row["judged"] or target is None:
        return "no_feedback" if not row["judged"] else "ok"
    if row["interval"][1] < target:
        return "below_target"
    return "watch" if row["precision"] < target else "ok"


def _calibration(pairs: list[tuple[float, bool]], bins: int = 10) -> dict:
    """Do the stated category confidences hold live? ECE over the judged decisions (15 bins, as
    on the validation slice) and a reliability table of ``bins`` equal-width confidence bins."""
    if not pairs:
        return {"judged": 0, "ece": None, "bins": []}
    conf = [c for c, _ in pairs]
    right = [r for _, r in pairs]
    table = [{"confidence": [round(row["edges"][0], 2), round(row["edges"][1], 2)], "decisions": row["n"],
              "mean_confidence": round(row["confidence"], 4), "accuracy": round(row["accuracy"], 4)}
             for row in reliability_table(conf, right, bins)]
    return {"judged": len(pairs), "ece": round(expected_calibration_error(conf, right), 4), "bins": table}


def _first_tier_truth(j: _Judged) -> bool | None:
    """Whether the ticket was a first-tier one, by the feedback: a tier correction says so; an
    escalation says tier 2 was needed; a first-touch resolution says L1 solved it. None: unknown."""
    if j.tier is not None:
        return is_first_tier(j.tier)
    if j.escalated:
        return False
    if j.resolved and j.first_touch:
        return True
    return None


def _judge(decisions: list, events: list) -> dict[int, _Judged]:
    """Each decision's judgement from the events (see the module docstring for what applies where)."""
    by_ticket: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for d in decisions:
        by_ticket[d.ticket_id].append((d.created_at, d.id))
    for rows in by_ticket.values():
        rows.sort()
    known = {d.id for d in decisions}
    out: dict[int, _Judged] = defaultdict(_Judged)
    for e in sorted(events, key=lambda e: (e.created_at, e.id)):
        target = e.decision_id if e.decision_id in known else None
        if target is None and e.decision_id is None:
            rows = by_ticket.get(e.ticket_id, [])
            at = bisect.bisect_right([c for c, _ in rows], e.created_at)
            target = rows[at - 1][1] if at else None
        if target is None:
            continue
        j = out[target]
        if e.kind == "category_corrected":
            j.category = e.value
        elif e.kind == "tier_corrected":
            j.tier = e.value
        elif e.kind == "rejected":
            j.rejected[e.reason or "unspecified"] += 1
        if e.kind in ("accepted", "resolved") and e.article_id:
            j.answered_by = e.article_id
        if e.kind == "resolved":
            j.resolved = True
            if e.first_touch is not None:
                j.first_touch = bool(j.first_touch) or e.first_touch
        if e.kind == "escalated":
            j.escalated = True
        j.outcome = j.outcome or e.kind in OUTCOMES
    return out


def _clock(stopped: datetime | None, due: datetime | None, now: datetime) -> str | None:
    """'met', 'breached' or 'running' for one SLA clock (None: the decision has no due time)."""
    if due is None:
        return None
    due = as_utc(due)
    if stopped is not None:
        return "met" if as_utc(stopped) <= due else "breached"
    return "breached" if now > due else "running"


def _attainment(rows: dict) -> dict:
    out = {"tickets": rows["tickets"]}
    for clock in ("first_response", "resolution"):
        c = rows[clock]
        out[clock] = {**c, "attainment": _share(c["met"], c["met"] + c["breached"])}
    return out


def _sla_attainment(rows, now: datetime) -> dict:
    """SLA attainment per priority level and per category (module doc) from (decision id, ticket id,
    category, decision priority, first response due, resolution due, ticket priority, responded at,
    resolved at) rows; a ticket's latest decision counts."""
    latest = {}
    for row in rows:
        latest[row.ticket_id] = row  # rows come in decision order

    def tally():
        return {"tickets": 0, "first_response": Counter(met=0, breached=0, running=0),
                "resolution": Counter(met=0, breached=0, running=0)}
    overall, by_level, by_category = tally(), defaultdict(tally), defaultdict(tally)
    for row in latest.values():
        lvl = sla.level(row.ticket_priority or row.priority)
        first = _clock(row.responded_at, row.first_response_due, now)
        done = _clock(row.resolved_at, row.resolution_due, now)
        for bucket in (overall, by_level[lvl], by_category[row.category or "(none)"]):
            bucket["tickets"] += 1
            bucket["first_response"][first] += first is not None
            bucket["resolution"][done] += done is not None
    return {"now": now.isoformat(), **_attainment(overall),
            "priorities": [{"level": lvl, **_attainment(by_level[lvl])} for lvl in sorted(by_level)],
            "categories": [{"category": c, **_attainment(r)}
                           for c, r in sorted(by_category.items(), key=lambda kv: (-kv[1]["tickets"], kv[0]))]}


def triage_report(*, session: Session, default_precision: float, since: datetime | None = None,
                  until: datetime | None = None, routed: str | None = None, now: datetime | None = None) -> dict:
    """How the decisions made in ``[since, until)`` did, by the feedback agents gave on them.
    ``routed``: only the tickets with a decision of that route in the window (all their decisions,
    so that feedback goes to the same decision as in the whole report); the parts about that
    route are the whole report's, the rest covers those tickets only."""
    since, until = as_utc(since), as_utc(until)
    if since is not None and until is not None and until <= since:
        raise ValidationError("until must be later than since", field="until")

    def in_window(query, *, routed_tickets=routed is not None):
        if since is not None:
            query = query.where(TriageDecision.created_at >= since)
        query = query.where(TriageDecision.created_at < until) if until is not None else query
        if routed_tickets:
            query = query.where(TriageDecision.ticket_id.in_(in_window(
                select(TriageDecision.ticket_id).where(TriageDecision.route == routed), routed_tickets=False
            ).scalar_subquery()))
        return query

    decisions = session.execute(in_window(select(
        TriageDecision.id, TriageDecision.ticket_id, TriageDecision.model_version_id, TriageDecision.category,
        TriageDecision.tier, TriageDecision.route, TriageDecision.suggestions, TriageDecision.gap,
        TriageDecision.created_at, TriageDecision.category_confidence)).order_by(TriageDecision.id)).all()
    tickets = in_window(select(TriageDecision.ticket_id))
    events = session.execute(
        select(FeedbackEvent.id, FeedbackEvent.ticket_id, FeedbackEvent.decision_id, FeedbackEvent.kind,
               FeedbackEvent.article_id, FeedbackEvent.reason, FeedbackEvent.value, FeedbackEvent.first_touch,
               FeedbackEvent.created_at)
        .where(FeedbackEvent.ticket_id.in_(tickets.distinct().scalar_subquery()))).all()
    judged = _judge(decisions, events)
    sla_rows = session.execute(in_window(
        select(TriageDecision.id, TriageDecision.ticket_id, TriageDecision.category, TriageDecision.priority,
               TriageDecision.first_response_due, TriageDecision.resolution_due,
               Ticket.priority.label("ticket_priority"), Ticket.responded_at, Ticket.resolved_at)
        .join(Ticket, Ticket.id == TriageDecision.ticket_id)
        .where(TriageDecision.first_response_due.is_not(None))).order_by(TriageDecision.id)).all()
    rules = routing.rules(session=session).get("category", {})

    routes: Counter = Counter()
    category = {"all": [0, 0], "auto": [0, 0]}  # [confirmed, judged]
    per_category: dict[str, dict] = defaultdict(_tally)
    by_version: dict = defaultdict(_tally)
    tier = [0, 0]
    reliability: list[tuple[float, bool]] = []  # (category confidence, right) of judged decisions
    l1_escalated = 0
    ranks: Counter = Counter()
    answered = 0
    rejected: Counter = Counter()
    outcome_tickets: dict[int, bool] = {}  # ticket -> resolved on first touch (known either way)
    gaps = gaps_answered = 0
    for d in decisions:
        routes[d.route] += 1
        auto = d.route == "auto"
        row, ver = per_category[d.category or "(none)"], by_version[d.model_version_id]
        row["decisions"] += 1
        ver["decisions"] += 1
        row["auto_routed"] += auto
        ver["auto_routed"] += auto
        j = judged.get(d.id)
        gaps += bool(d.gap)
        if j is None:
            continue
        if d.category is not None and (j.outcome or j.category is not None):
            right = j.category is None or j.category == d.category
            if d.category_confidence is not None:
                reliability.append((d.category_confidence, right))
            for counts in (category["all"], row["all"], ver["all"]) + (
                    (category["auto"], row["auto"], ver["auto"]) if auto else ()):
                counts[0] += right
                counts[1] += 1
        first = _first_tier_truth(j)
        if d.tier is not None and first is not None:
            tier[0] += (first == is_first_tier(d.tier)) if j.tier is None else j.tier == d.tier
            tier[1] += 1
        l1_escalated += is_first_tier(d.tier) and j.escalated and j.tier is None
        rejected.update(j.rejected)
        if j.answered_by:
            answered += 1
            shown = [s.get("article_id") for s in d.suggestions or []]
            ranks[shown.index(j.answered_by) + 1 if j.answered_by in shown else 0] += 1
            gaps_answered += bool(d.gap)
        # Escalated: not resolved on the first touch. Resolved: only when the agent said whether.
        if j.escalated or (j.resolved and j.first_touch is not None):
            outcome_tickets[d.ticket_id] = outcome_tickets.get(d.ticket_id, False) or bool(
                j.resolved and j.first_touch and not j.escalated)

    categories = []
    for label, row in sorted(per_category.items(), key=lambda kv: (-kv[1]["decisions"], kv[0])):
        rule = rules.get(label)
        target = None if rule and not rule["auto_route"] else (rule or {}).get("target_precision") or default_precision
        auto = _precision(*row["auto"])
        categories.append({"category": label, "decisions": row["decisions"], "auto_routed": row["auto_routed"],
                           "accuracy": _precision(*row["all"]),
                           "auto_route": {**auto, "target_precision": target,
                                          "status": _status(auto, target) if row["auto_routed"] else "not_routed"}})
    resolved_first = sum(outcome_tickets.values())
    top3 = sum(n for r, n in ranks.items() if 1 <= r <= 3)
    return {
        "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
        "decisions": len(decisions), "routes": dict(routes),
        "auto_route_rate": _share(routes.get("auto", 0), len(decisions)),
        "category_accuracy": _precision(*category["all"]),
        "auto_route": {**_precision(*category["auto"]), "target_precision": default_precision,
                       "below_target": [c["category"] for c in categories
                                        if c["auto_route"]["status"] == "below_target"]},
        "calibration": _calibration(reliability),
        "tier_accuracy": {**_precision(*tier), "predicted_l1_escalated": l1_escalated},
        "suggestions": {"answered_by_article": answered, "answered_at_rank": {str(r): ranks[r] for r in sorted(ranks) if r},
                        "answered_by_unsuggested_article": ranks.get(0, 0),
                        "hit@1": _share(ranks[1], answered), "hit@3": _share(top3, answered),
                        "rejected_by_reason": {r: rejected.get(r, 0) for r in REJECT_REASONS}},
        "first_contact_resolution": {"tickets_with_outcome": len(outcome_tickets),
                                     "resolved_on_first_touch": resolved_first,
                                     "rate": _share(resolved_first, len(outcome_tickets))},
        "gaps": {"flagged": gaps, "answered_by_article_after_all": gaps_answered},
        "sla": _sla_attainment(sla_rows, as_utc(now) or datetime.now(timezone.utc)),
        "categories": categories,
        "model_versions": [{"model_version": v, "decisions": row["decisions"], "auto_routed": row["auto_routed"],
                            "accuracy": _precision(*row["all"]), "auto_route": _precision(*row["auto"])}
                           for v, row in sorted(by_version.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))],
    }


def live_auto_route(*, session: Session, default_precision: float, since: datetime | None) -> dict[str, dict]:
    """Per category, the live auto-route precision of decisions made since ``since`` against the
    category's target (the ``auto_route`` part of :func:`triage_report`'s rows)."""
    report = triage_report(session=session, default_precision=default_precision, since=since, routed="auto")
    return {row["category"]: row["auto_route"] for row in report["categories"] if row["auto_routed"]}


def policy_in_force(engine, live_days: int = 0) -> dict:
    """``routing.policy_view`` of what ``engine`` (a triage engine) will decide with next; with
    ``live_days``, also each category's live auto-route precision over those last days, judged by
    agents' feedback, beside what the validation slice promised."""
    live_since = datetime.now(timezone.utc) - timedelta(days=live_days) if live_days else None
    engine.invalidate()
    version_id, bundle = engine.current()
    with engine.db.session() as session:
        stored = routing.rules(session=session)
        live = (live_auto_route(session=session, default_precision=engine.settings.route_precision,
                                since=live_since) if live_since is not None else None)
    view = routing.policy_view(version_id=version_id, bundle=bundle, rules=stored,
                       default_precision=engine.settings.route_precision)
    if live is not None:
        view["live_auto_route"] = {"since": live_since.isoformat(), "categories": live}
    return view
