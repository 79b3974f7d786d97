"""A desk's priority settings, stored in the database: the order of its priority labels (most urgent
first, given with ``import-tickets --priority-order``) and the impact x urgency matrix the no-labels
default follows (ITIL), which the team may change (``PUT /v1/priority/matrix``, ``kbtriage priority
matrix set``). Each write is one upsert statement, so two admins writing at once leave one row, and
the row keeps who changed it and when."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import change_feed
from common.db import upsert, utcnow
from common.errors import ValidationError
from triage.priority import DEFAULT_MATRIX, IMPACTS, RULE_LABELS, URGENCIES
from triage.tables import PrioritySetting

ORDER, MATRIX = "order", "matrix"


def _read(session: Session, name: str) -> PrioritySetting | None:
    return session.scalar(select(PrioritySetting).where(PrioritySetting.name == name))


def _write(session: Session, name: str, value: dict, by: str | None) -> None:
    now = utcnow()
    upsert(session, PrioritySetting, {"name": name, "value": value, "updated_by": by, "updated_at": now},
           ["name"], {"value": value, "updated_by": by, "updated_at": now})
    change_feed.record(session, "priority_settings", [name])
    session.commit()


def parse_order(text: str, field: str = "priority_order") -> list[str]:
    """'Blocker,Critical,Major' as a list of labels, most urgent first (blank, repeated or too long
    labels refused, naming ``field``)."""
    labels = [part.strip() for part in str(text).split(",")]
    if len(labels) < 2 or any(not label for label in labels):
        raise ValidationError(f"{field} must name at least two labels, comma-separated, most urgent first "
                              f"(got {text!r})", field=field)
    seen = {label for label in labels if labels.count(label) > 1}
    if seen:
        raise ValidationError(f"{field} names {sorted(seen)[0]!r} twice", field=field)
    too_long = [label for label in labels if len(label) > 50]
    if too_long:
        raise ValidationError(f"{field}: label {too_long[0][:40]!r}... is longer than 50 characters", field=field)
    return labels


def order(*, session: Session) -> list[str] | None:
    """The desk's order of its priority labels, most urgent first, or None (ranked by their words)."""
    row = _read(session, ORDER)
    return list(row.value.get("labels") or []) if row is not None else None


def set_order(*, session: Session, labels: list[str], by: str | None = None) -> list[str]:
    """Store the order (from :func:`parse_order`); the next training run ranks by it."""
    _write(session, ORDER, {"labels": list(labels)}, by)
    return list(labels)


def check_matrix(value, field: str = "matrix") -> dict:
    """The matrix ``{impact: {urgency: level}}`` with every impact (wide, some, one) and urgency
    (high, medium, low) and a level P1-P4 in each cell, or a ValidationError naming the cell."""
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be an object of impacts {list(IMPACTS)}", field=field)
    for impact in value:
        if impact not in IMPACTS:
            raise ValidationError(f"{field}.{impact}: unknown impact; impacts are {list(IMPACTS)}",
                                  field=f"{field}.{impact}")
    out = {}
    for impact in IMPACTS:
        row = value.get(impact)
        if not isinstance(row, dict):
            raise ValidationError(f"{field}.{impact} is missing: an object of urgencies {list(URGENCIES)}",
                                  field=f"{field}.{impact}")
        for urgency in row:
            if urgency not in URGENCIES:
                raise ValidationError(f"{field}.{impact}.{urgency}: unknown urgency; urgencies are {list(URGENCIES)}",
                                      field=f"{field}.{impact}.{urgency}")
        out[impact] = {}
        for urgency in URGENCIES:
            level = row.get(urgency)
            if level not in RULE_LABELS:
                raise ValidationError(f"{field}.{impact}.{urgency} must be one of {list(RULE_LABELS)} "
                                      f"(got {level!r})", field=f"{field}.{impact}.{urgency}")
            out[impact][urgency] = level
    return out


def matrix(*, session: Session) -> dict:
    """{matrix, default (whether it is ITIL's built-in one), updated_by, updated_at}."""
    row = _read(session, MATRIX)
    if row is None:
        return {"matrix": default_matrix(), "default": True, "updated_by": None, "updated_at": None}
    return {"matrix": row.value, "default": False, "updated_by": row.updated_by,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


def set_matrix(*, session: Session, value, by: str | None = None) -> dict:
    """Store the team's matrix (checked by :func:`check_matrix`); decisions follow it at once."""
    _write(session, MATRIX, check_matrix(value), by)
    return matrix(session=session)


def default_matrix() -> dict:
    return {impact: {urgency: DEFAULT_MATRIX[(impact, urgency)] for urgency in URGENCIES} for impact in IMPACTS}
