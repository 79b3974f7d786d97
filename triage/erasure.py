"""Erasing tickets: a customer's request to be forgotten, or a retention period that has passed.

A ticket's text lives in more places than its row: its triage decisions and agents' feedback, the
embedding cache (its vector, for every encoder that embedded it), the training feature cache (its
TF-IDF row), and the model versions trained while it was stored (nearest-ticket keys, rejection
memory, vocabulary). Erasure removes it from all of them:

- the rows (ticket, decisions, feedback) and the cached vectors and feature rows, at once;
- model versions that do not serve: their files are deleted at once (status ``pruned``), so no
  rollback can bring the ticket back;
- the serving version, and one being trained meanwhile: a training job (trigger ``erasure``,
  promoted whatever its comparison says) replaces it, and training prunes every version that
  started before the latest erasure once it no longer serves.

Each erasure leaves a row in ``erasures`` (when, by whom, how the tickets were chosen, how many),
never their content. The caller gets a report of what was removed and what still holds the tickets
until the job ends.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from common import change_feed
from common.db import as_utc, utcnow, valid_id
from common.errors import NotFound, ValidationError, some_of
from models import jobs, registry
from models.feature_cache import FeatureCache
from models.tables import ModelVersion
from triage.surges import erasure_mark
from triage.tables import Erasure, FeedbackEvent, Ticket, TicketVector, TriageDecision, ticket_text

log = logging.getLogger("kbtriage.erasure")

MAX_IDS = 1000  # ids in one request; a retention purge goes by date instead
RETENTION = "retention"  # requested_by of the purges the retention period makes
RETENTION_EVERY = timedelta(hours=24)  # one purge (and one retrain) a day at most
_CHUNK = 500  # ids per IN (...) clause, below SQLite's variable limit
_BATCH = 5000  # tickets erased per commit


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


@dataclass
class Selection:
    """The tickets an erasure request names (their ids: a retention purge may name millions, so
    their rows are read a batch at a time), and the request itself (for the erasure log)."""

    ticket_ids: list[int]
    criteria: dict


def select_tickets(*, session: Session, ticket_ids=(), external_ids=(), created_before: datetime | None = None
                   ) -> Selection:
    """The tickets an erasure request names. Every id must exist (nothing is erased otherwise);
    ``created_before`` selects every ticket created before that time (a retention purge)."""
    criteria = {"ticket_ids": list(ticket_ids), "external_ids": list(external_ids),
                "created_before": created_before.isoformat() if created_before else None}
    ticket_ids, external_ids = list(dict.fromkeys(ticket_ids)), list(dict.fromkeys(external_ids))
    if not ticket_ids and not external_ids and created_before is None:
        raise ValidationError("name the tickets to erase: ticket ids, external ids or a creation cut-off",
                              field="ticket_ids")
    for field, ids in (("ticket_ids", ticket_ids), ("external_ids", external_ids)):
        if len(ids) > MAX_IDS:
            raise ValidationError(f"at most {MAX_IDS} {field} per request", field=field)
    bad = [i for i in ticket_ids if not valid_id(i)]
    if bad:
        raise ValidationError(f"ticket ids must be positive integers, got {bad[:10]}", field="ticket_ids")
    found: set[int] = set()
    for part in _chunks(ticket_ids):
        found.update(session.scalars(select(Ticket.id).where(Ticket.id.in_(part))))
    missing = [i for i in ticket_ids if i not in found]
    if missing:
        raise NotFound(f"no ticket with id {some_of(missing)}", field="ticket_ids")
    seen_ext = set()
    for part in _chunks(external_ids):
        for ticket_id, external_id in session.execute(select(Ticket.id, Ticket.external_id)
                                                      .where(Ticket.external_id.in_(part))):
            found.add(ticket_id)
            seen_ext.add(external_id)
    missing_ext = [e for e in external_ids if e not in seen_ext]
    if missing_ext:
        raise NotFound(f"no ticket with external id {some_of(missing_ext, fmt=repr)}", field="external_ids")
    if created_before is not None:
        found.update(session.scalars(select(Ticket.id).where(Ticket.created_at < created_before)))
    return Selection(sorted(found), criteria)


def erase(*, session: Session, selection: Selection, embedding_cache, models_dir: Path, engine,
          by: str | None = None) -> dict:
    """Erase the tickets of ``selection`` (from :func:`select_tickets`) everywhere kb-triage keeps
    them; returns what was removed and which model version still holds them until the returned job
    replaces it.

    ``embedding_cache`` is the runtime's cached encoder (its ``forget`` drops the vectors of every
    encoder that wrote to the cache); ``engine`` sees the erasure on its next decision and drops
    the erased tickets from its live rejections and its surge memory."""
    ids = selection.ticket_ids
    counts = {"tickets": len(ids), "decisions": 0, "feedback": 0}
    report = {**counts, "cached_vectors": 0, "pruned_versions": [], "serving_version": None, "retrain_job": None}
    if not ids:
        return report
    # A batch at a time, each committed, so that memory stays flat however many tickets expire. The
    # erasure's row comes last: a model version that started training before it (even while the
    # batches ran) is pruned. Interrupted, the batches already committed stay erased; the retention
    # purge, or the request sent again, erases the rest and writes the row.
    for batch in range(0, len(ids), _BATCH):
        texts = []
        for part in _chunks(ids[batch:batch + _BATCH]):
            texts += [ticket_text(subject, body) for subject, body in
                      session.execute(select(Ticket.subject, Ticket.body).where(Ticket.id.in_(part)))]
            # Explicit deletes (children first), not the foreign keys' cascade: the same on every database.
            counts["feedback"] += session.execute(delete(FeedbackEvent).where(FeedbackEvent.ticket_id.in_(part))).rowcount
            counts["decisions"] += session.execute(
                delete(TriageDecision).where(TriageDecision.ticket_id.in_(part))).rowcount
            session.execute(delete(TicketVector).where(TicketVector.ticket_id.in_(part)))
            session.execute(delete(Ticket).where(Ticket.id.in_(part)))
        session.commit()
        report["cached_vectors"] += embedding_cache.forget(texts)
    report.update(counts)
    # Erasures made on other machines first (this cache cannot know their texts), then this one's.
    embedding_cache.follow_erasures(erasure_mark(session))
    record = Erasure(requested_by=by, criteria=selection.criteria, counts=counts)
    session.add(record)
    session.flush()
    change_feed.record(session, "erasure", [record.id])
    session.commit()
    embedding_cache.follow_erasures(record.id, forgotten_here=True)
    FeatureCache(models_dir).clear()
    report["pruned_versions"] = registry.prune_erased(session=session, erased_at=last_erasure(session=session),
                                                         models_dir=models_dir)
    serving = registry.active(session=session)
    training = session.scalar(select(func.count()).select_from(ModelVersion).where(ModelVersion.status == "training"))
    if serving is not None or training:
        report["serving_version"] = serving.id if serving is not None else None
        job = jobs.enqueue(session=session, trigger="erasure", promote="always")
        if job.status == "queued" and job.promote != "always":
            # A job queued earlier now serves the erasure: the version that holds the tickets must
            # stop serving, whatever that job was asked; the job says so to whoever queued it.
            job.progress = [*job.progress, f"promote changed from {job.promote!r} to 'always': tickets were "
                                           f"erased and the serving version may hold them"]
            job.promote = "always"
            session.commit()
        report["retrain_job"] = job.id
    engine.invalidate()  # this process sees the erasure at once; others within RELOAD_SECONDS
    log.info("erased %d tickets (%d decisions, %d feedback events, %d cached vectors) for %s; pruned versions %s",
             counts["tickets"], counts["decisions"], counts["feedback"], report["cached_vectors"], by or "the CLI",
             report["pruned_versions"])
    return report


def purge_expired(*, session: Session, runtime, now: datetime | None = None) -> dict | None:
    """Erase the tickets older than the deployment's retention period (``retention_days``), at most
    once per :data:`RETENTION_EVERY` across all processes (each purge queues a retrain). Returns the
    erasure's report, or None when retention is off, a purge ran recently or nothing expired."""
    days = runtime.settings.retention_days
    if days <= 0:
        return None
    now = now or utcnow()
    last = session.scalar(select(func.max(Erasure.created_at)).where(Erasure.requested_by == RETENTION))
    if last is not None and now - as_utc(last) < RETENTION_EVERY:
        return None
    expired = select_tickets(session=session, created_before=now - timedelta(days=days))
    if not expired.ticket_ids:
        return None
    return erase(session=session, selection=expired, embedding_cache=runtime.cached_encoder,
                 models_dir=runtime.settings.models_dir, engine=runtime.engine, by=RETENTION)


def last_erasure(*, session: Session) -> datetime | None:
    """When tickets were last erased: model versions whose training started before then may hold them."""
    return session.scalar(select(func.max(Erasure.created_at)))
