"""Agents' feedback as every entry point records it (the API's POST /v1/feedback and the console's
buttons): the events stored once per idempotency key, and the retraining they may trigger."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from application.worker import maybe_enqueue
from common.config import Settings
from triage import feedback
from triage.tables import FeedbackEvent


def record_feedback(*, session: Session, settings: Settings, events: list[dict],
                    batch: bool = False) -> list[tuple[FeedbackEvent, bool]]:
    """Record one event, or a ``batch`` (all or none, errors naming ``events.N``), and queue a
    retraining when the feedback since the last version reaches ``retrain_after_feedback``.
    Each pair is (the stored event, whether this call created it)."""
    try:
        results = _record(session, events, batch)
    except IntegrityError:
        # Another request stored an event under the same idempotency key between our look and our
        # write (a client's retry storm): now that it is committed, answer as for a repeat.
        session.rollback()
        results = _record(session, events, batch)
    if any(created for _, created in results) and settings.retrain_after_feedback > 0:
        maybe_enqueue(session=session, settings=settings)
    return results


def _record(session: Session, events: list[dict], batch: bool) -> list[tuple[FeedbackEvent, bool]]:
    if batch:
        return feedback.record_many(session=session, events=events)
    [event] = events
    return [feedback.record(session=session, event=event)]
