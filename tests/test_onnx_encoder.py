"""The ONNX Runtime encoder, exported from the packaged model into a temp dir, against the reference
sentence-transformers backend."""
import numpy as np
import pytest


from models.encoder import load_encoder  # noqa: E402
from models.onnx_encoder import MODEL_FILE, OnnxEncoder, check_against_reference, length_batches  # noqa: E402

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)

SPEC = "packaged:all-MiniLM-L6-v2"
LONG_TICKET = ("Since the update last Tuesday the VPN client disconnects every few minutes, Outlook "
               "keeps asking for my password and the shared drive mapping is gone after each reboot. ") * 12
TEXTS = [
    "",
    "hi",
    "   ",
    "VPN down",
    "My card hasn't arrived yet, what should I do?",
    "I was charged twice for the same purchase.",
    "How do I reset my password?\nI tried twice and got locked out.",
    "printer on floor 3 jams\tevery morning",
    "Can't log in to SAP (error 0x80070005) after the Windows 11 upgrade!!!",
    "Überweisung nicht angekommen – bitte prüfen, Grüße aus München",
    "¿Dónde está mi tarjeta? Necesito ayuda urgente.",
    "パスワードを忘れました。リセット方法を教えてください。",
    "我的银行卡被冻结了",
    "لا أستطيع تسجيل الدخول إلى حسابي",
    "laptop screen flickers 😤🔥 pls help",
    "word " * 600,
    LONG_TICKET,
    "a",
    "The exchange rate applied to my transfer looks wrong, it differs from the one shown in the app.",
    "new starter needs access to Jira, Confluence and the finance share by Monday",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_encoder(cache_dir):
    return OnnxEncoder(SPEC, cache_dir, threads=2)


def test_matches_reference_with_shapes_dtype_and_norms(onnx_encoder):
    assert onnx_encoder.dim == 384
    assert onnx_encoder.max_seq_length == 256
    assert check_against_reference(onnx_encoder, load_encoder(SPEC), TEXTS) >= 0.9999

    vecs = onnx_encoder.encode(TEXTS, batch_size=8)
    assert vecs.shape == (len(TEXTS), 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # Past 256 tokens the text is truncated, as the reference does: more of the same changes nothing.
    longer = onnx_encoder.encode(["word " * 600, "word " * 900])
    assert float(longer[0] @ longer[1]) > 0.99999

    empty = onnx_encoder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_second_encoder_reuses_the_export(onnx_encoder, cache_dir):
    model = onnx_encoder.export_dir / MODEL_FILE
    before = model.stat().st_mtime_ns
    again = OnnxEncoder(SPEC, cache_dir, threads=1)
    assert again.export_dir == onnx_encoder.export_dir
    assert model.stat().st_mtime_ns == before
    # One export folder and no temp folders left behind by the export.
    assert [p.name for p in cache_dir.iterdir()] == [onnx_encoder.export_dir.name]
    assert not [p for p in onnx_encoder.export_dir.iterdir() if p.name.startswith(".")]
    np.testing.assert_allclose(again.encode(TEXTS[:5]), onnx_encoder.encode(TEXTS[:5]), atol=1e-5)


def test_input_order_is_preserved_across_mixed_lengths(onnx_encoder):
    texts = [LONG_TICKET, "hi", "word " * 300, "", "printer jam", TEXTS[6], "a", TEXTS[18], "VPN down"]
    one_by_one = np.vstack([onnx_encoder.encode([t]) for t in texts])
    batched = onnx_encoder.encode(texts, batch_size=3)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    reordered = onnx_encoder.encode(texts[::-1], batch_size=4)
    np.testing.assert_allclose(reordered[::-1], batched, atol=1e-5)
    # Rows differ from one another, so a shuffled result could not pass the checks above.
    sims = batched @ batched.T
    assert (sims[~np.eye(len(texts), dtype=bool)] < 0.999).all()


def _cheapest(lengths, max_size, call_cost):
    """The least cost of any cut into consecutive batches, by trying them all."""
    if not lengths:
        return 0
    return min(call_cost + size * lengths[0] + _cheapest(lengths[size:], max_size, call_cost)
               for size in range(1, min(max_size, len(lengths)) + 1))


def test_batches_cut_where_padding_costs_more_than_another_call():
    # A ticket's sentences: the two long ones together, the short ones together; not all padded to 30.
    assert length_batches([30, 28, 6, 5, 5, 4], 16, call_cost=16) == [(0, 2), (2, 6)]
    assert length_batches([12, 12, 11, 11], 16, call_cost=16) == [(0, 4)]  # like lengths: one call
    assert sorted(j - i for i, j in length_batches([9] * 5, 2, call_cost=16)) == [1, 2, 2]  # the batch size holds
    assert length_batches([], 16) == []
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = sorted(rng.integers(1, 200, rng.integers(1, 9)).tolist(), reverse=True)
        size, cost = int(rng.integers(1, 5)), int(rng.integers(0, 40))
        batches = length_batches(lengths, size, cost)
        assert batches[0][0] == 0 and batches[-1][1] == len(lengths)
        assert all(a[1] == b[0] for a, b in zip(batches, batches[1:])) and all(0 < j - i <= size for i, j in batches)
        assert sum(cost + (j - i) * lengths[i] for i, j in batches) == _cheapest(lengths, size, cost)


def test_a_tickets_sentences_encode_as_each_alone(onnx_encoder):
    """Sentences of very different lengths, cut into several calls: each row is the sentence's own vector."""
    sentences = [TEXTS[18], "VPN down", LONG_TICKET[:300], "hi", TEXTS[6], TEXTS[4]]
    np.testing.assert_allclose(onnx_encoder.encode(sentences),
                               np.vstack([onnx_encoder.encode([t]) for t in sentences]), atol=1e-5)


def test_threads_of_a_call_are_a_setting(cache_dir):
    one = load_encoder(SPEC, "onnx", cache_dir, threads=1)
    two = load_encoder(SPEC, "onnx", cache_dir, threads=2)
    assert one._session.get_session_options().intra_op_num_threads == 1
    assert two._session.get_session_options().intra_op_num_threads == 2
    np.testing.assert_allclose(one.encode(TEXTS[3:8]), two.encode(TEXTS[3:8]), atol=1e-5)


def test_a_token_limit_cuts_long_texts_only_and_names_the_encoder(onnx_encoder, cache_dir):
    limited = OnnxEncoder(SPEC, cache_dir, threads=2, max_tokens=32)
    assert limited.max_seq_length == 32
    assert limited.name == f"{SPEC}#max_tokens=32" != onnx_encoder.name
    assert limited._session is onnx_encoder._session  # one session for both
    short = ["VPN down", "My card hasn't arrived yet, what should I do?"]
    np.testing.assert_allclose(limited.encode(short), onnx_encoder.encode(short), atol=1e-5)
    cut, whole = limited.encode([LONG_TICKET])[0], onnx_encoder.encode([LONG_TICKET])[0]
    assert float(cut @ whole) < 0.999
    # The reference backend cuts at the same place and names itself the same way.
    reference = load_encoder(SPEC, max_tokens=32)
    assert reference.name == limited.name
    assert check_against_reference(limited, reference, [LONG_TICKET, *short]) >= 0.9999
    # A limit at or above the model's own changes nothing, and keeps the plain name.
    assert OnnxEncoder(SPEC, cache_dir, threads=2, max_tokens=1000).name == SPEC


def _demo_tickets(n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` demo tickets (subject and body) and their categories."""
    import csv
    from pathlib import Path

    import kb

    path = Path(kb.__file__).parent / "demo_data" / "tickets.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh))]
    return [f"{r['subject']}\n{r['body']}" for r in rows], [r["category"] for r in rows]


@pytest.mark.parametrize("method", ["blocks", "dynamic"])
def test_int8_passes_its_check_and_keeps_a_classifiers_decisions(onnx_encoder, cache_dir, method):
    from sklearn.linear_model import LogisticRegression

    from models.onnx_encoder import INT8_METHODS

    how = INT8_METHODS[method]
    int8 = OnnxEncoder(SPEC, cache_dir, threads=2, int8=method)
    assert int8.model_file == onnx_encoder.export_dir / how.model_file
    assert (onnx_encoder.export_dir / how.check_file).exists()
    check = int8.int8_check
    assert check["passed"] and check["method"] == method
    assert check["mean_cosine"] >= how.min_mean_cosine and check["min_cosine"] >= how.min_cosine
    # Compatible with fp32's vectors, so it shares their name (stored vectors are reused).
    assert int8.name == onnx_encoder.name == SPEC
    assert int8._session is not onnx_encoder._session

    texts, labels = _demo_tickets(360)
    fp32_vecs, int8_vecs = onnx_encoder.encode(texts), int8.encode(texts)
    cos = (fp32_vecs * int8_vecs).sum(axis=1)
    assert cos.mean() >= how.min_mean_cosine and cos.min() >= how.min_cosine
    assert cos.max() < 0.99999  # really another model, not the fp32 one under a new name
    # A classifier trained on fp32 vectors decides the held-out tickets the same from int8 ones.
    # Only near-ties may flip: measured, 4 of 120 held-out tickets, each with fp32's top two
    # probabilities under 0.05 apart (the median gap is 0.15).
    clf = LogisticRegression(max_iter=2000).fit(fp32_vecs[:240], labels[:240])
    fp32_proba, int8_proba = clf.predict_proba(fp32_vecs[240:]), clf.predict_proba(int8_vecs[240:])
    ranked = np.sort(fp32_proba, axis=1)
    clear = ranked[:, -1] - ranked[:, -2] >= 0.05
    agree = fp32_proba.argmax(axis=1) == int8_proba.argmax(axis=1)
    assert clear.sum() >= 80 and agree[clear].all()
    assert agree.mean() >= 0.95
    truth = np.array(labels[240:])
    accuracy = [(clf.classes_[p.argmax(axis=1)] == truth).mean() for p in (fp32_proba, int8_proba)]
    assert accuracy[1] >= accuracy[0] - 0.03

    # A second encoder reuses the quantised file.
    before = int8.model_file.stat().st_mtime_ns
    assert OnnxEncoder(SPEC, cache_dir, threads=1, int8=method).model_file.stat().st_mtime_ns == before


def test_int8_below_the_threshold_is_refused_and_fp32_serves(onnx_encoder, cache_dir, monkeypatch, caplog):
    import models.onnx_encoder as onnx_module
    from models.onnx_encoder import INT8_METHODS, Int8Method, Int8Rejected

    how = INT8_METHODS["blocks"]
    stricter = Int8Method(how.model_file, how.check_file, how.min_mean_cosine, 0.99999)  # more than int8 can reach
    monkeypatch.setitem(onnx_module.INT8_METHODS, "blocks", stricter)
    with pytest.raises(Int8Rejected, match="too far from fp32"):
        OnnxEncoder(SPEC, cache_dir, threads=2, int8="blocks")
    assert not (onnx_encoder.export_dir / how.model_file).exists()
    # The backend setting falls back to the fp32 export, with a warning naming the reason.
    with caplog.at_level("WARNING", logger="kbtriage.encoder"):
        served = load_encoder(SPEC, "onnx-int8", cache_dir, max_tokens=40)
    assert served.model_file == onnx_encoder.export_dir / MODEL_FILE
    assert "int8 encoder unavailable" in caplog.text and "too far from fp32" in caplog.text
    np.testing.assert_allclose(served.encode(TEXTS[3:6]), onnx_encoder.encode(TEXTS[3:6]), atol=1e-5)


def _speed_records(encoder) -> dict:
    import json

    from models.onnx_encoder import SPEED_FILE

    return json.loads((encoder.export_dir / SPEED_FILE).read_text(encoding="utf-8"))


def test_auto_serves_the_int8_copy_only_where_it_is_faster_on_this_machine(onnx_encoder, cache_dir, caplog):
    import json

    from models.onnx_encoder import INT8_METHODS, SPEED_FILE, machine_id

    blocks = onnx_encoder.export_dir / INT8_METHODS["blocks"].model_file
    first = OnnxEncoder(SPEC, cache_dir, threads=1, int8="blocks", int8_if_faster=True)
    speed = first.int8_speed
    assert speed["method"] == "blocks" and speed["threads"] == 1 and speed["texts"] == 28
    assert speed["fp32_ms"] > 0 and speed["int8_ms"] > 0
    assert speed["int8_serves"] == (speed["int8_ms"] < speed["fp32_ms"])
    assert first.model_file == (blocks if speed["int8_serves"] else onnx_encoder.export_dir / MODEL_FILE)
    # An int8 copy that does not serve claims no check; the vectors' name is fp32's either way.
    assert (first.int8_check is not None) == speed["int8_serves"] and first.name == onnx_encoder.name
    # Kept per machine and thread count, and read, not measured again, by the next start.
    key = f"{machine_id()}:blocks:1"
    assert _speed_records(first)[key] == speed
    records = _speed_records(first)
    records[key] = {**speed, "int8_serves": not speed["int8_serves"]}  # as another measurement could find
    (onnx_encoder.export_dir / SPEED_FILE).write_text(json.dumps(records), encoding="utf-8")
    with caplog.at_level("INFO", logger="kbtriage.encoder"):
        second = load_encoder(SPEC, "auto", cache_dir, max_tokens=40, threads=1)
    assert second.int8_speed == records[key]
    assert second.model_file == (onnx_encoder.export_dir / MODEL_FILE if speed["int8_serves"] else blocks)
    assert ("fp32's export serves" in caplog.text) == speed["int8_serves"]
    # The explicit int8 backend serves the int8 copy whatever its speed.
    assert load_encoder(SPEC, "onnx-int8", cache_dir, max_tokens=40, threads=1).model_file == blocks
    # Another machine's record (or another thread count) is not this one's: it is measured here.
    (onnx_encoder.export_dir / SPEED_FILE).write_text(json.dumps({"0000:blocks:1": records[key]}), encoding="utf-8")
    third = OnnxEncoder(SPEC, cache_dir, threads=1, int8="blocks", int8_if_faster=True)
    assert set(_speed_records(third)) == {"0000:blocks:1", key}
    assert third.int8_speed["measured_at"] >= speed["measured_at"]


_START = """
import json, sys
from models.onnx_encoder import OnnxEncoder
e = OnnxEncoder({spec!r}, sys.argv[1], threads=1, int8="blocks", int8_if_faster=True)
print(json.dumps({{"model": str(e.model_file), "speed": e.int8_speed}}))
"""


def test_processes_starting_together_measure_once_and_serve_the_same_model(onnx_encoder, tmp_path):
    """Web workers start at the same moment: one times the models, the others wait and read its record."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from models.onnx_encoder import SPEED_FILE

    cache = tmp_path / "cache"
    shutil.copytree(onnx_encoder.export_dir, cache / onnx_encoder.export_dir.name)
    (cache / onnx_encoder.export_dir.name / SPEED_FILE).unlink(missing_ok=True)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _START.format(spec=SPEC), str(cache)], env=env, cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-2000:] for _, err in outs]
    served = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert served[0]["speed"] is not None
    assert all(s == served[0] for s in served)  # the same figures: measured once
    assert len(json.loads((cache / onnx_encoder.export_dir.name / SPEED_FILE).read_text())) == 1
