"""Nearest neighbours among past tickets' embeddings (the keys): the similarity-weighted vote of
the most similar keys that the classifier mixes into its probabilities, the mean similarity to
them that kb and triage read as how familiar a ticket looks, and the HNSW graph (KeyGraph) that
finds them without reading every key when there are many.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

from common.threads import FEW_QUERIES, faiss_threads_for

# A neighbour at this cosine weighs as much as "no neighbour": closer ones outvote it, farther
# ones leave the vote to the model. Absolute, not relative to the nearest: a ticket unlike every
# past one (a content gap) gets no confident vote. On CLINC150 the relative vote lowered the
# separation of out-of-scope queries (AUC of the best probability 0.986 -> 0.974); this one kept it (0.985).
VOTE_REFERENCE = 0.7
# Above this many past tickets the vote searches an HNSW graph over them (KeyGraph) instead of
# reading every key: one ticket's vote over it_tickets' 30,615 keys took 3.2-3.6 ms exact and 0.32
# ms on the graph (recall@20 0.994, held-back accuracy unchanged; banking77's 8,002 keys 0.6-1.2
# vs 0.15 ms, recall@20 0.9994; docs/benchmarks.md). Below it, reading every key is cheap and exact.
VOTE_GRAPH_ABOVE = 5_000
GRAPH_M, GRAPH_EF_CONSTRUCTION, GRAPH_EF_SEARCH = 32, 80, 128


class KeyGraph:
    """An HNSW graph (faiss ``IndexHNSWFlat``, inner product) over the vote's keys: the most similar
    keys of a query without reading every key. It holds the keys itself; pickling carries it as
    faiss's serialised bytes, so a model bundle keeps it."""

    def __init__(self, keys: np.ndarray):
        import faiss

        keys = np.ascontiguousarray(keys, dtype=np.float32)
        self.index_ = faiss.IndexHNSWFlat(keys.shape[1], GRAPH_M, faiss.METRIC_INNER_PRODUCT)
        self.index_.hnsw.efConstruction = GRAPH_EF_CONSTRUCTION
        self.index_.add(keys)
        self.index_.hnsw.efSearch = GRAPH_EF_SEARCH

    def __len__(self) -> int:
        return int(self.index_.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, key rows) of each query's ``k`` nearest keys; row -1 where the graph found fewer."""
        with faiss_threads_for(len(queries)):
            return self.index_.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def __getstate__(self) -> dict:
        import faiss

        return {"index": faiss.serialize_index(self.index_)}

    def __setstate__(self, state: dict) -> None:
        import faiss

        self.index_ = faiss.deserialize_index(state["index"])
        self.index_.hnsw.efSearch = GRAPH_EF_SEARCH


def vote_keys(embeddings: np.ndarray) -> "np.ndarray | KeyGraph":
    """What a model keeps to vote with: the keys themselves, or a KeyGraph over many of them."""
    keys = np.ascontiguousarray(embeddings, dtype=np.float32)
    return KeyGraph(keys) if len(keys) > VOTE_GRAPH_ABOVE else keys


def nearest_votes(queries: np.ndarray, keys: "np.ndarray | KeyGraph", key_labels: np.ndarray, n_classes: int, *,
                  k: int = 20, temperature: float = 0.05, reference: float = VOTE_REFERENCE,
                  chunk: int = 2048) -> np.ndarray:
    """Each query's votes per class from its ``k`` most similar keys (cosine of normalised
    embeddings; ``keys`` is an array, read in full, or a :class:`KeyGraph`): a neighbour at
    similarity s weighs exp((s - reference) / temperature), and the votes are shares of
    (total weight + k), so rows sum to less than 1 when neighbours are far."""
    out = np.zeros((len(queries), n_classes))
    k = min(k, len(keys))
    if k == 0:
        return out
    for start in range(0, len(queries), chunk):
        near, top = nearest_keys(queries[start:start + chunk], keys, k)
        weights = np.where(top >= 0, np.exp((near - reference) / temperature), 0.0)
        weights /= weights.sum(axis=1, keepdims=True) + k
        rows = np.repeat(np.arange(len(top)), k)
        np.add.at(out[start:start + chunk], (rows, key_labels[np.maximum(top, 0)].ravel()), weights.ravel())
    return out


class _LastSearch(threading.local):
    """The last few-query search of this thread: its keys (a weak reference, so that a retired
    version's keys are not kept alive by it), queries, k and result."""

    keys = staticmethod(lambda: None)
    queries = result = None
    k = 0


_last = _LastSearch()


def nearest_keys(queries: np.ndarray, keys: "np.ndarray | KeyGraph", k: int) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, key rows) of each query's ``k`` most similar keys (``k`` at most the number
    of keys; row -1 where a graph found fewer), best first.

    One decision searches the same keys for the same ticket several times (the category and tier
    models' votes and the auto-routing guard hold one set of keys, see
    :meth:`models.version.ModelVersionArtifact.share_keys`): a search of a few queries repeats
    this thread's last one's answer, cut to ``k``, when the keys are the same object and the queries
    equal, instead of reading every key again."""
    part = np.ascontiguousarray(queries, dtype=np.float32)
    few = len(part) < FEW_QUERIES
    if few and _last.keys() is keys and _last.k >= k and np.array_equal(_last.queries, part):
        near, top = _last.result
        return near[:, :k], top[:, :k]
    result = _search(part, keys, k)
    if few:  # a weak reference: once the keys are gone it answers None, never another object
        _last.keys, _last.queries, _last.k, _last.result = weakref.ref(keys), part.copy(), k, result
    return result


def _search(part: np.ndarray, keys: "np.ndarray | KeyGraph", k: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(keys, KeyGraph):
        return keys.search(part, k)
    if len(part) < FEW_QUERIES:
        # A BLAS product would leave an OpenBLAS worker busy-waiting on the other core for
        # ~0.1 s, slowing the encoder of the next ticket; faiss scores a few queries on the
        # calling thread (docs/benchmarks.md, single-ticket latency).
        import faiss

        with faiss_threads_for(len(part)):
            return faiss.knn(part, np.ascontiguousarray(keys, dtype=np.float32), k, metric=faiss.METRIC_INNER_PRODUCT)
    sims = part @ keys.T
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return np.take_along_axis(sims, top, axis=1), top


def mean_nearest_similarity(queries: np.ndarray, keys: "np.ndarray | KeyGraph", k: int) -> np.ndarray:
    """Mean similarity of each query to its ``k`` most similar keys (how familiar it looks)."""
    out = np.zeros(len(queries))
    k = min(k, len(keys))
    if k == 0:
        return out
    for start in range(0, len(queries), 1024):  # bounds the similarity block a batch reads at once
        near, top = nearest_keys(queries[start:start + 1024], keys, k)
        out[start:start + 1024] = np.where(top >= 0, near, 0.0).mean(axis=1)
    return out
