"""BM25 updated passage by passage (#29) scores exactly as BM25 built from scratch over the same
passages, and a search keeps the index it started with while writers publish changed copies.

Real data: the demo help desk's articles cut into passages as the service cuts them, its tickets
as queries; the store tests run on a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL),
real faiss and the packaged encoder."""
from __future__ import annotations

import csv
import random

import bm25s
import numpy as np

from application.demo import DEMO_DIR
from kb import service as kb_service
from kb.chunking import chunk_article
from kb.importers import read_articles
from kb.lexical import LexicalIndex, _tokenize
from kb.store import IndexStore
from tests.conftest import fresh_database_url
from tests.test_replica_index import eventually, replica


def demo_passages() -> list[str]:
    out: list[str] = []
    for article in read_articles(DEMO_DIR / "articles"):
        out += chunk_article(article["title"], article["body"])
    return out


def demo_queries(n: int = 60) -> list[str]:
    with open(DEMO_DIR / "tickets.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rng = random.Random(3)
    queries = [f"{row['subject']} {row['body']}" for row in rng.sample(rows, n)]
    return queries + [article["title"] for article in read_articles(DEMO_DIR / "articles")]


def everything(index: LexicalIndex, queries: list[str]) -> list[list[tuple[int, float]]]:
    """Every passage with a positive score for each query (scores exact, ties by chunk id)."""
    return index.search(queries, max(index.count(), 1))


def scratch_of(store: IndexStore) -> LexicalIndex:
    held = store.index().ids()
    return LexicalIndex({cid: text for cid, text in store.read_texts().items() if cid in held})


def test_the_scores_are_bm25s_scores():
    passages = demo_passages()
    index = LexicalIndex(dict(enumerate(passages, start=1)))
    reference = bm25s.BM25()
    reference.index(_tokenize(passages), show_progress=False)
    compared = 0
    for words in _tokenize(demo_queries()):
        if not words:
            continue
        ours = np.zeros(len(passages), dtype=np.float32)
        for slot, cid in enumerate(index._ids):
            ours[cid - 1] = index.scores(words)[slot]
        assert np.array_equal(ours, reference.get_scores(words))  # bit for bit
        compared += 1
    assert compared > 50


def test_random_adds_and_removes_score_as_a_fresh_build():
    # A passage of stop words only has no terms but counts in the passages and average length.
    passages = demo_passages() + ["and then it was not there", ""]
    rng = random.Random(29)
    queries = demo_queries()
    current = {cid: passages[rng.randrange(len(passages))] for cid in rng.sample(range(1, 5000), 150)}
    index = LexicalIndex(current)
    next_id = 5000
    for step in range(40):
        previous = index
        before = everything(previous, queries[:10])
        if step % 2:
            index = index.copy()  # as the store does: the published one stays as it was
        gone = rng.sample(sorted(current), rng.randrange(0, 25))
        # New chunk ids, and ids given again with another text (SQLite reuses the highest id).
        new = {next_id + i: passages[rng.randrange(len(passages))] for i in range(rng.randrange(0, 25))}
        next_id += len(new)
        reused = {cid: passages[rng.randrange(len(passages))] + " again" for cid in gone[:3]}
        assert index.remove(gone) == len(gone)
        index.add({**new, **reused})
        for cid in gone:
            current.pop(cid)
        current.update(new)
        current.update(reused)
        assert index.count() == len(current) and set(index.ids.tolist()) == set(current)
        assert everything(index, queries) == everything(LexicalIndex(current), queries)
        if step % 2:
            assert everything(previous, queries[:10]) == before
    # Removing everything leaves an index that finds nothing, and adding makes it score again.
    index.remove(list(current))
    assert index.count() == 0 and index.search(queries[:3], 5) == [[], [], []]
    index.add({1: passages[0]})
    assert everything(index, queries) == everything(LexicalIndex({1: passages[0]}), queries)


def test_a_copy_shares_nothing_it_changes():
    passages = demo_passages()
    index = LexicalIndex(dict(enumerate(passages, start=1)))
    queries = demo_queries()
    before = everything(index, queries)
    changed = index.copy()
    changed.remove(range(1, len(passages) // 2))
    changed.add({10_000: "VPN badge PDF invoice password reset two-factor"})
    assert everything(index, queries) == before
    assert everything(changed, queries) == everything(LexicalIndex(changed.texts()), queries)
    # The original may be copied again (a writer that lost a race) without seeing the first copy's changes.
    again = index.copy()
    again.remove([1])
    assert everything(index, queries) == before
    assert everything(changed, queries) == everything(LexicalIndex(changed.texts()), queries)


def test_a_replica_updates_bm25_from_the_feed_and_a_search_keeps_its_snapshot(tmp_path):
    url = fresh_database_url(tmp_path)
    a, _ = replica(url, tmp_path / "a")
    b, _ = replica(url, tmp_path / "b")
    try:
        articles = read_articles(DEMO_DIR / "articles")
        with a.db.session() as s:
            kb_service.upsert_many(session=s, store=a.store, items=articles)
        eventually(lambda: b.store.follow(force=True) is not None and b.store.count() == a.store.count())
        queries = demo_queries()
        _, held = b.store.snapshot()
        before = everything(held, queries)
        assert before == everything(scratch_of(b.store), queries)

        with a.db.session() as s:
            kb_service.delete(session=s, store=a.store, article_id=articles[0]["id"])
            kb_service.upsert_many(session=s, store=a.store, items=[
                {**articles[1], "body": articles[1]["body"] + " Error E-4417 means the sync token expired."}])
            kb_service.create_article(session=s, store=a.store, item={
                "id": "fax-setup", "title": "Send a fax from the web app",
                "body": "Open Tools, choose Faxolator, enter the number and attach the PDF."})
        target = a.store.index().ids()
        eventually(lambda: b.store.follow(force=True) is not None and b.store.index().ids() == target)
        _, now = b.store.snapshot()
        assert now is not held and now.count() == len(target)
        assert everything(now, queries + ["faxolator", "E-4417"]) == \
            everything(scratch_of(b.store), queries + ["faxolator", "E-4417"])
        assert now.search(["faxolator"], 1)[0]
        # The search that took the snapshot before the changes still sees what it saw.
        assert everything(held, queries) == before
        assert held.search(["faxolator"], 1) == [[]]
    finally:
        a.close()
        b.close()


def test_another_process_rewriting_the_data_directory_updates_bm25(tmp_path):
    url = fresh_database_url(tmp_path)
    a, _ = replica(url, tmp_path / "a")
    try:
        # A second store on the same files stands in for another process of this machine.
        other = IndexStore(a.store.path, lambda: a.cached_passage_encoder)
        articles = read_articles(DEMO_DIR / "articles")
        with a.db.session() as s:
            kb_service.upsert_many(session=s, store=a.store, items=articles[:40])
        queries = demo_queries()
        first = other.lexical()
        assert everything(first, queries) == everything(scratch_of(other), queries)
        with a.db.session() as s:
            kb_service.upsert_many(session=s, store=a.store, items=articles[40:45])
            kb_service.delete(session=s, store=a.store, article_id=articles[3]["id"])
        second = other.lexical()
        assert second is not first and second.count() == other.index().count()
        assert everything(second, queries) == everything(scratch_of(other), queries)
        assert everything(first, queries) == everything(LexicalIndex(first.texts()), queries)
        # Most passages changed at once (another encoder's rebuild, a restore): built afresh, same scores.
        with a.db.session() as s:
            for article in articles[4:34]:
                kb_service.delete(session=s, store=a.store, article_id=article["id"])
        assert everything(other.lexical(), queries) == everything(scratch_of(other), queries)
    finally:
        a.close()


def test_a_passage_of_stop_words_only_still_moves_every_score():
    passages = dict(enumerate(demo_passages()[:40], start=1))
    queries = demo_queries(10)
    for change in ("remove", "add"):
        index = LexicalIndex({**passages, 99: "and then it was not there"} if change == "remove" else passages)
        everything(index, queries)  # the terms' scores are computed, and kept
        if change == "remove":
            index.remove([99])
        else:
            index.add({99: "and then it was not there"})
        assert everything(index, queries) == everything(LexicalIndex(index.texts()), queries), change
