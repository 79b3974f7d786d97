"""Reports over time, for the pictures leads and editors look at rather than read.

- **Live precision over time**: per category, the precision of its auto-routed decisions in each
  day or week, judged by agents' feedback exactly as the triage report judges them
  (:func:`triage.report.triage_report` over each period's decisions), against its target.
- **The learning curve**: each model version's validation figures against the number of tickets it
  was trained on, from the reports training kept.
- **Content gaps over time**: how many tickets of each gap cluster arrived in each week.

Periods are aligned in UTC: days at midnight, weeks on Monday at midnight.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.db import as_utc
from common.errors import ValidationError
from models import registry
from triage.report import triage_report
from triage.tables import Ticket

PERIODS = {"day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_PERIODS = 52


def period_starts(*, every: str, count: int, last: datetime) -> list[datetime]:
    """The starts of ``count`` consecutive periods (``every``: day or week), the last one holding ``last``."""
    if every not in PERIODS:
        raise ValidationError(f"every must be one of {', '.join(PERIODS)}", field="every")
    if not 1 <= count <= MAX_PERIODS:
        raise ValidationError(f"periods must be from 1 to {MAX_PERIODS}", field="periods")
    last = as_utc(last).replace(hour=0, minute=0, second=0, microsecond=0)
    if every == "week":
        last -= timedelta(days=last.weekday())
    return [last - PERIODS[every] * (count - 1 - i) for i in range(count)]


def live_precision_over_time(*, session: Session, default_precision: float, every: str = "week",
                             periods: int = 12, now: datetime | None = None) -> dict:
    """Per category, the live auto-route precision in each of the last ``periods`` days or weeks
    (``now`` included), with the judged decisions behind each figure and the category's target.
    A period without a judged auto-routed decision has precision None."""
    starts = period_starts(every=every, count=periods, last=now or datetime.now(timezone.utc))
    step = PERIODS[every]
    rows: dict[str, dict] = {}
    for i, start in enumerate(starts):
        report = triage_report(session=session, default_precision=default_precision, since=start,
                               until=start + step, routed="auto")
        for cat in report["categories"]:
            if not cat["auto_routed"]:
                continue
            row = rows.setdefault(cat["category"], {"category": cat["category"], "target_precision": None,
                                                    "points": [_empty(s) for s in starts]})
            live = cat["auto_route"]
            row["target_precision"] = live["target_precision"]
            row["points"][i] = {"start": start.isoformat(), "auto_routed": cat["auto_routed"], "judged": live["judged"],
                                "confirmed": live["confirmed"], "precision": live["precision"]}
    categories = sorted(rows.values(), key=lambda r: (-sum(p["judged"] for p in r["points"]), r["category"]))
    return {"every": every, "periods": [s.isoformat() for s in starts], "categories": categories}


def _empty(start: datetime) -> dict:
    return {"start": start.isoformat(), "auto_routed": 0, "judged": 0, "confirmed": 0, "precision": None}


def learning_curve(*, session: Session) -> list[dict]:
    """Each trained version, oldest first: the tickets it learned from and its validation figures
    (category accuracy and macro-F1, tier accuracy). Versions whose training kept no report are left out."""
    out = []
    for v in sorted(registry.list_versions(session=session), key=lambda v: v.id):
        report = v.report or {}
        category = (report.get("category") or {})
        validation = category.get("validation") or {}
        if not validation:
            continue
        tier = ((report.get("tier") or {}).get("validation") or {})
        out.append({"version": v.id, "status": v.status,
                    "created_at": v.created_at.isoformat() if v.created_at else None,
                    "tickets": report.get("tickets") or category.get("examples"),
                    "validated_on": validation.get("n"),
                    "category_accuracy": validation.get("accuracy"), "category_macro_f1": validation.get("macro_f1"),
                    "tier_accuracy": tier.get("accuracy")})
    return out


def gap_clusters_over_time(*, session: Session, clusters: list[dict], weeks: int = 12) -> dict:
    """For each cluster of the gap worklist (``clusters``, as ``application.gaps.report`` gives them),
    its tickets per week over the ``weeks`` weeks up to the newest ticket of any of them, and how
    many came before those weeks."""
    ids = {int(i) for c in clusters for i in c["ticket_ids"]}
    arrived = dict(session.execute(select(Ticket.id, Ticket.created_at).where(Ticket.id.in_(ids))).all()) if ids else {}
    times = [as_utc(t) for t in arrived.values() if t is not None]
    if not times:
        return {"weeks": [], "clusters": [{"proposed_title": c["proposed_title"], "counts": [], "earlier": 0}
                                          for c in clusters]}
    starts = period_starts(every="week", count=weeks, last=max(times))
    out = []
    for c in clusters:
        counts, earlier = [0] * len(starts), 0
        for tid in c["ticket_ids"]:
            at = arrived.get(int(tid))
            if at is None:
                continue
            at = as_utc(at)
            week = (at - starts[0]) // PERIODS["week"]
            if week < 0:
                earlier += 1
            else:
                counts[min(int(week), len(starts) - 1)] += 1
        out.append({"proposed_title": c["proposed_title"], "counts": counts, "earlier": earlier})
    return {"weeks": [s.isoformat() for s in starts], "clusters": out}
