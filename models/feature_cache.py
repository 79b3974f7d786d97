"""The text features of the last training run, kept for the next one.

A retrain after a little new feedback reuses the fitted word and character TF-IDF (vocabulary and
idf) and the rows it computed for every ticket, keyed by the ticket text's content hash, so only
new or edited tickets are tokenised again. The vocabulary is fitted afresh once the data grows
beyond ``growth`` of what it was fitted on (the rule the model selection follows), when it shrinks,
or when the encoder changes. One cache per models directory, replaced whole by each training run.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from models.features import TextFeatures

CACHE_DIR = "text_features"
FORMAT = 2  # 2: TextFeatures pickled from models.features (was models.classifier)


def content_keys(texts: Sequence[str]) -> np.ndarray:
    """One 20-byte SHA-1 of each text, as an (n, 20) uint8 array."""
    return np.frombuffer(b"".join(hashlib.sha1(t.encode("utf-8")).digest() for t in texts),
                         dtype=np.uint8).reshape(len(texts), 20)


class FeatureCache:
    """Fitted :class:`TextFeatures` and their TF-IDF rows, stored in ``models_dir/text_features``."""

    def __init__(self, models_dir: Path):
        self.directory = Path(models_dir) / CACHE_DIR

    def features(self, texts: Sequence[str], embeddings: np.ndarray, *, encoder: str,
                 growth: float) -> tuple[TextFeatures, sp.csr_matrix, dict]:
        """Features fitted for ``texts`` (or reused), their full rows, and a report of what was reused."""
        keys = content_keys(texts)
        cached = self._load(encoder=encoder, n_texts=len(texts), growth=growth, dim=embeddings.shape[1])
        if cached is None:
            features = TextFeatures()
            lexical = features.fit_lexical(texts, embeddings=embeddings)
            report = {"reused": False, "fitted_on": len(texts)}
        else:
            features, lexical, report = self._reuse(cached, texts, keys)
        self._save(features, keys, lexical, encoder=encoder, fitted_on=report["fitted_on"])
        return features, features.join(lexical, embeddings), report

    @staticmethod
    def _reuse(cached: dict, texts: Sequence[str], keys: np.ndarray) -> tuple[TextFeatures, sp.csr_matrix, dict]:
        features, rows = cached["features"], cached["rows"]
        row_of = {k.tobytes(): i for i, k in enumerate(cached["keys"])}
        found = np.array([row_of.get(k.tobytes(), -1) for k in keys], dtype=np.int64)
        new, known = np.flatnonzero(found < 0), np.flatnonzero(found >= 0)
        parts = [rows[found[known]]]
        if len(new):
            parts.append(features.lexical([texts[i] for i in new]))
        order = np.concatenate([known, new])  # row j of the stacked parts belongs to text order[j]
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        lexical = sp.vstack(parts, format="csr", dtype=np.float64)[position]
        return features, lexical, {"reused": True, "fitted_on": cached["fitted_on"],
                                   "rows_from_cache": int(len(texts) - len(new)), "rows_computed": int(len(new))}

    def _load(self, *, encoder: str, n_texts: int, growth: float, dim: int) -> dict | None:
        try:
            meta = json.loads((self.directory / "meta.json").read_text(encoding="utf-8"))
            if (meta.get("format") != FORMAT or meta.get("encoder") != encoder
                    or not meta["fitted_on"] <= n_texts <= meta["fitted_on"] * (1 + growth)):
                return None
            with open(self.directory / "features.pkl", "rb") as fh:
                features = pickle.load(fh)
            if features.n_embedding_ not in (0, dim):
                return None
            return {"features": features, "fitted_on": meta["fitted_on"],
                    "rows": sp.load_npz(self.directory / "rows.npz").tocsr(),
                    "keys": np.load(self.directory / "keys.npy")}
        except (OSError, ValueError, KeyError, AttributeError, ImportError, pickle.UnpicklingError, EOFError):
            return None  # no cache, or an unreadable one: fit afresh

    def clear(self) -> None:
        """Drop the cache (after tickets are erased: their rows must go); the next training fits afresh."""
        if self.directory.exists():
            gone = self.directory.with_name(f".{CACHE_DIR}-old-{os.getpid()}")
            os.replace(self.directory, gone)
            shutil.rmtree(gone, ignore_errors=True)

    def _save(self, features: TextFeatures, keys: np.ndarray, lexical: sp.csr_matrix, *, encoder: str,
              fitted_on: int) -> None:
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.directory.parent, prefix=f".{CACHE_DIR}-"))
        try:
            with open(tmp / "features.pkl", "wb") as fh:
                pickle.dump(features, fh, protocol=pickle.HIGHEST_PROTOCOL)
            rows = sp.csr_matrix(lexical, dtype=np.float32)
            rows.indices = rows.indices.astype(np.int32)
            rows.indptr = rows.indptr.astype(np.int64)
            sp.save_npz(tmp / "rows.npz", rows, compressed=False)
            np.save(tmp / "keys.npy", keys)
            (tmp / "meta.json").write_text(json.dumps({"format": FORMAT, "encoder": encoder,
                                                       "fitted_on": fitted_on, "rows": len(keys)}), encoding="utf-8")
            old = None
            if self.directory.exists():
                old = self.directory.with_name(f".{CACHE_DIR}-old-{os.getpid()}")
                os.replace(self.directory, old)
            os.replace(tmp, self.directory)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
