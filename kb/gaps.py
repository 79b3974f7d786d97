"""Content gaps for KB editors: recurring kinds of ticket that no article answers.

Candidates are tickets whose triage flagged a gap, whose suggested article an agent rejected as
not related or not answering, or that were escalated without an article. Their embeddings are
clustered (average-linkage on cosine distance), and each cluster becomes a worklist row: size,
recency, representative tickets, distinctive terms, a proposed title and the nearest existing
article (which the editor may prefer to extend).
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kb import service as kb_service
from triage.tables import FeedbackEvent, Ticket, TriageDecision

CLUSTER_DISTANCE = 0.55  # cosine distance; MiniLM puts paraphrases of one need well inside this
STOP = set("""a an the and or but if of to in on at for with from by as is are was were be been it its this that
these those i me my we our you your he she they them their there here not no can can't cannot could would should
will just so do does did done have has had get got please thanks thank hi hello dear regards team any all some
what when where which who why how also still again now one two need want like using use used able
dont doesn isn wasn didn don won aren weren hasn haven""".split())


def candidates(*, session: Session, since: datetime | None = None) -> list[tuple[Ticket, set[str]]]:
    """Tickets that point at missing content, each with why it was picked."""
    reasons: dict[int, set[str]] = {}
    gap_q = select(TriageDecision.ticket_id).where(TriageDecision.gap.is_(True))
    for (tid,) in session.execute(gap_q):
        reasons.setdefault(tid, set()).add("flagged_gap")
    rej_q = select(FeedbackEvent.ticket_id).where(
        FeedbackEvent.kind == "rejected",
        or_(FeedbackEvent.reason == "not_related", FeedbackEvent.reason == "related_but_not_answered"))
    for (tid,) in session.execute(rej_q):
        reasons.setdefault(tid, set()).add("suggestion_rejected")
    esc_q = select(Ticket.id).where(Ticket.status == "escalated", Ticket.resolved_by_article_id.is_(None))
    for (tid,) in session.execute(esc_q):
        reasons.setdefault(tid, set()).add("escalated_without_article")
    if not reasons:
        return []
    query = select(Ticket).where(Ticket.id.in_(list(reasons)))
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    # A ticket an article later resolved is no longer a gap.
    tickets = [t for t in session.scalars(query) if t.resolved_by_article_id is None]
    return [(t, reasons[t.id]) for t in tickets]


def distinctive_terms(texts: list[str], labels: np.ndarray, top: int = 6) -> dict[int, list[str]]:
    """Class-based TF-IDF: words frequent in a cluster and rare in the other candidates."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(stop_words=sorted(STOP), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]{2,}\b",
                          ngram_range=(1, 2), min_df=2)
    try:
        counts = vec.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return {}
    vocab = np.array(vec.get_feature_names_out())
    clusters = sorted(set(labels))
    per = np.vstack([np.asarray(counts[labels == c].sum(0)).ravel() for c in clusters]).astype(float)
    tf = per / np.maximum(per.sum(1, keepdims=True), 1)
    idf = np.log(1 + per.sum(1).mean() / np.maximum(per.sum(0), 1))
    score = tf * idf
    return {c: [vocab[j] for j in np.argsort(-score[i])[:top] if score[i, j] > 0] for i, c in enumerate(clusters)}


def proposed_title(subjects: list[str], terms: list[str]) -> str:
    """The subject of the most central ticket that has a usable one, else the top terms."""
    for subject in subjects:
        subject = " ".join(subject.split())
        if 8 <= len(subject) <= 90:
            return subject[0].upper() + subject[1:]
    return " / ".join(terms[:3]).capitalize() if terms else "Untitled gap"


def cluster(embeddings: np.ndarray) -> np.ndarray:
    """Cluster labels of normalised embeddings: average linkage, cut at CLUSTER_DISTANCE."""
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                   distance_threshold=CLUSTER_DISTANCE).fit_predict(embeddings)


def centre(emb: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A group's normalised centroid, and its members (``idx`` into ``emb``) closest first."""
    centroid = emb[idx].mean(0)
    centroid /= np.linalg.norm(centroid) or 1.0
    return centroid, idx[np.argsort(-(emb[idx] @ centroid))]


def nearest_article(*, session: Session, store, centroid: np.ndarray) -> dict | None:
    """The article whose passage is closest to a group's centroid (the editor may extend it)."""
    [hits] = kb_service.search_passages(session=session, store=store, vectors=centroid[None, :], k=1)
    return ({"article_id": hits[0]["article_id"], "title": hits[0]["title"], "score": round(hits[0]["score"], 4)}
            if hits else None)


def report(*, session: Session, store, encoder, since: datetime | None = None, min_size: int = 3,
           limit: int = 20) -> dict:
    """The gap worklist: clusters of candidate tickets, biggest and most recent first."""
    picked = candidates(session=session, since=since)
    out = {"candidates": len(picked), "clusters": []}
    if len(picked) < max(2, min_size):
        return out
    texts = [t.text for t, _ in picked]
    emb = encoder.encode(texts)
    labels = cluster(emb)
    terms = distinctive_terms(texts, labels)
    rows = []
    for c in set(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < min_size:
            continue
        centroid, order = centre(emb, idx)
        reasons: dict[str, int] = {}
        for i in idx:
            for r in picked[i][1]:
                reasons[r] = reasons.get(r, 0) + 1
        latest = max(picked[i][0].created_at for i in idx)
        rows.append({
            "size": int(len(idx)),
            "latest": latest.isoformat() if latest else None,
            "terms": terms.get(c, []),
            "proposed_title": proposed_title([picked[i][0].subject for i in order[:5]], terms.get(c, [])),
            "reasons": reasons,
            "representative_tickets": [{"ticket_id": picked[i][0].id, "text": texts[i][:300]} for i in order[:3]],
            "nearest_article": nearest_article(session=session, store=store, centroid=centroid),
            "ticket_ids": [int(picked[i][0].id) for i in order],
        })
    rows.sort(key=lambda r: (-r["size"], r["latest"] and -datetime.fromisoformat(r["latest"]).timestamp()))
    out["clusters"] = rows[:limit]
    return out
