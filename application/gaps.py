"""Content gaps for KB editors: recurring kinds of ticket that no article answers.

Candidates are tickets whose triage flagged a gap, whose suggested article an agent rejected as
not related or not answering, or that were escalated without an article. Their embeddings are
clustered (average-linkage on cosine distance), and each cluster becomes a worklist row: size,
recency, representative tickets, distinctive terms, a proposed title and the nearest existing
article (which the editor may prefer to extend).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from common.db import utcnow
from common.errors import NotFound, ValidationError, some_of
from kb.service import nearest_article
from models.clustering import assign, centre, cluster, distinctive_terms, proposed_title
from triage.service import ticket_vectors
from triage.tables import FeedbackEvent, Ticket, TriageDecision, ticket_text

# Average linkage costs time and memory quadratic in the tickets clustered (5,000: a few seconds
# and about 0.3 GiB; docs/benchmarks.md). The newest this many candidates are clustered; each older
# one joins the cluster whose tickets it is closest to on average, within the same cut, as average
# linkage would have joined it, and counts there; the others are left out.
MAX_CLUSTERED = 5_000
ASSIGN_CHUNK = 5_000  # older candidates encoded and assigned this many at a time


@dataclass(frozen=True)
class Candidate:
    """A ticket that points at missing content, and why it was picked."""
    id: int
    subject: str
    text: str
    created_at: datetime | None
    reasons: frozenset[str]


def candidates(*, session: Session, since: datetime | None = None) -> list[Candidate]:
    """Tickets that point at missing content, newest first: flagged as a gap, a suggestion rejected
    as not related or not answering, or escalated without an article. A ticket an article later
    resolved is no longer a gap. One query, whatever the number of candidates."""
    flagged = exists().where(TriageDecision.ticket_id == Ticket.id, TriageDecision.gap.is_(True))
    rejected = exists().where(FeedbackEvent.ticket_id == Ticket.id, FeedbackEvent.kind == "rejected",
                              FeedbackEvent.reason.in_(("not_related", "related_but_not_answered")))
    escalated = Ticket.status == "escalated"
    query = (select(Ticket.id, Ticket.subject, Ticket.body, Ticket.created_at,
                    flagged.label("flagged"), rejected.label("rejected"), escalated.label("escalated"))
             .where(Ticket.resolved_by_article_id.is_(None), Ticket.gap_handled_at.is_(None),
                    or_(flagged, rejected, escalated))
             .order_by(Ticket.created_at.desc(), Ticket.id.desc()))
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    return [Candidate(tid, subject or "", ticket_text(subject, body), created,
                      frozenset(name for name, on in (("flagged_gap", f), ("suggestion_rejected", r),
                                                       ("escalated_without_article", e)) if on))
            for tid, subject, body, created, f, r, e in session.execute(query)]


def _vectors(session: Session, encoder, encoder_name: str | None, cands: list[Candidate]) -> np.ndarray:
    return ticket_vectors(session=session, encoder=encoder, encoder_name=encoder_name,
                          ids=[c.id for c in cands], texts=[c.text for c in cands])


def report(*, session: Session, store, encoder, since: datetime | None = None, min_size: int = 3,
           limit: int = 20, encoder_name: str | None = None) -> dict:
    """The gap worklist: clusters of candidate tickets, biggest and most recent first. The newest
    ``MAX_CLUSTERED`` candidates are clustered; older ones join those clusters (``assign``).
    ``encoder_name``: the encoder's setting, to reuse the vectors stored at triage."""
    picked = candidates(session=session, since=since)
    out = {"candidates": len(picked), "clustered": min(len(picked), MAX_CLUSTERED), "assigned": 0, "clusters": []}
    if len(picked) < max(2, min_size):
        return out
    recent = picked[:MAX_CLUSTERED]
    emb = _vectors(session, encoder, encoder_name, recent)
    labels = cluster(emb)
    kept, kept_labels, kept_emb = list(recent), [labels], [emb]
    for start in range(MAX_CLUSTERED, len(picked), ASSIGN_CHUNK):
        part = picked[start:start + ASSIGN_CHUNK]
        vectors = _vectors(session, encoder, encoder_name, part)
        joined = assign(vectors, emb, labels)
        hit = np.flatnonzero(joined >= 0)
        kept += [part[i] for i in hit]
        kept_labels.append(joined[hit])
        kept_emb.append(vectors[hit])
    out["assigned"] = len(kept) - len(recent)
    picked, labels, emb = kept, np.concatenate(kept_labels), np.vstack(kept_emb)
    texts = [c.text for c in picked]
    terms = distinctive_terms(texts, labels)
    rows = []
    for c in set(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < min_size:
            continue
        centroid, order = centre(emb, idx)
        reasons: dict[str, int] = {}
        for i in idx:
            for r in picked[i].reasons:
                reasons[r] = reasons.get(r, 0) + 1
        latest = max((picked[i].created_at for i in idx if picked[i].created_at), default=None)
        rows.append(({
            "size": int(len(idx)),
            "latest": latest.isoformat() if latest else None,
            "terms": terms.get(c, []),
            "proposed_title": proposed_title([picked[i].subject for i in order[:5]], terms.get(c, [])),
            "reasons": reasons,
            "representative_tickets": [{"ticket_id": picked[i].id, "text": texts[i][:300]} for i in order[:3]],
            "ticket_ids": [int(picked[i].id) for i in order],
        }, centroid))
    rows.sort(key=lambda r: (-r[0]["size"], r[0]["latest"] and -datetime.fromisoformat(r[0]["latest"]).timestamp()))
    # The nearest article (one search each) only for the clusters shown.
    out["clusters"] = [{**row, "nearest_article": nearest_article(session=session, store=store, centroid=centroid)}
                       for row, centroid in rows[:limit]]
    return out


MAX_HANDLED = 5000  # ticket ids in one call: a cluster shown holds fewer


def mark_handled(*, session: Session, ticket_ids: list[int], handled_by: str | None = None) -> int:
    """An editor dealt with the gap these tickets point at (a cluster of the worklist): they leave
    the worklist; tickets that come later on the same theme form a cluster again. Returns how many
    were marked; NotFound, naming them, when an id is no stored ticket (then nothing is marked)."""
    ids = sorted({int(i) for i in ticket_ids})
    if not ids or len(ids) > MAX_HANDLED:
        raise ValidationError(f"give 1 to {MAX_HANDLED} ticket ids", field="ticket_ids")
    known = set(session.scalars(select(Ticket.id).where(Ticket.id.in_(ids))))
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFound(f"no ticket with id {some_of(missing)}", field="ticket_ids")
    session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(gap_handled_at=utcnow(), gap_handled_by=handled_by))
    session.commit()
    return len(ids)
