"""The faiss-backed passage index and its store, on real faiss and the real encoder."""
import threading

import numpy as np
from sqlalchemy import select

from kb import service as kb_service
from kb.index import VectorIndex, nlist_for, quantizer_fits
from kb.tables import Chunk


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_index_add_search_remove_save_load(tmp_path):
    index = VectorIndex(3)
    index.add([10, 20, 30], _unit([[1, 0, 0], [0, 1, 0], [1, 1, 0]]))
    assert index.count() == 3
    [hits] = index.search(_unit([[1, 0.1, 0]]), 2)
    assert [i for i, _ in hits] == [10, 30]
    assert hits[0][1] > hits[1][1]
    index.add([10], _unit([[0, 0, 1]]))  # re-adding an id replaces its vector
    assert index.count() == 3
    assert index.search(_unit([[0, 0, 1]]), 1)[0][0][0] == 10
    assert index.remove([20]) == 1
    index.save(tmp_path / "x.faiss")
    loaded = VectorIndex.load(tmp_path / "x.faiss")
    assert loaded.ids() == {10, 30}
    assert np.allclose(loaded.vectors([30, 10]), _unit([[1, 1, 0], [0, 0, 1]]), atol=1e-6)
    assert loaded.vectors([]).shape == (0, 3)
    assert VectorIndex(3).search(_unit([[1, 0, 0]]), 5) == [[]]


def test_store_follows_article_edits_and_repairs_drift(runtime, session):
    store = runtime.store
    items = [{"id": "vpn", "title": "Connect to the VPN", "body": "Install the VPN client and sign in."},
             {"id": "invoice", "title": "Download an invoice", "body": "Billing > Invoices > Download PDF."}]
    counts = kb_service.upsert_many(session=session, store=store, items=items)
    assert counts == {"created": 2, "updated": 0, "unchanged": 0}
    vec = runtime.encoder.encode(["where can I get my invoice pdf"])
    [hits] = kb_service.search_passages(session=session, store=store, vectors=vec, k=2)
    assert hits[0]["article_id"] == "invoice"

    # Unchanged content is left alone; changed content replaces its passages in the index.
    again = kb_service.upsert_many(session=session, store=store, items=items)
    assert again == {"created": 0, "updated": 0, "unchanged": 2}
    changed = [{**items[0], "body": "Receipts and invoices for your plan are under Billing."}, items[1]]
    assert kb_service.upsert_many(session=session, store=store, items=changed)["updated"] == 1
    assert store.index().count() == 2

    kb_service.delete(session=session, store=store, article_id="invoice")
    [hits] = kb_service.search_passages(session=session, store=store, vectors=vec, k=2)
    assert [h["article_id"] for h in hits] == ["vpn"]

    # A crash between the database commit and the index save leaves drift; sync repairs it.
    store.path.unlink()
    assert store.sync(session=session) == {"added": 1, "removed": 0, "total": 1}
    assert store.index().count() == 1


def test_hybrid_search_finds_exact_terms_and_follows_edits(runtime, session):
    store = runtime.store
    items = [{"id": "e4417", "title": "Sync stops with error E-4417",
              "body": "Error E-4417 appears when the sync token expired. Sign out and sign in again."},
             {"id": "sync", "title": "Sync is slow", "body": "Large folders take longer to sync; pause and resume."},
             {"id": "invoice", "title": "Download an invoice", "body": "Billing > Invoices > Download PDF."}]
    kb_service.upsert_many(session=session, store=store, items=items)
    query = "getting E-4417 again"
    vec = runtime.encoder.encode([query])
    [hits] = kb_service.search_passages(session=session, store=store, vectors=vec, texts=[query], k=3)
    assert hits[0]["article_id"] == "e4417"
    assert hits[0]["lexical"] > 0 and hits[0]["score"] > hits[0]["cosine"]
    assert "E-4417" in hits[0]["passage"]
    [[(best, _)]] = store.snapshot()[1].search([query], 1)
    assert best in {c.id for c in session.scalars(select(Chunk).where(Chunk.article_id == "e4417"))}
    assert store.lexical().count() == 3
    # BM25 follows edits without a restart: the code moves to another article.
    kb_service.upsert_many(session=session, store=store, items=[
        {**items[0], "body": "Sign out and sign in again."},
        {**items[1], "body": items[1]["body"] + " Error E-4417 means the token expired."}, items[2]])
    [hits] = kb_service.search_passages(session=session, store=store, vectors=vec, texts=[query], k=3)
    by_id = {h["article_id"]: h for h in hits}
    assert by_id["sync"]["lexical"] > 0
    assert by_id.get("invoice", {"lexical": 0})["lexical"] == 0
    # A lost texts file is rebuilt by sync from the database without re-encoding.
    store.texts_path.unlink()
    assert store.sync(session=session)["added"] == 0
    assert store.lexical().count() == 3


def test_large_index_turns_approximate_and_keeps_ids(tmp_path):
    rng = np.random.default_rng(0)
    centres = _unit(rng.normal(size=(20, 16)))
    vectors = _unit(centres[rng.integers(0, 20, 600)] + rng.normal(0, 0.15, (600, 16)))
    ids = np.arange(1000, 1600)
    index = VectorIndex(16, ivf_above=500)
    index.add(ids[:400], vectors[:400])
    assert index.kind == "exact"
    index.add(ids[400:], vectors[400:])
    assert index.kind == "ivf" and index.count() == 600
    assert index.ids() == set(ids.tolist())
    # Each stored vector finds itself first; reconstruct, replace and remove work by id.
    top = [row[0][0] for row in index.search(vectors[:50], 5)]
    assert np.mean(np.array(top) == ids[:50]) >= 0.95
    assert np.allclose(index.vectors([1000, 1599]), vectors[[0, 599]], atol=1e-6)
    index.add([1000], _unit(-vectors[:1]))
    assert index.count() == 600 and index.search(_unit(-vectors[:1]), 1)[0][0][0] == 1000
    assert index.remove([1001, 1002]) == 2 and 1001 not in index.ids()
    index.save(tmp_path / "ivf.faiss")
    loaded = VectorIndex.load(tmp_path / "ivf.faiss")
    assert loaded.kind == "ivf" and loaded.ids() == index.ids()
    assert loaded.search(vectors[3:4], 1)[0][0][0] == 1003


def test_passages_are_read_from_memory_until_the_index_changes_in_any_process(runtime, session):
    from sqlalchemy import event

    from kb.store import IndexStore

    store = runtime.store
    items = [{"id": "vpn", "title": "Connect to the VPN", "body": "Install the VPN client and sign in."},
             {"id": "invoice", "title": "Download an invoice", "body": "Billing > Invoices > Download PDF."}]
    kb_service.upsert_many(session=session, store=store, items=items)
    query = "where can I get my invoice pdf"
    vec = runtime.encoder.encode([query])
    statements = []
    event.listen(runtime.db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def search():
        statements.clear()
        [hits] = kb_service.search_passages(session=session, store=store, vectors=vec, texts=[query], k=2)
        return hits, [s for s in statements if "chunks" in s]

    hits, reads = search()
    assert hits[0]["title"] == "Download an invoice" and reads  # first search reads the passages
    hits, reads = search()
    assert hits[0]["title"] == "Download an invoice" and not reads  # then memory serves them

    # Another process (its own store over the same files) renames the article: this one's next
    # search notices the rewritten index and reads the new passage and title.
    other = IndexStore(store.path, lambda: runtime.passage_encoder)
    kb_service.upsert_many(session=session, store=other, items=[{**items[1], "title": "Invoices and receipts"}])
    hits, reads = search()
    assert hits[0]["title"] == "Invoices and receipts" and reads
    # An edit made through this store is seen at once as well; a deleted article is gone.
    kb_service.upsert_many(session=session, store=store, items=[{**items[1], "title": "Get an invoice PDF"}])
    assert search()[0][0]["title"] == "Get an invoice PDF"
    kb_service.delete(session=session, store=other, article_id="invoice")
    assert [h["article_id"] for h in search()[0]] == ["vpn"]


def test_cold_suggestion_scores_are_capped_at_one(runtime, session):
    """Without history a suggestion's score is the hybrid similarity, which passes 1 on a
    near-verbatim match; decisions show it capped, in the same order."""
    titles = ["Activate my card", "Change my PIN", "Card payment has the wrong exchange rate",
              "Refund not showing up", "Verify my identity", "Top up by bank transfer"]
    kb_service.upsert_many(session=session, store=runtime.store,
                           items=[{"id": f"a{i}", "title": t, "body": t.lower()} for i, t in enumerate(titles)])
    query = "Card payment has the wrong exchange rate"
    [raw] = kb_service.search_passages(session=session, store=runtime.store,
                                       vectors=runtime.encoder.encode([query]), texts=[query], k=3)
    assert raw[0]["article_id"] == "a2" and raw[0]["score"] > 1.0  # the case being tested
    [decision] = runtime.engine.decide([query])
    scores = [s["score"] for s in decision["suggestions"]]
    assert decision["suggestions"][0]["article_id"] == "a2" and scores[0] == 1.0
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert not decision["gap"]


def test_a_search_keeps_the_index_it_started_with(runtime, session):
    """Writers publish a changed copy: an index (and its BM25) that a search holds is never
    changed under it, so a passage found lexically always has its vector to score."""
    store = runtime.store
    items = [{"id": "vpn", "title": "Connect to the VPN", "body": "Install the VPN client and sign in."},
             {"id": "invoice", "title": "Download an invoice", "body": "Billing > Invoices > Download PDF."}]
    kb_service.upsert_many(session=session, store=store, items=items)
    index, lexical = store.snapshot()
    held = index.ids()
    vpn_chunks = {c.id for c in session.scalars(select(Chunk).where(Chunk.article_id == "vpn"))}
    kb_service.delete(session=session, store=store, article_id="vpn")
    kb_service.upsert_many(session=session, store=store, items=[{**items[1], "body": "Invoices are under Billing."}])

    assert index.ids() == held and index.vectors(sorted(held)).shape == (len(held), index.dim)
    [[(found, _)]] = lexical.search(["VPN client"], 1)
    assert found in vpn_chunks and found in held
    latest, latest_lexical = store.snapshot()
    assert not latest.ids() & vpn_chunks and latest.ids() != held
    assert all(cid in latest.ids() for cid, _ in latest_lexical.search(["VPN client invoices"], 5)[0])


def test_searches_on_threads_while_an_article_changes(runtime, session):
    """Searches whose lexical hits the dense side did not find run while another thread edits
    the article they hit, over and over: none fails (a faiss index is never changed while read)."""
    store = runtime.store
    kb_service.upsert_many(session=session, store=store, items=[
        {"id": "printer", "title": "Printer out of toner", "body": "Replace the toner cartridge."},
        {"id": "battery", "title": "Laptop battery drains fast", "body": "Lower the screen brightness."}])
    texts = ["zebra quartz firmware"] * 200  # lexical: the edited article; dense: the battery one
    vectors = np.repeat(runtime.encoder.encode(["my laptop battery drains fast"]), len(texts), axis=0)
    errors, reads, stop = [], [], threading.Event()

    def search():
        with runtime.db.session() as own:
            while not stop.is_set():
                try:
                    kb_service.search_passages(session=own, store=store, vectors=vectors, texts=texts, k=3, depth=1)
                    reads.append(1)
                except Exception as exc:  # noqa: BLE001 - the test reports whatever a search raised
                    errors.append(repr(exc))
                    return

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    edits = 0
    while (len(reads) < 40 or edits < 40) and edits < 400 and not errors:
        edits += 1
        kb_service.upsert_many(session=session, store=store, items=[
            {"id": "zebra", "title": f"Zebra quartz firmware {edits}", "body": "zebra quartz " * (edits % 7 + 1)}])
    stop.set()
    for t in threads:
        t.join()
    assert errors == [] and len(reads) >= 40


def test_an_index_on_lists_trained_elsewhere_trains_nothing_and_finds_the_same():
    rng = np.random.default_rng(1)
    centres = _unit(rng.normal(size=(20, 16)))
    vectors = _unit(centres[rng.integers(0, 20, 1200)] + rng.normal(0, 0.15, (1200, 16)))
    ids = np.arange(5000, 6200)
    trained = VectorIndex(16, ivf_above=500)
    trained.add(ids, vectors)
    lists = trained.centroids()
    assert trained.kind == "ivf" and lists.shape == (nlist_for(1200), 16)
    assert VectorIndex(16).centroids() is None

    again = VectorIndex(16, ivf_above=500)
    again.quantizer = lists  # e.g. another replica's, from the database
    again.add(ids[:700], vectors[:700])  # over the threshold in one add: built on the given lists
    again.add(ids[700:], vectors[700:])
    assert again.kind == "ivf" and np.array_equal(again.centroids(), lists)
    queries = _unit(vectors[::60] + rng.normal(0, 0.05, (20, 16)))
    assert again.search(queries, 5) == trained.search(queries, 5)
    assert again.ids() == set(ids.tolist())

    # Lists far from the size this index would train are not used: it trains its own.
    odd = VectorIndex(16, ivf_above=500)
    odd.quantizer = lists[:3]
    odd.add(ids, vectors)
    assert len(odd.centroids()) == nlist_for(1200)
    assert not quantizer_fits(lists[:3], 1200, 16) and not quantizer_fits(lists, 1200, 8)
    assert quantizer_fits(lists, 1200, 16)
