"""Changing the encoder of a deployment that already has an index and a trained model.

The second encoder is real: the packaged MiniLM with a fixed random projection to 64 dimensions
on top, saved as a sentence-transformers model directory (what a user's own model would be)."""
import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli.main import main
from common.errors import NotReady
from application.runtime import Runtime
from models.tables import ModelVersion, TrainingJob
from tests.conftest import make_runtime
from tests.test_api import metric


@pytest.fixture(scope="module")
def projected_model(tmp_path_factory):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize

    from models.encoder_spec import resolve_model_path

    base = SentenceTransformer(resolve_model_path("packaged:all-MiniLM-L6-v2"), device="cpu")
    torch.manual_seed(0)
    dense = Dense(in_features=base.get_embedding_dimension(), out_features=64, bias=False,
                         activation_function=torch.nn.Identity())
    path = tmp_path_factory.mktemp("encoder") / "minilm-64"
    SentenceTransformer(modules=[base[0], base[1], dense, Normalize()], device="cpu").save(str(path))
    return str(path)


def _tickets():
    from tests.conftest import demo_subset

    return demo_subset(240)


def test_switching_encoder_reindexes_and_retires_the_old_model(tmp_path, projected_model):
    from api.app import create_app
    from kb import service as kb_service
    from kb.importers import read_articles
    from application.demo import DEMO_DIR
    from application.training import train
    from triage import service as triage_service

    first = make_runtime(tmp_path / "home")
    with first.db.session() as s:
        kb_service.upsert_many(session=s, store=first.store, items=read_articles(DEMO_DIR / "articles"))
        triage_service.import_tickets(session=s, records=_tickets())
        old = train(session=s, store=first.store, encoder=first.cached_encoder, settings=first.settings).id
    passages = first.store.index().count()
    assert first.store.stale_reason() is None

    # The same data directory and database, now configured with the 64-dimensional encoder.
    second = Runtime(replace(first.settings, encoder=projected_model, encoder_backend="torch")).start()
    assert second.encoder.dim == 64
    reason = second.store.stale_reason()
    assert "384-dimensional" in reason and "makes 64" in reason
    with pytest.raises(NotReady) as err:
        second.store.snapshot()  # what every search starts from
    assert err.value.code == "index_stale"

    # The service embeds the articles again when it starts (on a thread), and serves without the old model.
    app = create_app(runtime=second, start_worker=False)
    client = app.test_client()
    app.extensions["kbtriage.reindex"].join(timeout=300)
    assert second.store.stale_reason() is None
    assert second.store.index().count() == passages and second.store.index().dim == 64
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["model_version"] == old
    assert f"model version {old} was trained with encoder" in health["problems"][0]
    with second.db.session() as s:  # the service queued the retrain it needs
        assert [j.trigger for j in s.scalars(select(TrainingJob).where(TrainingJob.status == "queued"))] == [
            "encoder_change"]
    answer = client.post("/v1/triage", json={"body": "I cannot connect to the VPN from home"})
    assert answer.status_code == 201, answer.get_json()
    decision = answer.get_json()
    assert decision["route"] == "review" and decision["category"] is None and decision["model_version"] is None
    with second.db.session() as s:
        job_id = s.scalars(select(TrainingJob.id)).one()
    # The reason names the job the service queued rather than asking for a training by hand.
    assert f"training job {job_id} (queued) will replace it" in decision["reason"]
    assert decision["suggestions"], "the rebuilt index still suggests articles"

    # Retraining replaces the old version even though the guard cannot compare the two.
    with second.db.session() as s:
        version = train(session=s, store=second.store, encoder=second.cached_encoder, settings=second.settings)
    assert version.report["promotion"].startswith("promoted")
    assert "which this one replaces" in version.report["comparison"]["note"]
    second.engine.invalidate()
    assert client.get("/healthz").get_json()["status"] == "ok"
    decision = client.post("/v1/triage", json={"body": "I cannot connect to the VPN from home"}).get_json()
    assert decision["model_version"] == version.id and decision["category"] is not None

    # A process still configured with the old encoder rewrites the index with its vectors: this
    # service refuses to search vectors it cannot compare with, and says why.
    with first.db.session() as s:
        assert first.store.sync(session=s)["rebuilt"]
    r = client.get("/v1/search", query_string={"q": "vpn"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "index_stale"
    assert "kbtriage reindex" in r.get_json()["error"]["message"]
    assert client.get("/healthz").get_json()["status"] == "degraded"

    # Switching back: a service started with the first encoder again serves the version trained
    # with it at once, instead of answering without a model until a retrain.
    third = Runtime(first.settings).start()
    back = create_app(runtime=third, start_worker=False).test_client()
    health = back.get("/healthz").get_json()
    assert health["status"] == "ok" and health["model_version"] == old, health
    decision = back.post("/v1/triage", json={"body": "I cannot connect to the VPN from home"}).get_json()
    assert decision["model_version"] == old and decision["category"] is not None
    with third.db.session() as s:
        assert s.get(ModelVersion, version.id).status == "retired"  # the other encoder's, for a switch again
        assert s.scalars(select(TrainingJob.id)).all() == [job_id]  # no retrain queued for the switch back
    first.close()
    second.close()
    third.close()


def test_same_dimension_other_encoder_is_noticed_by_name(runtime, session, tmp_path):
    """Another model of the same width cannot be told by the vectors' shape: the recorded name
    tells it. (Here the packaged model's own directory, given as a path: the service cannot know
    the two are the same network, so it embeds again.)"""
    from kb import service as kb_service
    from models.encoder_spec import resolve_model_path

    kb_service.upsert_many(session=session, store=runtime.store,
                           items=[{"id": "vpn", "title": "Connect to the VPN", "body": "Install the client."}])
    path = resolve_model_path("packaged:all-MiniLM-L6-v2")
    other = Runtime(replace(runtime.settings, encoder=path, encoder_backend="torch"))
    assert "was built with encoder 'packaged:all-MiniLM-L6-v2'" in other.store.stale_reason()
    # What an operator runs after changing the setting (the service would do it when it starts).
    env = {"KBTRIAGE_HOME": str(runtime.settings.home), "DATABASE_URL": runtime.settings.database_url,
           "KBTRIAGE_ENCODER": path, "KBTRIAGE_ENCODER_BACKEND": "torch"}
    out = CliRunner().invoke(main, ["reindex"], env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["total"] == 1 and result["added"] == 1 and "was built with encoder" in result["rebuilt"]
    assert other.store.stale_reason() is None
    again = json.loads(CliRunner().invoke(main, ["reindex"], env=env).output)
    assert again == {"added": 0, "removed": 0, "total": 1}
    # ... and the first runtime now sees an index that is not its encoder's.
    assert "this process encodes with 'packaged:all-MiniLM-L6-v2'" in runtime.store.stale_reason()


class _Gated:
    """A real encoder that waits for ``gate`` before each call, so a test can look at the service
    while the article index is being embedded again."""

    def __init__(self, inner, gate):
        self.inner, self.gate, self.name, self.dim = inner, gate, inner.name, inner.dim

    def encode(self, texts, **kwargs):
        assert self.gate.wait(120), "the test never opened the gate"
        return self.inner.encode(texts, **kwargs)


def _wait_for(condition, seconds=60.0):
    import time

    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_service_answers_while_the_index_is_rebuilt(tmp_path, projected_model):
    """A new encoder's re-embedding runs beside the service: health says how far it is, searches
    answer 409 with Retry-After, and an article written meanwhile is in the rebuilt index."""
    import threading

    from api.app import create_app
    from kb import service as kb_service
    from kb.importers import read_articles
    from application.demo import DEMO_DIR

    first = make_runtime(tmp_path / "home")
    with first.db.session() as s:
        kb_service.upsert_many(session=s, store=first.store, items=read_articles(DEMO_DIR / "articles"))
    passages = first.store.count()

    second = Runtime(replace(first.settings, encoder=projected_model, encoder_backend="torch")).start()
    gate = threading.Event()
    second.__dict__["cached_passage_encoder"] = _Gated(second.cached_passage_encoder, gate)
    app = create_app(runtime=second, start_worker=False)  # returns before the passages are embedded
    client = app.test_client()
    _wait_for(lambda: second.store.rebuilding is not None)

    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert any(f"0 of {passages:,} passages embedded" in p for p in health["problems"]), health
    r = client.get("/v1/search", query_string={"q": "vpn"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "index_stale"
    assert "being rebuilt" in r.get_json()["error"]["message"] and r.headers["Retry-After"] == "10"
    assert metric(client, "kbtriage_index_rebuild_pending_passages") == passages
    assert metric(client, "kbtriage_degraded") == 1
    # An article written during the rebuild is kept (the rebuild reads the passages when it saves).
    created = client.post("/v1/articles", json={"id": "fax-setup", "title": "Send a fax from the web app",
                                                 "body": "Open Tools, choose Fax, enter the number and attach the PDF."})
    assert created.status_code == 201, created.get_json()

    gate.set()
    app.extensions["kbtriage.reindex"].join(timeout=300)
    assert second.store.rebuilding is None and second.store.stale_reason() is None
    assert second.store.count() == passages + 1 and second.store.index().dim == 64
    assert metric(client, "kbtriage_index_rebuild_pending_passages") == 0
    assert metric(client, "kbtriage_degraded") == 0  # no model was trained, so nothing else is retired
    hits = client.get("/v1/search", query_string={"q": "how do I send a fax", "k": 3}).get_json()
    assert hits["results"][0]["article_id"] == "fax-setup", hits
    first.close()
    second.close()


def test_switching_back_reuses_the_cached_passage_vectors(runtime, session, projected_model):
    """Passage vectors are cached by content per encoder: going back to an earlier encoder embeds
    nothing again."""
    from kb import service as kb_service
    from kb.importers import read_articles
    from application.demo import DEMO_DIR

    kb_service.upsert_many(session=session, store=runtime.store, items=read_articles(DEMO_DIR / "articles")[:5])
    other = Runtime(replace(runtime.settings, encoder=projected_model, encoder_backend="torch"))
    with other.db.session() as s:
        assert other.store.sync(session=s)["rebuilt"]

    back = Runtime(runtime.settings)
    calls = []
    inner = back.cached_passage_encoder.inner

    class Counting:
        name, dim = inner.name, inner.dim

        def encode(self, texts, **kwargs):
            calls.append(len(texts))
            return inner.encode(texts, **kwargs)

    back.cached_passage_encoder.inner = Counting()
    with back.db.session() as s:
        result = back.store.sync(session=s)
    assert "64-dimensional" in result["rebuilt"] and result["total"] == runtime.store.count()
    assert calls == [], "every passage came from the cache"
    assert back.store.stale_reason() is None and back.store.index().dim == runtime.encoder.dim
    back.close()
    other.close()
