"""The model version as a typed object with a format number: training writes it, the engine reads
it, and a version written in another format is refused with an error that names the fix."""
import pickle

import pytest

from models import registry
from models.tables import ModelVersion
from models.version import FORMAT, ModelVersionArtifact


def _version_dir(tmp_path, content: bytes):
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / registry.BUNDLE_FILE).write_bytes(content)
    return folder


def test_a_version_round_trips_as_the_typed_object(tmp_path):
    bundle = ModelVersionArtifact(encoder="packaged:all-MiniLM-L6-v2", encoder_dim=384, article_history={"a": 3})
    path = registry.write_bundle(tmp_path, 7, bundle, probes=None)
    back = registry.read_bundle(path)
    assert isinstance(back, ModelVersionArtifact) and back.format == FORMAT
    assert (back.encoder_dim, back.article_history, back.category_model) == (384, {"a": 3}, None)


@pytest.mark.parametrize("content, written", [
    (pickle.dumps({"encoder": "packaged:all-MiniLM-L6-v2", "category_model": None}), "format 1"),  # the old dict
    (b"cmodels.classifier\nNoLongerHere\n.", "an earlier format"),  # a pickled class that has moved
])
def test_a_version_in_another_format_names_the_fix(tmp_path, content, written):
    with pytest.raises(registry.OutdatedVersion) as caught:
        registry.read_bundle(_version_dir(tmp_path, content))
    assert written in caught.value.message and "kbtriage train" in caught.value.message
    assert caught.value.field == "version"


def test_a_newer_format_is_refused_too(tmp_path):
    bundle = ModelVersionArtifact(encoder="e", encoder_dim=3, format=FORMAT + 1)
    with pytest.raises(registry.OutdatedVersion, match=f"format {FORMAT + 1}"):
        registry.read_bundle(registry.write_bundle(tmp_path, 1, bundle))


def test_the_service_says_why_it_cannot_serve_an_outdated_active_version(runtime, session, tmp_path):
    folder = _version_dir(tmp_path, pickle.dumps({"encoder": runtime.settings.encoder}))
    session.add(ModelVersion(status="active", encoder=runtime.settings.encoder, path=str(folder), report={}))
    session.commit()
    runtime.engine.invalidate()
    assert runtime.engine.current() == (None, None)  # decides without models, instead of failing inside one
    [problem] = runtime.problems()
    assert "cannot be served" in problem and "format 1" in problem and "kbtriage train" in problem
    [decision] = runtime.engine.decide(["I cannot log in since this morning"])
    assert decision["route"] == "review" and decision["category"] is None
    assert "kbtriage train" in decision["reason"]
