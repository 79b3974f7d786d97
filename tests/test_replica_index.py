"""Replicas on one database (#29): each runtime has its own data directory (standing in for another
machine) and follows the change feed to keep its passage index in step; a replica that starts with
an empty directory builds its index from the vectors the database holds, encoding nothing.

Real database (one SQLite file, or PostgreSQL with TEST_DATABASE_URL), real faiss, the real
packaged encoder; the encoder is wrapped to count what it is asked to encode, never replaced."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from sqlalchemy import delete, func, insert, select

from application.demo import DEMO_DIR
from application.runtime import Runtime
from application.startup import sync_index
from common.change_feed import ChangeFeedRow
from common.config import Settings
from kb import service as kb_service
from kb.importers import read_articles
from kb.index import IVF_ABOVE
from kb.rebuild import read_quantizer
from kb.tables import Article, Chunk, PassageVector
from tests.conftest import fresh_database_url

WAIT = 20.0  # seconds a poll may take on a loaded machine; the follower's interval is 1 s


class CountingEncoder:
    """The real passage encoder, counting the texts it is given."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts = 0

    def encode(self, texts, **kwargs):
        self.texts += len(texts)
        return self.inner.encode(texts, **kwargs)


def replica(url: str, home: Path) -> tuple[Runtime, CountingEncoder]:
    """A runtime on the shared database ``url`` with its own data directory ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    rt = Runtime(Settings(home=home, database_url=url)).start()
    counting = CountingEncoder(rt.cached_passage_encoder)
    rt.__dict__["cached_passage_encoder"] = counting  # before the store is first used
    return rt, counting


def search(rt: Runtime, query: str, k: int = 3) -> list[dict]:
    with rt.db.session() as s:
        [hits] = kb_service.search_passages(session=s, store=rt.store, vectors=rt.encoder.encode([query]),
                                            texts=[query], k=k)
    return hits


def eventually(check, seconds: float = WAIT):
    """Poll ``check`` until it returns something true (returned), failing after ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < end, "the replica did not follow the change in time"
        time.sleep(0.05)


def chunk_ids(rt: Runtime) -> set[int]:
    with rt.db.session() as s:
        return set(s.scalars(select(Chunk.id)))


SEED = [{"id": "vpn", "title": "Connect to the VPN", "body": "Install the VPN client and sign in with your badge."},
        {"id": "invoice", "title": "Download an invoice", "body": "Billing > Invoices > Download PDF."}]
FAX = {"id": "fax-setup", "title": "Send a fax from the web app",
       "body": "Open Tools, choose Fax, enter the number and attach the PDF."}


def test_an_article_written_on_one_replica_is_searched_on_another(tmp_path):
    url = fresh_database_url(tmp_path)
    a, a_encoder = replica(url, tmp_path / "a")
    b, b_encoder = replica(url, tmp_path / "b")
    try:
        with a.db.session() as s:
            kb_service.upsert_many(session=s, store=a.store, items=SEED)
        sync_index(b)  # the start of replica B
        assert b.store.index().ids() == chunk_ids(a)

        with a.db.session() as s:
            kb_service.create_article(session=s, store=a.store, item=FAX)
        hits = eventually(lambda: [h for h in search(b, "how do I send a fax") if h["article_id"] == "fax-setup"])
        assert "choose Fax" in hits[0]["passage"]

        # Edited: the old passage is gone from B, the new one found.
        with a.db.session() as s:
            kb_service.update_article(session=s, store=a.store, article_id="fax-setup",
                                      changes={"title": "Scan to e-mail on the office printer",
                                               "body": "Press Scan on the printer, choose E-mail and pick your name."})
        hits = eventually(lambda: [h for h in search(b, "scan a paper document to my email")
                                   if h["article_id"] == "fax-setup" and "Press Scan" in h["passage"]])
        assert hits[0]["title"] == "Scan to e-mail on the office printer"
        assert not any("choose Fax" in text for text in b.store.read_texts().values())
        assert b.store.index().ids() == chunk_ids(a)

        # Deleted: no longer found on B.
        with a.db.session() as s:
            kb_service.delete(session=s, store=a.store, article_id="fax-setup")
        eventually(lambda: all(h["article_id"] != "fax-setup" for h in search(b, "scan a paper document to my email")))
        assert b.store.index().ids() == chunk_ids(a)

        # Deleted and another written at once (SQLite may give the new passage the freed id).
        with a.db.session() as s:
            kb_service.create_article(session=s, store=a.store, item=FAX)
        eventually(lambda: any(h["article_id"] == "fax-setup" for h in search(b, "how do I send a fax")))
        with a.db.session() as s:
            kb_service.delete(session=s, store=a.store, article_id="fax-setup")
            kb_service.create_article(session=s, store=a.store,
                                      item={"id": "badge", "title": "Replace a lost badge",
                                            "body": "Report the lost badge at the front desk for a new one."})
        hits = eventually(lambda: [h for h in search(b, "I lost my badge") if h["article_id"] == "badge"])
        assert "front desk" in hits[0]["passage"]
        assert all(h["article_id"] != "fax-setup" for h in search(b, "how do I send a fax"))
        assert b.store.index().ids() == chunk_ids(a)

        # B never encoded a passage: it took every vector A stored with the passage.
        assert b_encoder.texts == 0 and a_encoder.texts > 0
        # B's data directory keeps where it is in the feed, so a restart resumes from there.
        with b.db.session() as s:
            last = s.scalar(select(func.max(ChangeFeedRow.id)))
        assert b.store.feed_applied() == last
        again = Runtime(b.settings)
        try:
            assert again.store.feed_applied() == last
        finally:
            again.close()
    finally:
        a.close()
        b.close()


def test_a_replica_with_an_empty_data_directory_encodes_nothing(tmp_path):
    url = fresh_database_url(tmp_path)
    a, _ = replica(url, tmp_path / "a")
    try:
        with a.db.session() as s:
            kb_service.upsert_many(session=s, store=a.store, items=read_articles(DEMO_DIR / "articles"))
        fresh, encoder = replica(url, tmp_path / "fresh")
        try:
            synced = sync_index(fresh)
            assert encoder.texts == 0
            assert synced["added"] == synced["total"] == a.store.count() > 0
            assert fresh.store.stale_reason() is None and fresh.store.index().ids() == a.store.index().ids()
            for query in ("I forgot my password", "the VPN does not connect", "where is my invoice",
                          "how do I add a user to my team"):
                mine, theirs = search(fresh, query), search(a, query)
                assert [h["article_id"] for h in mine] == [h["article_id"] for h in theirs], query
                assert [round(h["score"], 5) for h in mine] == [round(h["score"], 5) for h in theirs], query
        finally:
            fresh.close()
    finally:
        a.close()


def test_passages_without_a_stored_vector_get_one_at_the_next_sync(tmp_path):
    """An installation from before passage vectors were stored: its next sync stores the index's
    vectors (no encoding); a passage neither holds is encoded once and stored."""
    url = fresh_database_url(tmp_path)
    a, a_encoder = replica(url, tmp_path / "a")
    try:
        with a.db.session() as s:
            kb_service.upsert_many(session=s, store=a.store, items=SEED + [FAX])
            s.execute(delete(PassageVector))
        before = a_encoder.texts
        sync_index(a)
        assert a_encoder.texts == before  # the backfill came from the saved index
        with a.db.session() as s:
            assert set(s.scalars(select(PassageVector.chunk_id))) == chunk_ids(a)
            fax_chunks = list(s.scalars(select(Chunk.id).where(Chunk.article_id == "fax-setup")))
            s.execute(delete(PassageVector).where(PassageVector.chunk_id.in_(fax_chunks)))

        fresh, encoder = replica(url, tmp_path / "fresh")
        try:
            sync_index(fresh)
            assert encoder.texts == len(fax_chunks)  # only the passages the database had no vector for
            with fresh.db.session() as s:
                assert set(s.scalars(select(PassageVector.chunk_id))) == chunk_ids(a)
            assert any(h["article_id"] == "fax-setup" for h in search(fresh, "how do I send a fax"))
        finally:
            fresh.close()
    finally:
        a.close()


def test_a_gap_in_the_feed_holds_the_follower_until_it_fills_or_is_old(tmp_path):
    """Feed ids are taken at insert and committed in another order: the applied id stays below a
    missing id until the row appears, or until it has been missing long enough to be a rollback."""
    url = fresh_database_url(tmp_path)
    a, _ = replica(url, tmp_path / "a")
    b, _ = replica(url, tmp_path / "b")
    try:
        with a.db.session() as s:
            kb_service.upsert_many(session=s, store=a.store, items=SEED)
        sync_index(b)
        start = b.store.feed_applied()
        assert start > 0

        def write(feed_id: int) -> None:  # a change of a kind the passage index does not follow
            with a.db.session() as s:
                s.execute(insert(ChangeFeedRow).values(id=feed_id, kind="activation", key="1"))

        write(start + 2)
        b.store.follow(force=True)
        assert b.store.feed_applied() == start  # start + 1 may still commit
        write(start + 1)
        b.store.follow(force=True)
        assert b.store.feed_applied() == start + 2
        write(start + 4)
        b.store.follow(force=True)
        assert b.store.feed_applied() == start + 2
        b.store.gap_final = 0.0  # start + 3 has now been missing long enough: rolled back
        b.store.follow(force=True)
        assert b.store.feed_applied() == start + 4
        assert b.store.index().ids() == chunk_ids(a)
    finally:
        a.close()
        b.close()


def test_a_fresh_replica_at_scale_takes_the_ivf_lists_from_the_database(tmp_path):
    """Above IVF_ABOVE passages the index is approximate: the first replica trains its lists and
    keeps them in the database; a fresh replica assigns the stored vectors to those lists (no
    k-means, nothing encoded) and finds what the first finds."""
    url = fresh_database_url(tmp_path)
    a, _ = replica(url, tmp_path / "a")
    try:
        name, dim = a.cached_passage_encoder.name, a.cached_passage_encoder.dim
        n = IVF_ABOVE + 500
        rng = np.random.default_rng(29)
        centres = rng.normal(size=(50, dim))
        vectors = centres[rng.integers(0, 50, n)] + rng.normal(0, 0.5, (n, dim))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        with a.db.session() as s:  # passages with stored vectors, as replicas write them
            s.execute(insert(Article), [{"id": f"a{i}", "title": f"Article {i}", "body": f"passage {i}",
                                         "content_hash": str(i)} for i in range(n)])
            s.execute(insert(Chunk), [{"id": i + 1, "article_id": f"a{i}", "position": 0, "text": f"passage {i}"}
                                      for i in range(n)])
            s.execute(insert(PassageVector), [{"chunk_id": i + 1, "encoder": name, "vector": vectors[i].tobytes()}
                                              for i in range(n)])
            s.commit()
            assert read_quantizer(s, name) is None
        sync_index(a)  # trains its lists
        assert a.store.index().kind == "ivf"
        with a.db.session() as s:
            stored = read_quantizer(s, name)
        assert np.array_equal(stored, a.store.index().centroids())

        fresh, encoder = replica(url, tmp_path / "fresh")
        try:
            assert sync_index(fresh)["added"] == n and encoder.texts == 0
            assert np.array_equal(fresh.store.index().centroids(), stored)
            queries = vectors[::1500] + rng.normal(0, 0.05, (len(vectors[::1500]), dim)).astype(np.float32)
            mine, theirs = fresh.store.index().search(queries, 5), a.store.index().search(queries, 5)
            assert [[i for i, _ in row] for row in mine] == [[i for i, _ in row] for row in theirs]
        finally:
            fresh.close()
    finally:
        a.close()
