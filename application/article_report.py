"""The article report for KB editors: how each article performs as a suggestion.

Per article: times suggested (and suggested first), accepted, rejected by reason, tickets it
resolved, and its resolution rate (of the tickets it was suggested for, the share it resolved);
articles never suggested; and pairs of near-duplicate articles (their passages' mean vectors
almost parallel), which confuse agents and split the history the ranker learns from.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ValidationError

from kb.store import IndexStore
from kb.tables import Article, Chunk
from triage.feedback import REJECT_REASONS
from triage.tables import FeedbackEvent, Ticket, TriageDecision

NEAR_DUPLICATE = 0.92  # cosine between two articles' mean passage vectors
SORTS = ("suggested", "rejected", "resolution_rate", "article_id")
MAX_FILTER = 200


def near_duplicates(*, session: Session, store: IndexStore, threshold: float = NEAR_DUPLICATE,
                    neighbours: int = 5) -> list[dict]:
    """Pairs of articles whose mean passage vectors have cosine >= ``threshold``, most similar first."""
    import faiss

    by_article: dict[str, list[int]] = defaultdict(list)
    for cid, aid in session.execute(select(Chunk.id, Chunk.article_id)):
        by_article[aid].append(cid)
    index = store.index()
    have = index.ids()
    ids, rows = [], []
    for aid, cids in sorted(by_article.items()):
        cids = [c for c in cids if c in have]
        if cids:
            mean = index.vectors(cids).mean(0)
            ids.append(aid)
            rows.append(mean / max(float(np.linalg.norm(mean)), 1e-9))
    if len(ids) < 2:
        return []
    vectors = np.ascontiguousarray(np.vstack(rows), dtype=np.float32)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    scores, found = flat.search(vectors, min(neighbours + 1, len(ids)))
    titles = dict(session.execute(select(Article.id, Article.title).where(Article.id.in_(ids))).all())
    pairs = {}
    for i, (row_scores, row_ids) in enumerate(zip(scores, found)):
        for score, j in zip(row_scores, row_ids):
            if j > i and score >= threshold:
                pairs[(ids[i], ids[j])] = float(score)
    return [{"articles": [{"article_id": a, "title": titles.get(a)}, {"article_id": b, "title": titles.get(b)}],
             "similarity": round(s, 4)} for (a, b), s in sorted(pairs.items(), key=lambda kv: -kv[1])]


def article_report(*, session: Session, store: IndexStore, since: datetime | None = None,
                   sort: str = "suggested", limit: int = 100, offset: int = 0, contains: str | None = None,
                   category: str | None = None) -> dict:
    """Per-article suggestion outcomes (decisions and feedback since ``since``), never-suggested
    articles and near-duplicate pairs. ``contains`` (in the id or title, any case) and ``category``
    narrow the per-article rows (``matching`` counts them); the other parts cover every article."""
    if sort not in SORTS:
        raise ValidationError(f"sort must be one of {', '.join(SORTS)}", field="sort")
    if contains is not None and len(contains) > MAX_FILTER:
        raise ValidationError(f"contains must be at most {MAX_FILTER} characters", field="contains")
    suggested: Counter = Counter()
    first: Counter = Counter()
    suggested_for: dict[str, set[int]] = defaultdict(set)
    decisions = select(TriageDecision.ticket_id, TriageDecision.suggestions)
    if since is not None:
        decisions = decisions.where(TriageDecision.created_at >= since)
    n_decisions = 0
    for ticket_id, suggestions in session.execute(decisions):
        n_decisions += 1
        for rank, s in enumerate(suggestions or []):
            aid = s.get("article_id")
            if aid:
                suggested[aid] += 1
                first[aid] += rank == 0
                suggested_for[aid].add(ticket_id)
    events = select(FeedbackEvent.article_id, FeedbackEvent.kind, FeedbackEvent.reason).where(
        FeedbackEvent.article_id.is_not(None), FeedbackEvent.kind.in_(("accepted", "rejected")))
    if since is not None:
        events = events.where(FeedbackEvent.created_at >= since)
    accepted: Counter = Counter()
    rejected: dict[str, Counter] = defaultdict(Counter)
    for aid, kind, reason in session.execute(events):
        if kind == "accepted":
            accepted[aid] += 1
        else:
            rejected[aid][reason or "unspecified"] += 1
    resolved_q = select(Ticket.resolved_by_article_id, Ticket.id).where(Ticket.resolved_by_article_id.is_not(None))
    if since is not None:
        resolved_q = resolved_q.where(Ticket.created_at >= since)
    resolved: dict[str, set[int]] = defaultdict(set)
    for aid, tid in session.execute(resolved_q):
        resolved[aid].add(tid)

    rows = []
    for aid, title, article_category, updated in session.execute(
            select(Article.id, Article.title, Article.category, Article.updated_at).order_by(Article.id)):
        n = suggested[aid]
        resolved_after = len(suggested_for[aid] & resolved[aid])
        rows.append({
            "article_id": aid, "title": title, "category": article_category,
            "updated_at": updated.isoformat() if updated else None,
            "suggested": n, "suggested_first": first[aid], "accepted": accepted[aid],
            "rejected": sum(rejected[aid].values()),
            "rejected_by_reason": {r: rejected[aid].get(r, 0) for r in REJECT_REASONS},
            "resolved": len(resolved[aid]),
            "resolution_rate": round(resolved_after / len(suggested_for[aid]), 4) if suggested_for[aid] else None,
        })
    key = {"suggested": lambda r: (-r["suggested"], r["article_id"]),
           "rejected": lambda r: (-r["rejected"], r["article_id"]),
           "resolution_rate": lambda r: (r["resolution_rate"] is None, r["resolution_rate"] or 0.0, r["article_id"]),
           "article_id": lambda r: r["article_id"]}[sort]
    rows.sort(key=key)
    needle = (contains or "").casefold()
    shown = [r for r in rows if (not needle or needle in r["article_id"].casefold() or needle in (r["title"] or "").casefold())
             and (category is None or r["category"] == category)]
    return {
        "since": since.isoformat() if since else None,
        "articles_total": len(rows),
        "categories": sorted({r["category"] for r in rows if r["category"]}),
        "matching": len(shown),
        "decisions": n_decisions,
        "articles": shown[offset:offset + limit],
        "never_suggested": [{"article_id": r["article_id"], "title": r["title"]}
                            for r in sorted(rows, key=lambda r: r["article_id"]) if r["suggested"] == 0],
        "near_duplicates": near_duplicates(session=session, store=store),
    }
