"""Changing the encoder of a deployment that already has an index and a trained model.

The second encoder is real: the packaged MiniLM with a fixed random projection to 64 dimensions
on top, saved as a sentence-transformers model directory (what a user's own model would be)."""
import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kbtriage.cli import main
from kbtriage.errors import NotReady
from kbtriage.runtime import Runtime
from models.tables import TrainingJob
from tests.conftest import make_runtime


@pytest.fixture(scope="module")
def projected_model(tmp_path_factory):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize

    from models.encoder import resolve_model_path

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
    from kbtriage.demo import DEMO_DIR
    from models.training import train
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
        second.store.search(second.encoder.encode(["vpn"]), 3)
    assert err.value.code == "index_stale"

    # The service embeds the articles again when it starts, and serves without the old model.
    client = create_app(runtime=second, start_worker=False).test_client()
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
    assert "run `kbtriage train`" in decision["reason"]
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
    first.close()
    second.close()


def test_same_dimension_other_encoder_is_noticed_by_name(runtime, session, tmp_path):
    """Another model of the same width cannot be told by the vectors' shape: the recorded name
    tells it. (Here the packaged model's own directory, given as a path: the service cannot know
    the two are the same network, so it embeds again.)"""
    from kb import service as kb_service
    from models.encoder import resolve_model_path

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
