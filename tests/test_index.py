"""The faiss-backed passage index and its store, on real faiss and the real encoder."""
import numpy as np

from kb import service as kb_service
from kb.index import VectorIndex


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
