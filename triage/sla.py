"""Service-level targets: when a ticket needs its first response and its resolution, and which open
tickets are closest to breaking them.

A policy names a customer plan ('*' for any) and a priority, either the desk's own label (as the
priority model learned it) or a level P1-P4; a desk's labels fall into levels by their rank
(:func:`triage.priority.order`: with Blocker, Critical, Major, Minor, Trivial, Blocker is P1 and
Trivial P4). The most specific policy wins: the plan's own before '*', the label before its level.
Without any stored policy the built-in targets below serve. Times run around the clock unless the
policy names business hours and a time zone (triage.business_hours): then only open hours count.

Clocks stop on feedback: ``responded`` (or an accepted suggestion, or resolution) stops the first
response clock, ``resolved`` the resolution clock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common import change_feed
from common.db import as_utc, upsert, utcnow
from common.errors import NotFound, ValidationError
from triage import business_hours
from triage.priority import RULE_LABELS, word_level
from triage.tables import SlaPolicy, Ticket, TriageDecision

log = logging.getLogger("kbtriage.sla")

ANY_PLAN = "*"
# Built-in targets (minutes to first response, to resolution) per level, used where no policy is stored.
DEFAULTS = {"P1": (60, 4 * 60), "P2": (4 * 60, 24 * 60), "P3": (8 * 60, 3 * 24 * 60), "P4": (24 * 60, 5 * 24 * 60)}
WEIGHT = {"P1": 4.0, "P2": 3.0, "P3": 2.0, "P4": 1.0}  # how much a level's time to breach counts in the queue
MAX_MINUTES = 366 * 24 * 60
PLAN_KEYS = ("plan", "customer_plan", "tier_plan", "subscription")  # where a ticket's meta names the plan


def level(label: str | None, ranked: list[str] | None = None) -> str:
    """The level P1-P4 of a priority label: itself when it is one, else its place in ``ranked``
    (the desk's labels, most urgent first) spread over the four levels."""
    if not label:
        return "P3"
    if label.upper() in RULE_LABELS:
        return label.upper()
    if not ranked or label not in ranked or len(ranked) == 1:
        return word_level(label)
    position = ranked.index(label) / (len(ranked) - 1)
    return RULE_LABELS[min(3, int(round(position * 3)))]


def plan_of(meta: dict | None) -> str | None:
    for key in PLAN_KEYS:
        value = (meta or {}).get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


@dataclass(frozen=True)
class Target:
    first_response_minutes: int
    resolution_minutes: int
    basis: str  # which policy: "plan 'enterprise', priority 'P1'" or "built-in P3"
    hours: business_hours.BusinessHours | None = None  # None: the clocks run around the clock


def target(policies, *, plan: str | None, priority: str | None, ranked: list[str] | None) -> Target:
    """The most specific policy for a ticket's plan and priority."""
    lvl = level(priority, ranked)
    by_key = {(p.plan.lower(), p.priority.lower()): p for p in policies}
    for p_plan in ([plan.lower()] if plan else []) + [ANY_PLAN]:
        for p_prio in ([priority.lower()] if priority else []) + [lvl.lower()]:
            found = by_key.get((p_plan, p_prio))
            if found is not None:
                return Target(found.first_response_minutes, found.resolution_minutes,
                              f"plan '{found.plan}', priority '{found.priority}'",
                              business_hours.parse(found.business_hours, found.timezone))
    first, resolution = DEFAULTS[lvl]
    return Target(first, resolution, f"built-in {lvl}")


def due_times(policies, *, created_at: datetime, plan: str | None, priority: str | None,
              ranked: list[str] | None) -> tuple[datetime | None, datetime | None]:
    t = target(policies, plan=plan, priority=priority, ranked=ranked)
    start = as_utc(created_at)
    if t.hours is not None:
        try:
            return t.hours.add(start, t.first_response_minutes), t.hours.add(start, t.resolution_minutes)
        except business_hours.BusinessHoursError as exc:
            # A policy stored before its targets were checked against its hours (set_policy refuses
            # them now): the ticket is decided, with no due times, rather than refused.
            log.warning("SLA %s: %s (%s); the ticket gets no due times", t.basis, exc, t.hours.describe())
            return None, None
    return start + timedelta(minutes=t.first_response_minutes), start + timedelta(minutes=t.resolution_minutes)


def retarget(*, session: Session, ticket: Ticket, priority: str) -> None:
    """A corrected priority moves the due times of the ticket's newest decision."""
    decision = session.scalar(select(TriageDecision).where(TriageDecision.ticket_id == ticket.id,
                                                           TriageDecision.first_response_due.is_not(None))
                              .order_by(TriageDecision.id.desc()).limit(1))
    if decision is not None:
        decision.first_response_due, decision.resolution_due = due_times(
            policies(session=session), created_at=ticket.created_at, plan=plan_of(ticket.meta), priority=priority,
            ranked=None)


def policies(*, session: Session) -> list[SlaPolicy]:
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.plan, SlaPolicy.priority)))


@dataclass(frozen=True)
class Terms:
    """A stored policy's terms, detached from the database (what :func:`target` reads): the triage
    engine keeps these between its reloads instead of reading the table on every ticket."""
    plan: str
    priority: str
    first_response_minutes: int
    resolution_minutes: int
    business_hours: str | None
    timezone: str | None


def in_force(*, session: Session) -> tuple[Terms, ...]:
    return tuple(Terms(p.plan, p.priority, p.first_response_minutes, p.resolution_minutes, p.business_hours,
                       p.timezone) for p in policies(session=session))


def view(p: SlaPolicy) -> dict:
    return {"plan": p.plan, "priority": p.priority, "first_response_minutes": p.first_response_minutes,
            "resolution_minutes": p.resolution_minutes, "business_hours": p.business_hours,
            "timezone": p.timezone if p.business_hours else None, "updated_by": p.updated_by,
            "updated_at": p.updated_at.isoformat() if p.updated_at else None}


def defaults_view() -> list[dict]:
    return [{"plan": ANY_PLAN, "priority": lvl, "first_response_minutes": f, "resolution_minutes": r,
             "business_hours": None, "timezone": None, "built_in": True} for lvl, (f, r) in DEFAULTS.items()]


def _check(plan: str, priority: str, first: int, resolution: int) -> None:
    for name, value, limit in (("plan", plan, 100), ("priority", priority, 50)):
        if (not isinstance(value, str) or not value.strip() or len(value) > limit or value != value.strip()
                or "\x00" in value):
            raise ValidationError(f"{name} must be text of 1 to {limit} characters without surrounding spaces "
                                  "or NUL characters", field=name)
    for name, value in (("first_response_minutes", first), ("resolution_minutes", resolution)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_MINUTES:
            raise ValidationError(f"{name} must be a whole number of minutes from 1 to {MAX_MINUTES}", field=name)
    if resolution < first:
        raise ValidationError("resolution_minutes must not be shorter than first_response_minutes",
                              field="resolution_minutes")


def _hours(spec: str | None, zone: str | None, resolution: int) -> tuple[str | None, str | None]:
    """The canonical (business_hours, timezone) to store, or the error naming the field. A
    resolution target must fit in what the business-hours clock reaches (three years): 527,040
    minutes (366 days around the clock) are over four years of office hours."""
    if zone is not None and spec is None:
        raise ValidationError("timezone needs business_hours (without them the clocks run around the clock)",
                              field="timezone")
    try:
        hours = business_hours.parse(spec, zone)
    except business_hours.BusinessHoursError as exc:
        raise ValidationError(str(exc), field=exc.field) from None
    if hours is None:
        return None, None
    if resolution > hours.most_minutes:
        raise ValidationError(
            f"resolution_minutes of {resolution:,} would take more than three years of these business hours "
            f"({hours.describe()}, {hours.weekly_minutes:,} minutes a week); at most {hours.most_minutes:,} "
            "with them", field="resolution_minutes")
    return hours.spec, hours.zone.key


def set_policy(*, session: Session, plan: str, priority: str, first_response_minutes: int,
               resolution_minutes: int, business_hours: str | None = None, timezone: str | None = None,
               updated_by: str | None = None) -> SlaPolicy:
    """Create or replace the policy for (plan, priority); safe when two admins set it at once.
    ``business_hours`` ('Mon-Fri 09:00-17:00') in ``timezone`` (IANA; UTC when not given): the clocks
    run only then; without them, around the clock. A resolution target must fit in three years of them."""
    _check(plan, priority, first_response_minutes, resolution_minutes)
    hours, zone = _hours(business_hours, timezone, resolution_minutes)
    targets = {"first_response_minutes": first_response_minutes, "resolution_minutes": resolution_minutes,
               "business_hours": hours, "timezone": zone, "updated_by": updated_by, "updated_at": utcnow()}
    upsert(session, SlaPolicy, {"plan": plan, "priority": priority, **targets}, ["plan", "priority"], targets)
    change_feed.record(session, "sla", [f"{plan}/{priority}"])  # serving processes reload their terms
    session.commit()
    return session.scalar(select(SlaPolicy).where(SlaPolicy.plan == plan, SlaPolicy.priority == priority)
                          .execution_options(populate_existing=True))


def delete_policy(*, session: Session, plan: str, priority: str) -> None:
    gone = session.execute(delete(SlaPolicy).where(SlaPolicy.plan == plan, SlaPolicy.priority == priority)).rowcount
    if gone:
        change_feed.record(session, "sla", [f"{plan}/{priority}"])
    session.commit()
    if not gone:
        raise NotFound(f"no SLA policy for plan '{plan}' and priority '{priority}'", field="priority")


def queue(*, session: Session, now: datetime | None = None, limit: int = 50, offset: int = 0,
          priority: str | None = None) -> dict:
    """Open tickets (not resolved) with a due time, riskiest first: a breached target before any
    other, then the time left to the next target divided by the priority's weight (a P1 an hour
    from breach before a P4 two hours from it). ``priority``: only tickets of that level (P1-P4) or
    that label."""
    if priority is not None and (not isinstance(priority, str) or not priority.strip() or len(priority) > 50):
        raise ValidationError("priority must be a level P1-P4 or a priority label of at most 50 characters",
                              field="priority")
    now = as_utc(now or utcnow())
    rows = session.execute(
        select(Ticket, TriageDecision).join(TriageDecision, TriageDecision.ticket_id == Ticket.id)
        .where(Ticket.resolved_at.is_(None), Ticket.status != "resolved",
               TriageDecision.first_response_due.is_not(None))
        .order_by(Ticket.id, TriageDecision.id.desc())).all()
    seen, items = set(), []
    for ticket, decision in rows:
        if ticket.id in seen:
            continue  # the newest decision of a ticket decides its clocks
        seen.add(ticket.id)
        responded = ticket.responded_at is not None
        clock = "resolution" if responded else "first_response"
        due = as_utc(decision.resolution_due if responded else decision.first_response_due)
        left = (due - now).total_seconds() / 60
        lvl = level(ticket.priority or decision.priority)  # an agent's correction first
        if priority is not None and priority.upper() != lvl \
                and priority.lower() != (ticket.priority or decision.priority or "").lower():
            continue
        weight = WEIGHT[lvl]
        risk = left * weight if left < 0 else left / weight
        items.append({"ticket_id": ticket.id, "decision_id": decision.id, "subject": ticket.subject,
                      "priority": ticket.priority or decision.priority, "level": lvl, "plan": plan_of(ticket.meta),
                      "category": decision.category,
                      "tier": decision.tier, "status": ticket.status, "clock": clock, "due": due.isoformat(),
                      "minutes_left": round(left, 1), "breached": left < 0, "risk": round(risk, 2),
                      "first_response_due": as_utc(decision.first_response_due).isoformat(),
                      "resolution_due": as_utc(decision.resolution_due).isoformat(),
                      "responded_at": as_utc(ticket.responded_at).isoformat() if responded else None})
    items.sort(key=lambda i: (i["risk"], i["ticket_id"]))
    return {"items": items[offset:offset + limit], "total": len(items), "now": now.isoformat()}
