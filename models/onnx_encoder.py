"""ONNX Runtime backend for sentence-transformers encoders, exported locally from the same weights.

The transformer of a local sentence-transformers model (``packaged:all-MiniLM-L6-v2`` or a model
directory) is exported once with ``torch.onnx.export`` into a cache directory keyed by the model's
path and weights file, then served by an ``onnxruntime.InferenceSession`` with the model's own fast
tokenizer, mean pooling and L2 normalisation, so the vectors match :class:`SentenceTransformerEncoder`
(cosine >= 0.9999, see :func:`check_against_reference`) at a fraction of the CPU cost per call.
Nothing is downloaded. onnxruntime, torch and transformers are imported only when needed, so
importing this module stays cheap.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from common.files import file_lock, prune_stale_temporaries, write_atomically
from common.threads import available_cores
from models.encoder_spec import BATCH_SIZE, TokenStates, resolve_model_path, token_limit

# Bump when the exported files or their layout change, so older cache entries are not reused.
EXPORT_FORMAT = 1
META_FILE = "kbt_onnx.json"
MODEL_FILE = "model.onnx"
# The int8 copies of the export and the records of their checks against fp32, next to the export.
# Bump INT8_FORMAT when a quantisation or its check changes, so older int8 files are made again.
INT8_FORMAT = 1


@dataclass(frozen=True)
class Int8Method:
    """One way of quantising the export to int8, with the cosines to fp32's vectors (on
    INT8_CHECK_TEXTS) its copy must reach to be used."""

    model_file: str
    check_file: str
    min_mean_cosine: float
    min_cosine: float


INT8_METHODS = {
    # MatMulNBits: 8-bit weights in blocks of 32 along the input, each block with its own scale and
    # zero point, and int8 arithmetic with the activations quantised per block too (accuracy level
    # 4). On 550 Banking77 and it_tickets training texts: mean cosine 0.9997, min 0.9992;
    # 1.1-1.9x fp32's speed on one thread (docs/benchmarks.md, "Encoder backends").
    "blocks": Int8Method("model.int8-blocks.onnx", "kbt_int8-blocks.json", 0.999, 0.995),
    # ONNX Runtime's dynamic quantisation: per-channel QInt8 weights, each activation quantised
    # with one scale per call. Mean 0.993, min 0.981; 2.1-3.3x fp32's speed; per-tensor weight
    # scales cost far more quality on this model (scripts/bench_encoder.py).
    "dynamic": Int8Method("model.int8.onnx", "kbt_int8.json", 0.99, 0.97),
}
# Kept names of the dynamic method's files.
INT8_FILE = INT8_METHODS["dynamic"].model_file
INT8_CHECK_FILE = INT8_METHODS["dynamic"].check_file
BLOCK_SIZE = 32
# A fixed, built-in sample of short help-desk requests of the kinds the service sees (banking,
# IT, product support; a few in other languages, a few odd ones) for the int8 check.
INT8_CHECK_TEXTS = (
    "My card hasn't arrived yet, what should I do?",
    "I was charged twice for the same purchase.",
    "The exchange rate applied to my transfer looks wrong.",
    "Why was my top-up declined?",
    "How long does a transfer to another bank take?",
    "I lost my phone, please freeze my account",
    "Can I get a refund for an item I returned last week?",
    "There is a payment I don't recognise on my statement",
    "How do I change my PIN?",
    "My salary has not shown up in my balance",
    "How do I reset my password? I tried twice and got locked out.",
    "VPN disconnects every few minutes since the update",
    "Outlook keeps asking for my password",
    "printer on floor 3 jams every morning",
    "Can't log in to SAP (error 0x80070005) after the Windows 11 upgrade",
    "new starter needs access to Jira, Confluence and the finance share by Monday",
    "laptop screen flickers, pls help",
    "The shared drive mapping is gone after each reboot",
    "Please cancel my subscription at the end of this month",
    "The export to CSV times out for large projects",
    "Calendar sync still shows the old due dates",
    "How do I add a team member to my workspace?",
    "Invoice shows the wrong VAT number",
    "The mobile app crashes when I open a file attachment",
    "Überweisung nicht angekommen, bitte prüfen",
    "¿Dónde está mi tarjeta? Necesito ayuda.",
    "VPN down",
    "hi",
)
# Opset 17 has a native LayerNormalization, which ORT runs as one fused kernel.
OPSET = 17
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_EXPORT_LOCK = threading.Lock()


def _load_sentence_transformer(model_dir: str | Path):
    """The sentence-transformers model in ``model_dir`` on the CPU, with eager attention."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    # Eager attention traces to plain MatMul/Softmax that ORT's optimiser fuses well; the SDPA path
    # traced to a larger graph (NaN guards, extra Where/Gather) that ran slower on CPU.
    return SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"})


def _check_supported(st) -> tuple[int, int]:
    """(max_seq_length, dim) of ``st``, or an error when its pipeline is not transformer + mean pooling."""
    kinds = [type(module).__name__ for module in st]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise NotImplementedError(f"only Transformer + mean Pooling (+ Normalize) models are supported, got {kinds}")
    pooling = st[1].get_config_dict()
    mode = pooling.get("pooling_mode")
    if mode is None:  # sentence-transformers < 6 keeps one flag per mode
        mode = [k[len("pooling_mode_"):] for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
        mode = mode[0] if len(mode) == 1 else str(mode)
    if mode not in ("mean", "mean_tokens"):
        raise NotImplementedError(f"only mean pooling is supported, got {mode!r}")
    if getattr(st, "default_prompt_name", None):
        raise NotImplementedError("models with a default prompt are not supported")
    dim = pooling.get("embedding_dimension") or pooling.get("word_embedding_dimension")
    return int(st.max_seq_length), int(dim or st[0].auto_model.config.hidden_size)


# What one more call to the network costs, in padded tokens: a call streams every weight from memory
# (~3.5 ms for MiniLM's fp32 weights, whatever the batch) and each token of the batch, padding
# included, costs ~0.2 ms more on one core (2026-12-07, scripts/bench_encoder_batches.py).
CALL_COST_TOKENS = 16


def length_batches(lengths: Sequence[int], max_size: int, call_cost: int = CALL_COST_TOKENS) -> list[tuple[int, int]]:
    """Cut texts sorted longest first (their token counts, ``lengths``) into consecutive batches of
    at most ``max_size``, as ``(start, stop)``, so that the padded tokens plus ``call_cost`` per
    batch are fewest. A ticket's sentences (6 of 3-30 tokens, say) are then not all padded to the
    longest, nor each sent alone; texts of like length stay in full batches."""
    n = len(lengths)
    best = [0] + [None] * n  # best[j]: the least cost of the first j texts
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - max_size), j):
            cost = best[i] + call_cost + (j - i) * lengths[i]  # lengths[i] is the batch's longest
            if best[j] is None or cost < best[j]:
                best[j], cut[j] = cost, i
    batches, j = [], n
    while j > 0:
        batches.append((cut[j], j))
        j = cut[j]
    return batches[::-1]


def _mean_pool(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """L2-normalised mean of the unmasked token vectors, as sentence-transformers computes it."""
    mask = attention_mask[..., None].astype(np.float32)
    summed = (token_embeddings * mask).sum(axis=1)
    pooled = summed / np.clip(mask.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.ascontiguousarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)


def export_onnx(model_dir: str | Path, out_dir: Path) -> Path:
    """Export the transformer of the sentence-transformers model in ``model_dir`` to ``out_dir/model.onnx``."""
    import torch

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"not a local model directory: {model_dir}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    st = _load_sentence_transformer(model_dir)
    max_seq_length, dim = _check_supported(st)
    transformer = st[0].auto_model.eval()
    tokenizer = st[0].tokenizer
    input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                   if n in tokenizer.model_input_names]

    class _TokenEmbeddings(torch.nn.Module):
        # Tracing BertModel with positional inputs fails under transformers 5 ("got multiple values
        # for argument 'use_cache'"), so the traced module passes every input by keyword and
        # returns the one tensor the pooling needs.
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(input_names, inputs)), return_dict=True).last_hidden_state

    # The example batch must contain padding: with an all-ones mask transformers may skip building
    # the attention mask, and tracing would bake that shortcut into the graph.
    example = tokenizer(["a short one", "a somewhat longer example sentence, with padding"],
                        padding=True, return_tensors="pt")
    dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in [*input_names, "token_embeddings"]}

    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # Expected while tracing a fixed-structure encoder: the legacy exporter's deprecation
            # notice, tracer notes about Python bools taken from shapes, and the aten::index note.
            # Correctness for other shapes is checked right below instead.
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*",
                                    category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator", category=UserWarning)
            torch.onnx.export(
                # eval() on the wrapper too: the exporter restores the wrapper's training flag
                # afterwards, recursively, which would leave dropout on for the check below.
                _TokenEmbeddings(transformer).eval(),
                tuple(example[name] for name in input_names),
                str(tmp / MODEL_FILE),
                input_names=input_names,
                output_names=["token_embeddings"],
                dynamic_axes=dynamic_axes,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        tokenizer.save_pretrained(str(tmp))
        if not (tmp / "tokenizer.json").exists():
            raise RuntimeError(f"the tokenizer of {model_dir} has no fast (tokenizer.json) form")
        meta = {"format": EXPORT_FORMAT, "source": str(model_dir.resolve()), "dim": dim,
                "max_seq_length": max_seq_length, "input_names": input_names, "opset": OPSET,
                "torch": torch.__version__}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        _verify_export(tmp, transformer, tokenizer, input_names)
        # model.onnx goes last: its presence means the export next to it is complete.
        names = sorted(p.name for p in tmp.iterdir() if p.is_file() and p.name != MODEL_FILE)
        for name in [*names, MODEL_FILE]:
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / MODEL_FILE


def _verify_export(export_dir: Path, transformer, tokenizer, input_names: list[str]) -> None:
    """Fail the export when the ONNX graph disagrees with torch on a batch shaped unlike the trace."""
    import onnxruntime as ort
    import torch

    probe = ["ok", "my card was charged twice for the same coffee, please refund one payment", "x " * 40]
    enc = tokenizer(probe, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = transformer(**{n: enc[n] for n in input_names}, return_dict=True).last_hidden_state.numpy()
    session = ort.InferenceSession(str(export_dir / MODEL_FILE), providers=["CPUExecutionProvider"])
    got = session.run(None, {n: enc[n].numpy().astype(np.int64) for n in input_names})[0]
    mask = enc["attention_mask"].numpy()
    cos = (_mean_pool(expected, mask) * _mean_pool(got, mask)).sum(axis=1)
    if float(cos.min()) < 0.9999:
        raise RuntimeError(f"exported ONNX graph disagrees with torch (min cosine {cos.min():.6f})")


def _weights_file(model_dir: Path) -> Path:
    """The weights file whose size and mtime identify this version of the model."""
    for name in _WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    found = sorted(p for ext in ("*.safetensors", "*.bin", "*.onnx") for p in model_dir.rglob(ext))
    return found[0] if found else model_dir / "config.json"


def cache_key(model_dir: str | Path) -> str:
    """Cache folder name for ``model_dir``: a hash of its path, weights size and mtime, and the export format."""
    model_dir = Path(model_dir).resolve()
    weights = _weights_file(model_dir)
    stat = weights.stat()
    raw = f"{model_dir}|{weights.name}|{stat.st_size}|{stat.st_mtime_ns}|format{EXPORT_FORMAT}"
    return hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()


def quantise_int8(encoder: "OnnxEncoder", threads: int, method: str = "blocks") -> dict:
    """Quantise the fp32 model of ``encoder``'s export to int8 by ``method`` (INT8_METHODS) next to
    it, unless done already, and check it against fp32 on INT8_CHECK_TEXTS.

    Returns the check's record (``mean_cosine``, ``min_cosine``, ``passed``); the int8 file is
    installed only when it passed, so a rejected quantisation is not retried at every start.
    Concurrent callers: one per process at a time; across processes each writes its own temporary
    folder and the last os.replace wins with an identical result, as the export does.
    """
    how, export_dir = INT8_METHODS[method], encoder.export_dir
    with _EXPORT_LOCK:
        record = _read_int8_record(export_dir, method)
        if record is not None and (record["passed"] is False or (export_dir / how.model_file).exists()):
            return record
        prune_stale_temporaries(export_dir)
        tmp = Path(tempfile.mkdtemp(prefix=".quantise-", dir=export_dir))
        try:
            _QUANTISERS[method](export_dir / MODEL_FILE, tmp / how.model_file)
            record = _check_int8(encoder, tmp / how.model_file, threads, method)
            (tmp / how.check_file).write_text(json.dumps(record, indent=2), encoding="utf-8")
            # The record goes first, the int8 model last (only when it passed): its presence means
            # both are complete.
            os.replace(tmp / how.check_file, export_dir / how.check_file)
            if record["passed"]:
                os.replace(tmp / how.model_file, export_dir / how.model_file)
            else:  # one that passed under earlier rules is not served either
                (export_dir / how.model_file).unlink(missing_ok=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return record


def _quantise_blocks(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantiser = MatMulNBitsQuantizer(onnx.load(str(source)), bits=8, block_size=BLOCK_SIZE, is_symmetric=False,
                                     accuracy_level=4)
    quantiser.process()
    quantiser.model.save_model_to_file(str(target), use_external_data_format=False)


def _quantise_dynamic(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


_QUANTISERS = {"blocks": _quantise_blocks, "dynamic": _quantise_dynamic}


def _read_int8_record(export_dir: Path, method: str) -> dict | None:
    """The check's record of ``method`` in ``export_dir``, or None when absent or made under other rules."""
    how = INT8_METHODS[method]
    try:
        record = json.loads((export_dir / how.check_file).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    rules = {"format": INT8_FORMAT, "min_mean_cosine": how.min_mean_cosine, "min_cosine_allowed": how.min_cosine}
    return record if all(record.get(k) == v for k, v in rules.items()) else None


def _check_int8(encoder: "OnnxEncoder", int8_file: Path, threads: int, method: str) -> dict:
    """Cosines between the fp32 export's and ``int8_file``'s vectors of INT8_CHECK_TEXTS, each run
    by a session of its own that is dropped afterwards (a serving process keeps only the int8 one)."""
    how = INT8_METHODS[method]
    fp32, int8 = copy.copy(encoder), copy.copy(encoder)
    fp32._session = _new_session(encoder.export_dir / MODEL_FILE, threads)
    int8._session = _new_session(int8_file, threads)
    cos = (fp32.encode(INT8_CHECK_TEXTS) * int8.encode(INT8_CHECK_TEXTS)).sum(axis=1)
    mean, low = float(cos.mean()), float(cos.min())
    return {"format": INT8_FORMAT, "method": method, "texts": len(INT8_CHECK_TEXTS),
            "mean_cosine": round(mean, 6), "min_cosine": round(low, 6), "min_mean_cosine": how.min_mean_cosine,
            "min_cosine_allowed": how.min_cosine,
            "passed": mean >= how.min_mean_cosine and low >= how.min_cosine}


# The int8 copy's speed against fp32's on this machine (int8_speed), one record per machine, method
# and thread count; bump SPEED_FORMAT when the measurement changes.
SPEED_FILE = "kbt_speed.json"
SPEED_LOCK = "kbt_speed.lock"
SPEED_FORMAT = 1
SPEED_ROUNDS = 3


def machine_id() -> str:
    """What an ONNX model's speed depends on besides its threads: the processor's kind and model,
    its instruction sets (int8 arithmetic is fast only with some) and ONNX Runtime's version."""
    import onnxruntime

    cpu = platform.processor()
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for field in ("model name", "flags", "Features"):
        value = next((line.split(":", 1)[1] for line in lines if line.split(":", 1)[0].strip() == field), "")
        cpu += "|" + " ".join(sorted(set(value.split())))
    key = f"{platform.machine()}|{cpu}|{onnxruntime.__version__}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def int8_speed(encoder: "OnnxEncoder", method: str, threads: int) -> dict:
    """How long fp32's export and the int8 copy made by ``method`` take per text on this machine:
    INT8_CHECK_TEXTS one per call (as a ticket is served), in SPEED_ROUNDS rounds that alternate
    the order, each model's median round. ``int8_serves``: the int8 copy was faster. It is not on
    every processor: int8 in blocks took 0.54-0.71x fp32's time on some machines and 1.2-1.6x on an
    AMD EPYC with AVX2 alone, no VNNI (docs/benchmarks.md, "Encoder backends").

    Measured once per machine (:func:`machine_id`), method and thread count, and kept in SPEED_FILE
    beside the export: processes starting together wait for the first one's measurement (a file
    lock) and read it, so all of them serve the same model."""
    key = f"{machine_id()}:{method}:{threads}"
    path = encoder.export_dir / SPEED_FILE
    with file_lock(encoder.export_dir / SPEED_LOCK):
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            records = {}
        record = records.get(key)
        if not isinstance(record, dict) or record.get("format") != SPEED_FORMAT:
            record = records[key] = _time_int8(encoder, method, threads)
            write_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(records, indent=2), encoding="utf-8"))
    return record


def _time_int8(encoder: "OnnxEncoder", method: str, threads: int) -> dict:
    fp32, int8 = copy.copy(encoder), copy.copy(encoder)
    fp32._session = _new_session(encoder.export_dir / MODEL_FILE, threads)
    int8._session = _new_session(encoder.export_dir / INT8_METHODS[method].model_file, threads)
    rounds: dict[str, list[float]] = {"fp32": [], "int8": []}
    for turn in range(SPEED_ROUNDS + 1):
        for name, model in (("fp32", fp32), ("int8", int8))[::1 if turn % 2 else -1]:
            start = time.perf_counter()
            for text in INT8_CHECK_TEXTS:
                model.encode([text])
            if turn:  # the first round warms both up
                rounds[name].append((time.perf_counter() - start) * 1000 / len(INT8_CHECK_TEXTS))
    fp32_ms, int8_ms = (float(np.median(rounds[name])) for name in ("fp32", "int8"))
    return {"format": SPEED_FORMAT, "method": method, "threads": threads, "texts": len(INT8_CHECK_TEXTS),
            "rounds": SPEED_ROUNDS, "fp32_ms": round(fp32_ms, 3), "int8_ms": round(int8_ms, 3),
            "int8_serves": int8_ms < fp32_ms, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


class Int8Rejected(RuntimeError):
    """The int8 model's vectors are too far from fp32's on the built-in sample."""


_SESSIONS: dict[tuple[str, int], object] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(model_file: Path, threads: int):
    """One ONNX Runtime session per model file and thread count in this process (sessions are
    safe to run from several threads; encoders that differ only in how they cut texts share one)."""
    key = (str(Path(model_file).resolve()), threads)
    with _SESSIONS_LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = _new_session(model_file, threads)
        return _SESSIONS[key]


def _new_session(model_file: Path, threads: int):
    """An ONNX Runtime session for ``model_file`` on the CPU, tuned for small batches."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle pool threads would otherwise spin for a while after each call, stealing the CPU
    # from request handling, training and everything else on a small machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """Same model as :class:`models.encoder.SentenceTransformerEncoder`, run by ONNX Runtime on the CPU.

    ``name`` is the one the reference backend gives (the spec, marked with a token limit shorter
    than the model's): the vectors are interchangeable (checked to cosine >= 0.9999), so embedding
    caches and trained models carry over between backends. With ``int8`` it runs the int8 copy of
    the export (:func:`quantise_int8`) under the same name: its vectors pass for fp32's (cosine
    checked on a fixed sample; eval-cli's figures the same with an index and model built by fp32,
    docs/benchmarks.md), so an article index, cached vectors and model versions made with fp32 are
    reused, not re-encoded.
    """

    def __init__(self, spec: str, cache_dir: Path, threads: int | None = None, *,
                 model_file: str | Path | None = None, max_tokens: int | None = None, int8: str | None = None,
                 int8_if_faster: bool = False):
        """Export ``spec`` into ``cache_dir`` unless already there, and load it.

        ``model_file`` runs another ONNX file over the same inputs (e.g. an int8-quantised copy of
        the export) with the export's tokenizer; its vectors differ, so it gets its own ``name``.
        ``max_tokens`` cuts texts shorter than the model's limit (another ``name`` too). Encoders
        of the same file and threads share one ONNX Runtime session. ``int8``: a method of INT8_METHODS;
        quantise the export by it unless done already, and raise :class:`Int8Rejected` when it
        failed its check against fp32. ``int8_if_faster``: serve the int8 copy only where it is faster
        than fp32 on this machine (:func:`int8_speed`; ``int8_speed`` holds the figures), else fp32.
        """
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from tokenizers import Tokenizer

        resolved = Path(resolve_model_path(spec))
        if not resolved.is_dir():
            raise FileNotFoundError(
                f"OnnxEncoder needs a local model directory; {spec!r} resolved to {resolved}, which is not one")
        base_name = spec if model_file is None else f"{spec}#onnx:{Path(model_file).name}"
        self.export_dir = Path(cache_dir) / cache_key(resolved)
        # One export per process at a time; across processes each export writes its own temp dir
        # and the last os.replace wins with an identical, complete result.
        with _EXPORT_LOCK:
            prune_stale_temporaries(self.export_dir)  # exports killed midway
            if not (self.export_dir / MODEL_FILE).exists():
                export_onnx(resolved, self.export_dir)
        meta = json.loads((self.export_dir / META_FILE).read_text(encoding="utf-8"))
        self.dim = int(meta["dim"])
        self.max_seq_length, self.name = token_limit(base_name, int(meta["max_seq_length"]), max_tokens)
        self._input_names = list(meta["input_names"])

        self._tokenizer = Tokenizer.from_file(str(self.export_dir / "tokenizer.json"))
        # The saved tokenizer.json carries its own (shorter) truncation and fixed padding; the
        # reference truncates at max_seq_length and pads per batch, which encode() does itself.
        self._tokenizer.enable_truncation(max_length=self.max_seq_length)
        self._tokenizer.no_padding()
        self._pad_id = self._pad_token_id()

        threads = int(threads or available_cores())
        if int8:
            how = INT8_METHODS[int8]
            record = quantise_int8(self, threads, int8)
            if not record["passed"]:
                raise Int8Rejected(
                    f"the int8 model's vectors are too far from fp32's on the built-in sample (mean cosine "
                    f"{record['mean_cosine']:.4f}, min {record['min_cosine']:.4f}; needed {how.min_mean_cosine} "
                    f"and {how.min_cosine}; {self.export_dir / how.check_file})")
            model_file = self.export_dir / how.model_file
        self.int8_speed = int8_speed(self, int8, threads) if int8 and int8_if_faster else None
        if self.int8_speed is not None and not self.int8_speed["int8_serves"]:
            int8, model_file = None, None
        self.int8_check = _read_int8_record(self.export_dir, int8) if int8 else None
        self.model_file = Path(model_file) if model_file is not None else self.export_dir / MODEL_FILE
        self._session = _session(self.model_file, threads)

    def _pad_token_id(self) -> int:
        config_path = self.export_dir / "tokenizer_config.json"
        pad_token = None
        if config_path.exists():
            pad_token = json.loads(config_path.read_text(encoding="utf-8")).get("pad_token")
            if isinstance(pad_token, dict):
                pad_token = pad_token.get("content")
        pad_id = self._tokenizer.token_to_id(pad_token) if pad_token else None
        return int(pad_id if pad_id is not None else 0)

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings of ``texts``, one row per text, in input order."""
        return self._encode(texts, batch_size, progress, None)

    def encode_token_states(self, texts: Sequence[str], *,
                            batch_size: int = BATCH_SIZE) -> tuple[np.ndarray, list[TokenStates]]:
        """What :meth:`encode` returns, and each text's :class:`TokenStates` from the same run (the
        word pieces up to the token limit: a cut text's later characters have none)."""
        states: list = [None] * len(texts)
        return self._encode(texts, batch_size, False, states), states

    def _encode(self, texts: Sequence[str], batch_size: int, progress: bool, states: list | None) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        # Longest first, so each batch is padded only to lengths close to its own and the largest
        # allocation happens once, up front.
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        out = np.empty((len(encodings), self.dim), dtype=np.float32)
        batches = length_batches([len(encodings[i].ids) for i in order], max(1, int(batch_size)))
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="encode", unit="batch")
        for start, stop in batches:
            idx = order[start:stop]
            feeds, mask = self._feeds([encodings[i] for i in idx])
            token_embeddings = self._session.run(None, feeds)[0]
            out[idx] = _mean_pool(token_embeddings, mask)
            if states is not None:
                for row, i in enumerate(idx):
                    n = len(encodings[i].ids)
                    states[i] = TokenStates(token_embeddings[row, :n].copy(),
                                            np.asarray(encodings[i].offsets, dtype=np.int64).reshape(n, 2),
                                            cut=bool(encodings[i].overflowing))
        return out

    def _feeds(self, batch) -> tuple[dict[str, np.ndarray], np.ndarray]:
        width = max(len(e.ids) for e in batch)
        ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, enc in enumerate(batch):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            types[row, :n] = enc.type_ids
            mask[row, :n] = 1
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return {name: arrays[name] for name in self._input_names}, mask


def check_against_reference(onnx_encoder, reference_encoder, texts: Sequence[str]) -> float:
    """Minimum cosine similarity between the two encoders' embeddings of ``texts``."""
    if len(texts) == 0:
        raise ValueError("need at least one text to compare")
    a = np.asarray(onnx_encoder.encode(texts), dtype=np.float64)
    b = np.asarray(reference_encoder.encode(texts), dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")
    cos = (a * b).sum(axis=1) / np.clip(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12, None)
    return float(cos.min())
