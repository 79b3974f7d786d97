"""The vector index over article passages: a small interface around faiss whose ids are chunk ids."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from common.files import write_atomically
from common.threads import faiss_threads_for


def _faiss():
    import faiss  # heavy import, loaded on first use

    return faiss


# Above this many passages the index becomes approximate (IVF): exact search grows linearly
# (15.5 ms at 100k passages on 2 cores) while IVF stays near 1 ms (docs/benchmarks.md).
IVF_ABOVE = 30_000
IVF_NPROBE = 32


def nlist_for(n: int) -> int:
    """The IVF lists for ``n`` vectors: ``4 * sqrt(n)``, with at least 39 vectors a list (faiss
    warns below that when training)."""
    return max(1, min(int(4 * np.sqrt(n)), n // 39))


def quantizer_fits(centroids: np.ndarray | None, n: int, dim: int) -> bool:
    """Whether lists trained elsewhere (``centroids``) suit an index of ``n`` vectors of ``dim``:
    between half and twice the lists it would train (beyond, the lists are too long to search
    fast or too short to be worth their centroids; train anew)."""
    if centroids is None or centroids.ndim != 2 or centroids.shape[1] != dim:
        return False
    wanted = nlist_for(n)
    return wanted / 2 <= len(centroids) <= 2 * wanted


class VectorIndex:
    """Inner-product search over L2-normalised vectors, keyed by database ids.

    Exact (flat) while small; once it holds more than ``ivf_above`` vectors it converts itself to
    an IVF index (``4 * sqrt(n)`` lists trained on the vectors it holds, ``IVF_NPROBE`` probed per
    query) that keeps the same ids and supports the same add / remove / reconstruct.

    Training the lists is most of the conversion's cost (35 s at 100k vectors). Given trained
    lists (:attr:`quantizer`, centroids from :meth:`centroids` of an index over the same kind of
    vectors, e.g. another replica's kept in the database), the conversion assigns the vectors to
    them instead, when their number suits the vectors held (:func:`quantizer_fits`).
    """

    def __init__(self, dim: int, ivf_above: int | None = IVF_ABOVE):
        faiss = _faiss()
        self.dim = dim
        self.ivf_above = ivf_above
        self.quantizer: np.ndarray | None = None
        self._ids: frozenset[int] | None = None
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def kind(self) -> str:
        return "ivf" if self._ivf() is not None else "exact"

    def _ivf(self):
        faiss = _faiss()
        try:
            return faiss.extract_index_ivf(self._index)
        except RuntimeError:
            return None

    def count(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> frozenset[int]:
        """The ids held (kept until this index next changes: a published index does not)."""
        if self._ids is not None:
            return self._ids
        if self.count() == 0:
            return frozenset()
        faiss = _faiss()
        ivf = self._ivf()
        if ivf is None:
            out = frozenset(faiss.vector_to_array(self._index.id_map).tolist())
        else:
            lists, found = ivf.invlists, []
            for i in range(ivf.nlist):
                n = lists.list_size(i)
                if n:
                    found.append(faiss.rev_swig_ptr(lists.get_ids(i), n))
            out = frozenset(np.concatenate(found).tolist())
        self._ids = out
        return out

    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        ids = np.asarray(list(ids), dtype=np.int64)
        if len(ids) == 0:
            return
        self.remove(ids)  # re-adding an id replaces it
        self._ids = None
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.ivf_above is not None and self.kind == "exact" and self.count() + len(ids) > self.ivf_above:
            self._to_ivf(ids, vectors)
        else:
            self._index.add_with_ids(vectors, ids)

    def centroids(self) -> np.ndarray | None:
        """The IVF lists' centroids (nlist x dim), or None while the index is exact."""
        ivf = self._ivf()
        if ivf is None:
            return None
        return ivf.quantizer.reconstruct_n(0, ivf.nlist)

    def _to_ivf(self, new_ids: np.ndarray, new_vectors: np.ndarray) -> None:
        """Rebuild as IVF over the vectors held now and ``new_vectors`` (ids and vectors
        unchanged), on :attr:`quantizer`'s lists when they fit, else on lists trained here."""
        faiss = _faiss()
        ids, vectors = new_ids, new_vectors
        if self.count():
            ids = np.concatenate([faiss.vector_to_array(self._index.id_map).astype(np.int64), new_ids])
            vectors = np.concatenate([self._index.index.reconstruct_n(0, self.count()), new_vectors])
        quantizer = faiss.IndexFlatIP(self.dim)
        if quantizer_fits(self.quantizer, len(ids), self.dim):
            nlist = len(self.quantizer)
            quantizer.add(np.ascontiguousarray(self.quantizer, dtype=np.float32))
            ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.is_trained = True
        else:
            nlist = nlist_for(len(ids))
            ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.train(vectors)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
        ivf.add_with_ids(vectors, ids)
        ivf.nprobe = min(IVF_NPROBE, nlist)
        ivf.own_fields = True
        quantizer.this.disown()
        self._index = ivf

    def remove(self, ids: Iterable[int]) -> int:
        ids = np.asarray(list(ids), dtype=np.int64)
        if len(ids) == 0 or self.count() == 0:
            return 0
        self._ids = None
        return int(self._index.remove_ids(ids))

    def search(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query vector, up to ``k`` (id, cosine score) pairs, best first."""
        vectors = np.atleast_2d(np.ascontiguousarray(vectors, dtype=np.float32))
        if self.count() == 0:
            return [[] for _ in range(len(vectors))]
        with faiss_threads_for(len(vectors)):
            scores, ids = self._index.search(vectors, min(k, self.count()))
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i != -1]
                for row_ids, row_scores in zip(ids, scores)]

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """The stored vectors of ``ids`` (each must be in the index), one row per id."""
        ids = np.asarray([int(i) for i in ids], dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(ids)

    def copy(self) -> "VectorIndex":
        """An independent copy (same ids, vectors and kind). Writers change a copy and publish it,
        so a search under way keeps the index it started with (faiss must not be changed while
        another thread searches it)."""
        faiss = _faiss()
        # clone_index copies the lists in memory (0.07 s at 100k vectors; serialising and reading
        # back took 0.45 s), direct map included.
        return self._wrap(faiss.clone_index(self._index), self.ivf_above)

    def save(self, path: Path) -> None:
        """Write atomically: readers see the old file or the new one, never half of one."""
        write_atomically(path, lambda tmp: _faiss().write_index(self._index, tmp))

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        return cls._wrap(_faiss().read_index(str(path)))

    @classmethod
    def _wrap(cls, inner, ivf_above: int | None = IVF_ABOVE) -> "VectorIndex":
        obj = cls.__new__(cls)
        obj.dim = inner.d
        obj.ivf_above = ivf_above
        obj.quantizer = None
        obj._ids = None
        obj._index = inner
        ivf = obj._ivf()
        if ivf is not None:
            ivf.nprobe = min(IVF_NPROBE, ivf.nlist)
        return obj
