"""Knowledge-base operations: import, create, update, delete and search articles.

Each write commits the database first and then updates the passage index; if the process dies
in between, :meth:`kb.store.IndexStore.sync` repairs the index from the database on next start.
The commit holds the new passages' vectors (this encoder's, the ones then added to the index) and
the change feed's rows for every passage added or removed, so other replicas follow the change
without encoding it again (kb/store.py).
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb import adaptation as article_adaptation
from kb.adaptation import ArticleAdaptation
from common import change_feed
from common.db import utcnow
from common.errors import Conflict, NotFound
from kb.chunking import chunk_article
from kb.rules import check_article
from kb.index import VectorIndex
from kb.markup import body_text
from kb.rebuild import CHUNK_ADDED, CHUNK_REMOVED, write_vectors
from kb.store import IndexStore
from kb.tables import Article, Chunk


def content_hash(item: dict) -> str:
    fields = [item["title"], item["body"], item.get("category"), item.get("tags") or []]
    payload = json.dumps(fields + [item["url"]] if item.get("url") else fields)  # articles without one: as before
    return hashlib.sha256(payload.encode()).hexdigest()


def get(*, session: Session, article_id: str) -> Article | None:
    return session.get(Article, article_id)


def get_or_raise(*, session: Session, article_id: str) -> Article:
    article = get(session=session, article_id=article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r}", field="article_id")
    return article


def list_articles(*, session: Session, category: str | None = None, limit: int = 100, offset: int = 0):
    """A page of articles ordered by id, and the total count."""
    query = select(Article)
    count = select(func.count()).select_from(Article)
    if category:
        query = query.where(Article.category == category)
        count = count.where(Article.category == category)
    rows = session.scalars(query.order_by(Article.id).limit(limit).offset(offset)).all()
    return rows, session.scalar(count)


def upsert_many(*, session: Session, store: IndexStore, items: list[dict], chunk_words: int = 120) -> dict:
    """Create new articles, update changed ones, leave unchanged ones alone. Returns counts."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    removed: list[int] = []
    new_chunks: list[Chunk] = []
    existing = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_([i["id"] for i in items])))}
    with session.no_autoflush:  # nothing written before the encoding below, so no lock is held over it
        for item in items:
            digest = content_hash(item)
            article = existing.get(item["id"])
            if article is not None and article.content_hash == digest:
                counts["unchanged"] += 1
                continue
            if article is None:
                article = Article(id=item["id"], created_at=utcnow())
                session.add(article)
                counts["created"] += 1
            else:
                removed.extend(c.id for c in article.chunks)
                article.chunks.clear()
                counts["updated"] += 1
            article.title, article.body = item["title"], item["body"]
            article.category, article.tags, article.url = item.get("category"), item.get("tags") or [], item.get("url")
            article.content_hash, article.updated_at = digest, utcnow()
            for pos, text in enumerate(chunk_article(item["title"], item["body"], words=chunk_words)):
                chunk = Chunk(position=pos, text=text)
                article.chunks.append(chunk)
                new_chunks.append(chunk)
    # While this process embeds every passage again for a new encoder, that rebuild embeds (and
    # stores) these passages too when it saves: the write does not wait for it.
    rebuilding = store.rebuilding is not None and store.stale_reason()
    encoded = store.encoder.encode([c.text for c in new_chunks]) if new_chunks and not rebuilding else []
    session.flush()
    vectors = {c.id: v for c, v in zip(new_chunks, encoded)}
    write_vectors(session, store.encoder.name, vectors)
    # The feed's ids last, just before the commit: the gap they leave for followers is short.
    change_feed.record(session, CHUNK_REMOVED, removed)
    change_feed.record(session, CHUNK_ADDED, [c.id for c in new_chunks])
    session.commit()
    if new_chunks or removed:
        store.apply(add={c.id: c.text for c in new_chunks}, remove=removed, vectors=vectors)
    return counts


def create_article(*, session: Session, store: IndexStore, item: dict, chunk_words: int = 120) -> Article:
    """A new article, indexed at once; ``item["body_format"]`` "html" (or a body that starts with an
    HTML element) is converted to text. Conflict when the id exists."""
    item = dict(item)
    item["body"] = body_text(item.get("body") or "", item.pop("body_format", None))
    check_article(item)
    if get(session=session, article_id=item["id"]) is not None:
        raise Conflict(f"article {item['id']!r} already exists: change it (PUT or PATCH /v1/articles/{item['id']}, "
                       "or edit it in the console) instead", field="id")
    upsert_many(session=session, store=store, items=[item], chunk_words=chunk_words)
    return get_or_raise(session=session, article_id=item["id"])


def update_article(*, session: Session, store: IndexStore, article_id: str, changes: dict,
                   chunk_words: int = 120) -> Article:
    """Change some fields of an article (the others keep their value) and index it again."""
    current = get_or_raise(session=session, article_id=article_id)
    changes = dict(changes)
    body_format = changes.pop("body_format", None)
    if "body" in changes:
        changes["body"] = body_text(changes["body"], body_format)
    merged = {"id": article_id, "title": current.title, "body": current.body,
              "category": current.category, "tags": current.tags, "url": current.url, **changes}
    check_article(merged, new_id=False)  # an imported id may hold characters a new one may not
    upsert_many(session=session, store=store, items=[merged], chunk_words=chunk_words)
    return get_or_raise(session=session, article_id=article_id)


def delete(*, session: Session, store: IndexStore, article_id: str) -> None:
    get_or_raise(session=session, article_id=article_id)
    delete_many(session=session, store=store, article_ids=[article_id])


def delete_many(*, session: Session, store: IndexStore, article_ids) -> list[str]:
    """Delete those of ``article_ids`` that exist, and their passages from the index (one index
    change for all). Returns the ids deleted."""
    articles = session.scalars(select(Article).where(Article.id.in_(list(article_ids)))).all()
    chunk_ids = [c.id for a in articles for c in a.chunks]
    for article in articles:
        session.delete(article)
    change_feed.record(session, CHUNK_REMOVED, chunk_ids)
    session.commit()
    if chunk_ids:
        store.apply(remove=chunk_ids)
    return sorted(a.id for a in articles)


def all_ids(*, session: Session) -> set[str]:
    return set(session.scalars(select(Article.id)))


# Hybrid passage search: cosine + LEXICAL_WEIGHT * bm25 / (bm25 + LEXICAL_HALF). The saturating
# form keeps short, generic matches small. On the demo KB (articles with bodies) it lifts cold
# hit@1 from 0.770 to 0.813; on Banking77's title-only articles it costs 0.007 (docs/benchmarks.md).
LEXICAL_WEIGHT = 0.2
LEXICAL_HALF = 5.0


def search_passages(*, session: Session, store: IndexStore, vectors, texts: list[str] | None = None,
                    k: int = 5, depth: int = 50, adaptation: ArticleAdaptation | None = None):
    """For each query, the ``k`` best articles as dicts: ``score`` (hybrid), ``cosine`` and
    ``lexical`` (its parts) and ``passage``, the passage that matched best (the snippet).

    Hybrid: the dense cosine of a passage plus ``LEXICAL_WEIGHT`` times its saturated BM25 score,
    over the union of both retrievers' top ``depth`` passages (a passage only BM25 found gets its
    cosine from the stored vector). Without ``texts`` only the
    dense side runs (e.g. a query that is a vector, like a cluster centroid). With an
    ``adaptation`` (a model version trained without resolved history, see :mod:`kb.adaptation`)
    the cosines are those of the passages moved toward their articles' past tickets, and the
    passages of the articles whose tickets are nearest the query are scored too.
    """
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    index, lexical_index = store.snapshot()  # one state of the passages for the whole search
    dense = index.search(vectors, depth)
    lexical = lexical_index.search(list(texts), depth) if texts is not None else [[] for _ in dense]
    extra = [adaptation.candidates(q) for q in vectors] if adaptation is not None else [[] for _ in dense]
    wanted = {cid for row in dense + lexical for cid, _ in row} | {cid for row in extra for cid in row}
    chunks = store.passages(session=session, chunk_ids=wanted)
    results = []
    for query, dense_row, lexical_row, extra_row in zip(vectors, dense, lexical, extra):
        cosines = {cid: c for cid, c in dense_row if cid in chunks}  # else: a deletion not seen yet
        only_lexical = [cid for cid, _ in lexical_row if cid not in cosines and cid in chunks]
        if adaptation is not None:
            extra_row = [cid for cid in extra_row if cid not in cosines and cid not in only_lexical and cid in chunks]
            _adapt(index, adaptation, query, cosines, only_lexical, extra_row, chunks)
        elif only_lexical:
            cosines.update(zip(only_lexical, (index.vectors(only_lexical) @ query).tolist()))
        relative = {cid: score / (score + LEXICAL_HALF) for cid, score in lexical_row}
        best: dict[str, dict] = {}
        for cid, cosine in cosines.items():
            aid, text, title, url = chunks[cid]
            lex = relative.get(cid, 0.0)
            score = cosine + LEXICAL_WEIGHT * lex
            if aid not in best or score > best[aid]["score"]:
                best[aid] = {"article_id": aid, "title": title, "url": url, "score": float(score),
                             "cosine": float(cosine), "lexical": round(float(lex), 4), "passage": text}
        results.append(sorted(best.values(), key=lambda r: -r["score"])[:k])
    return results


def _adapt(index: VectorIndex, adaptation: ArticleAdaptation, query, cosines: dict, only_lexical: list[int],
           extra: list[int], chunks) -> None:
    """Set (in place) the adapted cosines of the retrieved passages (``cosines``' keys and
    ``only_lexical``) and of the ``extra`` candidates, all from one read of their stored vectors.
    The extra ids come from training time: when the index no longer holds one, they are skipped."""
    ids = [*cosines, *only_lexical]
    try:
        vectors = index.vectors(ids + extra)
        ids += extra
    except RuntimeError:  # an extra passage removed from the index by another process since training
        vectors = index.vectors(ids)
    adapted = adaptation.cosines(query, [chunks[cid][0] for cid in ids], vectors)
    cosines.update(zip(ids, adapted.tolist()))


def adapt_to_tickets(*, session: Session, store: IndexStore, tickets) -> ArticleAdaptation | None:
    """Fit :mod:`kb.adaptation` over every indexed passage and these ticket embeddings (None when
    there are too few tickets per article)."""
    rows = session.execute(select(Chunk.id, Chunk.article_id).order_by(Chunk.id)).all()
    index = store.index()
    held = index.ids()
    rows = [(cid, aid) for cid, aid in rows if cid in held]
    if not rows:
        return None
    ids = [cid for cid, _ in rows]
    return article_adaptation.fit(tickets, index.vectors(ids), [aid for _, aid in rows], ids)


def only_existing(*, session: Session, warm: list[dict[str, float] | None]) -> list[dict[str, float] | None]:
    """Each text's article probabilities from history (kb.suggest.warm_probabilities) without the
    articles deleted since the model learnt them (one query for all)."""
    named = {a for row in warm if row for a in row}
    if not named:
        return warm
    alive = set(session.scalars(select(Article.id).where(Article.id.in_(named))))
    if alive == named:
        return warm
    return [{a: p for a, p in row.items() if a in alive} if row else row for row in warm]


def fill_missing_passages(*, session: Session, suggestions: list[list[dict]]) -> None:
    """Give suggestions that came from history alone (not retrieved) a title, address and opening passage."""
    missing = {s["article_id"] for row in suggestions for s in row if not s.get("passage")}
    if not missing:
        return
    found = {}
    for aid, title, url, text in session.execute(
        select(Article.id, Article.title, Article.url, Chunk.text).join(Chunk, Chunk.article_id == Article.id)
        .where(Article.id.in_(missing), Chunk.position == 0)
    ):
        found[aid] = (title, url, text)
    for row in suggestions:
        for s in row:
            if not s.get("passage") and s["article_id"] in found:
                s["title"], s["url"], s["passage"] = found[s["article_id"]]


def nearest_article(*, session: Session, store, centroid: np.ndarray) -> dict | None:
    """The article whose passage is closest to a group's centroid (the editor may extend it)."""
    [hits] = search_passages(session=session, store=store, vectors=centroid[None, :], k=1)
    return ({"article_id": hits[0]["article_id"], "title": hits[0]["title"], "url": hits[0]["url"],
             "score": round(hits[0]["score"], 4)} if hits else None)
