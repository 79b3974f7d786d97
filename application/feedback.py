"""Agents' feedback as every entry point records it (the API's POST /v1/feedback and the console's
buttons): the events stored once per idempotency key, and the retraining they may trigger."""
from __future__ import annotations

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
    if batch:
        results = feedback.record_many(session=session, events=events)
    else:
        [event] = events
        results = [feedback.record(session=session, event=event)]
    if any(created for _, created in results) and settings.retrain_after_feedback > 0:
        maybe_enqueue(session=session, settings=settings)
    return results
