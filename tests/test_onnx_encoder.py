"""The ONNX Runtime encoder, exported from the packaged model into a temp dir, against the reference
sentence-transformers backend."""
import numpy as np
import pytest


from models.encoder import load_encoder  # noqa: E402
from models.onnx_encoder import MODEL_FILE, OnnxEncoder, check_against_reference  # noqa: E402

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
