"""The vector index over article passages: a small interface around faiss whose ids are chunk ids."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np


def _faiss():
    import faiss  # heavy import, loaded on first use

    return faiss


class VectorIndex:
    """Exact inner-product search over L2-normalised vectors, keyed by database ids."""

    def __init__(self, dim: int):
        faiss = _faiss()
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def count(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> set[int]:
        if self.count() == 0:
            return set()
        return set(_faiss().vector_to_array(self._index.id_map).tolist())

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        ids = np.asarray(list(ids), dtype=np.int64)
        if len(ids) == 0:
            return
        self.remove(ids)  # re-adding an id replaces it
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)

    def remove(self, ids: Iterable[int]) -> int:
        ids = np.asarray(list(ids), dtype=np.int64)
        if len(ids) == 0 or self.count() == 0:
            return 0
        return int(self._index.remove_ids(ids))

    def search(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query vector, up to ``k`` (id, cosine score) pairs, best first."""
        vectors = np.atleast_2d(np.ascontiguousarray(vectors, dtype=np.float32))
        if self.count() == 0:
            return [[] for _ in range(len(vectors))]
        scores, ids = self._index.search(vectors, min(k, self.count()))
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i != -1]
                for row_ids, row_scores in zip(ids, scores)]

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """The stored vectors of ``ids`` (each must be in the index), one row per id."""
        ids = [int(i) for i in ids]
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for row, i in enumerate(ids):
            out[row] = self._index.reconstruct(i)
        return out

    def save(self, path: Path) -> None:
        """Write atomically: readers see the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".index-")
        os.close(fd)
        try:
            _faiss().write_index(self._index, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        faiss = _faiss()
        inner = faiss.read_index(str(path))
        obj = cls.__new__(cls)
        obj.dim = inner.d
        obj._index = inner
        return obj
