"""Cold start from unlabelled tickets (kb/adaptation.py): on synthetic vectors, and through
training and search on a real database, faiss index and encoder."""
import numpy as np
from sqlalchemy import select

from kb import adaptation
from kb import service as kb_service
from kb.tables import Chunk
from models import registry
from application.training import train
from triage import service as triage_service


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def _tickets_and_passages(rng, n_articles=6, dim=48, per_article=40):
    """Tickets scattered around one centre per article; each article's passage leans almost as much
    toward the next article's centre as toward its own (titles sit apart from ticket language)."""
    centres = _unit(rng.normal(size=(n_articles, dim)))
    passages = _unit(centres + 0.8 * np.roll(centres, -1, axis=0) + 0.5 * _unit(rng.normal(size=(n_articles, dim))))
    labels = np.repeat(np.arange(n_articles), per_article)
    pool = _unit(centres[labels] + 0.15 * rng.normal(size=(len(labels), dim)))
    held_labels = np.repeat(np.arange(n_articles), 20)
    held = _unit(centres[held_labels] + 0.15 * rng.normal(size=(len(held_labels), dim)))
    return pool, passages, held, held_labels


def _hit_at_1(scores, labels):
    return float((scores.argmax(axis=1) == labels).mean())


def test_adapted_passages_rank_unseen_tickets_better_and_match_the_moved_vectors():
    pool, passages, held, held_labels = _tickets_and_passages(np.random.default_rng(3))
    # Two passages for article "a0" (the second a copy): the article scores by its best passage.
    article_ids = [f"a{i}" for i in range(len(passages))] + ["a0"]
    stored = np.vstack([passages, passages[:1]])
    chunk_ids = list(range(100, 100 + len(stored)))
    fitted = adaptation.fit(pool, stored, article_ids, chunk_ids)
    assert fitted.article_ids == sorted(set(article_ids)) and fitted.tickets == len(pool)
    assert fitted.chunks["a0"] == [100, 106]

    raw = held @ passages.T
    adapted = np.array([fitted.cosines(q, article_ids[:-1], passages) for q in held])
    assert _hit_at_1(raw, held_labels) < 0.8  # the passages alone misrank a quarter of new tickets
    assert _hit_at_1(adapted, held_labels) >= 0.95

    # Each adapted cosine is the cosine to the passage moved toward its article's tickets.
    row = fitted.article_ids.index("a3")
    moved = _unit(passages[3] + adaptation.BETA * fitted.centroids[row])
    assert np.isclose(adapted[0, 3], held[0] @ moved, atol=1e-5)
    # The candidates for a ticket are the passages of the articles whose tickets are nearest.
    nearest = fitted.article_ids[int(np.argmax(fitted.centroids @ held[0]))]
    assert fitted.candidates(held[0])[:len(fitted.chunks[nearest])] == fitted.chunks[nearest]
    # An article the adaptation does not know keeps its raw cosine.
    assert np.isclose(fitted.cosines(held[0], ["other"], passages[:1])[0], raw[0, 0])


def test_too_few_tickets_per_article_leave_the_passages_alone():
    tickets, passages, _, _ = _tickets_and_passages(np.random.default_rng(0),
                                                    per_article=adaptation.MIN_TICKETS_PER_ARTICLE)
    ids = [f"a{i}" for i in range(len(passages))]
    assert adaptation.fit(tickets[:-1], passages, ids, list(range(len(ids)))) is None
    assert adaptation.fit(tickets, passages, ids, list(range(len(ids)))) is not None
    assert adaptation.fit(tickets[:0], passages, ids, list(range(len(ids)))) is None


def test_a_large_knowledge_base_adapts_to_fewer_tickets(monkeypatch):
    pool, passages, _, _ = _tickets_and_passages(np.random.default_rng(1))
    ids = [f"a{i}" for i in range(len(passages))]
    newest = adaptation.fit(pool[-100:], passages, ids, list(range(len(ids))))  # in one block
    monkeypatch.setattr(adaptation, "MAX_PAIRS", len(passages) * 100)
    monkeypatch.setattr(adaptation, "BLOCK_FLOATS", len(passages) * 7)  # blocks of 7 tickets
    fitted = adaptation.fit(pool, passages, ids, list(range(len(ids))))
    assert fitted.tickets == 100
    assert np.allclose(fitted.centroids, newest.centroids, atol=1e-6)
    monkeypatch.setattr(adaptation, "MAX_PAIRS", len(passages) * 50)  # 50 tickets < 10 per article
    assert adaptation.fit(pool, passages, ids, list(range(len(ids)))) is None


ARTICLES = [
    {"id": "card-arrival", "title": "Card arrival", "body": "card arrival"},
    {"id": "exchange-rate", "title": "Exchange rate", "body": "exchange rate"},
    {"id": "refund", "title": "Request a refund", "body": "request a refund"},
]
TICKETS = {
    "card-arrival": ["my new card still hasn't come in the post", "when will the card I ordered get here",
                     "it's been two weeks and no card has been delivered", "has my replacement card been sent yet",
                     "the card you mailed me never showed up", "how long does delivery of a card take",
                     "I am still waiting for my debit card to arrive", "where is my card, it was supposed to come",
                     "tracking for the card shipment please", "card not received after ordering it",
                     "can you check if my card was dispatched", "I never got the card in the mail"],
    "exchange-rate": ["what rate do you use to convert euros", "why did I get a bad conversion for dollars",
                      "how much is one pound in your app", "the currency conversion looks wrong",
                      "which rate applies when I pay abroad", "is the FX rate fixed during the weekend",
                      "you converted my money at a strange price", "how are foreign currency amounts calculated",
                      "what is today's rate for yen", "I think the conversion rate was unfair",
                      "do you add a margin on currency exchange", "where can I see the rate before paying"],
    "refund": ["I want my money back for this order", "the merchant agreed to give me back the payment",
               "how do I get reimbursed for a cancelled purchase", "please return the funds for this charge",
               "my refund hasn't appeared in my account", "can I reverse a payment to a shop",
               "the seller said they sent the money back", "I returned the item and want a reimbursement",
               "how long until returned money shows up", "get back money for a duplicate purchase",
               "I was promised a refund last week", "need the payment returned to my card"],
}


def test_cold_training_adapts_the_articles_and_search_uses_them(runtime, session):
    store = runtime.store
    kb_service.upsert_many(session=session, store=store, items=ARTICLES)
    texts = [t for rows in TICKETS.values() for t in rows]
    triage_service.import_tickets(session=session, records=[{"body": t} for t in texts])  # no article links
    version = train(session=session, store=store, encoder=runtime.cached_encoder, settings=runtime.settings)
    assert version.report["article_adaptation"] == {"articles": 3, "tickets": len(texts)}
    fitted = registry.read_bundle(version.path).article_adaptation
    assert fitted.article_ids == sorted(TICKETS)

    query = "my card hasn't turned up yet, how long will it take"
    vec = runtime.encoder.encode([query])
    [plain] = kb_service.search_passages(session=session, store=store, vectors=vec, texts=[query], k=3)
    [adapted] = kb_service.search_passages(session=session, store=store, vectors=vec, texts=[query], k=3,
                                           adaptation=fitted)
    assert adapted[0]["article_id"] == "card-arrival"
    chunk_of = dict(session.execute(select(Chunk.article_id, Chunk.id)).all())
    for hit in adapted:
        stored = store.index().vectors([chunk_of[hit["article_id"]]])[0]
        moved = _unit(stored + fitted.beta * fitted.centroids[fitted.article_ids.index(hit["article_id"])])
        assert np.isclose(hit["cosine"], float(vec[0] @ moved), atol=1e-5)
    assert {h["article_id"] for h in plain} == {h["article_id"] for h in adapted}

    # The engine serves the adapted version: its top suggestion is the same article.
    [decision] = runtime.engine.decide([query])
    assert decision["suggestions"][0]["article_id"] == "card-arrival"

    # An article edited or deleted after training: the edit is searched (moved from its new
    # stored vector) and the deleted article's training-time chunks are skipped.
    kb_service.upsert_many(session=session, store=store,
                           items=[{**ARTICLES[0], "body": "when your card will arrive in the post"}])
    kb_service.delete(session=session, store=store, article_id="refund")
    [after] = kb_service.search_passages(session=session, store=store, vectors=vec, texts=[query], k=3,
                                         adaptation=fitted)
    assert [h["article_id"] for h in after][0] == "card-arrival"
    assert "refund" not in {h["article_id"] for h in after}


def test_training_with_resolved_history_keeps_no_adaptation(runtime, session):
    store = runtime.store
    kb_service.upsert_many(session=session, store=store, items=ARTICLES)
    records = [{"body": t, "article": aid} for aid, rows in TICKETS.items() for t in rows]
    triage_service.import_tickets(session=session, records=records * 2)
    version = train(session=session, store=store, encoder=runtime.cached_encoder, settings=runtime.settings)
    bundle = registry.read_bundle(version.path)
    assert bundle.article_model is not None
    assert bundle.article_adaptation is None and "article_adaptation" not in version.report
