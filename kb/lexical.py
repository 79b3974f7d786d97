"""Lexical passage retrieval (BM25) to sit beside the dense faiss index.

Dense vectors find paraphrases; BM25 finds the rare exact words a paraphrase loses: product
names, error codes, the title of a form.

The scores are bm25s' (its tokenizer, English stop words, the "lucene" variant, k1 1.5, b 0.75,
float32 as bm25s keeps them), but the index is kept here as postings (term -> passage -> term
count) with each passage's length, so that passages can be added and removed at a cost in
proportion to the passages changed (issue #29: rebuilding bm25s' static index over 100k passages
took 5.4 s per change). What depends on the whole corpus (document frequencies, the average
length) is derived at query time from the postings' sizes and a running total, so an index
changed by :meth:`LexicalIndex.add` / :meth:`LexicalIndex.remove` scores exactly as one built
from scratch over the same passages (tests/test_lexical_incremental.py).

Snapshots: a search holds an index while writers move on. Writers never change a published
index; they take :meth:`LexicalIndex.copy` (shallow: the outer tables are copied, each term's
postings are shared until the copy first changes that term, and then copied for it alone) and
publish the copy. Per-term arrays are built lazily at query time and cached per instance.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

K1, B = 1.5, 0.75  # bm25s' defaults


def _tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, lower=True, stopwords="en", show_progress=False, return_ids=False)


def _idf(df: int, n: int) -> np.float32:
    """bm25s' lucene idf, kept as float32 as bm25s stores it."""
    return np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))


class LexicalIndex:
    """BM25 over passages keyed by chunk id; :meth:`add` and :meth:`remove` change it in place
    (on a :meth:`copy` when the index may be searched meanwhile)."""

    def __init__(self, passages: dict[int, str] | None = None):
        self._slot: dict[int, int] = {}  # chunk id -> slot (a row of the arrays below)
        self._ids = np.zeros(0, dtype=np.int64)  # slot -> chunk id
        self._lengths = np.zeros(0, dtype=np.int64)  # slot -> tokens after stop words
        self._terms: list[tuple[str, ...]] = []  # slot -> its distinct terms (to remove it)
        self._texts: dict[int, str] = {}
        self._free: list[int] = []
        self._total = 0  # sum of the lengths
        self._postings: dict[str, dict[int, int]] = {}  # term -> slot -> count
        self._owned: set[str] = set()  # terms whose postings this instance alone holds
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> (slots, float32 counts)
        self._scores: dict[str, np.ndarray] = {}  # term -> its score per slot of _arrays (for this N, length)
        if passages:
            self.add(passages)

    @property
    def ids(self) -> np.ndarray:
        """The chunk ids held, ascending."""
        return np.array(sorted(self._slot), dtype=np.int64)

    def count(self) -> int:
        return len(self._slot)

    def texts(self) -> dict[int, str]:
        """Chunk id -> the text indexed (a copy)."""
        return dict(self._texts)

    def texts_view(self):
        """The chunk ids held with their texts, read-only (a view, not a copy)."""
        return self._texts.keys()

    def text(self, chunk_id: int) -> str | None:
        return self._texts.get(chunk_id)

    def copy(self) -> "LexicalIndex":
        """A copy to change while this one is searched: the per-passage tables are copied, each
        term's postings shared until the copy changes them."""
        out = LexicalIndex.__new__(LexicalIndex)
        out._slot, out._texts = dict(self._slot), dict(self._texts)
        out._ids, out._lengths = self._ids.copy(), self._lengths.copy()
        out._terms, out._free, out._total = list(self._terms), list(self._free), self._total
        out._postings, out._owned, out._arrays = dict(self._postings), set(), dict(self._arrays)
        out._scores = {}
        self._owned = set()  # the postings are shared now: a change to either copies them first
        return out

    def _own(self, term: str) -> dict[int, int]:
        """The postings of ``term`` for this instance to change (copied once if shared)."""
        self._arrays.pop(term, None)
        if self._scores:
            self._scores = {}  # the passage count and average length change with any passage
        postings = self._postings.get(term)
        if postings is None:
            postings = self._postings[term] = {}
            self._owned.add(term)
        elif term not in self._owned:
            postings = self._postings[term] = dict(postings)
            self._owned.add(term)
        return postings

    def remove(self, chunk_ids) -> int:
        """Drop the passages ``chunk_ids`` (those not held are ignored); how many were held."""
        n = 0
        for cid in chunk_ids:
            slot = self._slot.pop(int(cid), None)
            if slot is None:
                continue
            self._scores = {}  # the passage count changes even for a passage of stop words only
            for term in self._terms[slot]:
                postings = self._own(term)
                del postings[slot]
                if not postings:
                    del self._postings[term]
                    self._owned.discard(term)
            self._total -= int(self._lengths[slot])
            self._lengths[slot], self._ids[slot], self._terms[slot] = 0, -1, ()
            del self._texts[int(cid)]
            self._free.append(slot)
            n += 1
        return n

    def add(self, passages: dict[int, str]) -> None:
        """Index ``passages`` (chunk id -> text); a chunk id held already is replaced."""
        if not passages:
            return
        self.remove([cid for cid in passages if cid in self._slot])
        ids = list(passages)
        tokens = _tokenize([passages[cid] for cid in ids])
        grow = len(ids) - len(self._free)
        if grow > 0:
            self._ids = np.concatenate([self._ids, np.full(grow, -1, dtype=np.int64)])
            self._lengths = np.concatenate([self._lengths, np.zeros(grow, dtype=np.int64)])
            self._free.extend(range(len(self._terms), len(self._terms) + grow))
            self._terms.extend([()] * grow)
        if self._scores:
            self._scores = {}
        postings, owned, arrays = self._postings, self._owned, self._arrays
        for cid, words in zip(ids, tokens):
            slot = self._free.pop()
            counts = Counter(words)
            for term, tf in counts.items():  # self._own(term)[slot] = tf, inlined: a build does it per word
                held = postings.get(term)
                if held is None:
                    held = postings[term] = {}
                    owned.add(term)
                elif term not in owned:
                    held = postings[term] = dict(held)
                    owned.add(term)
                if arrays:
                    arrays.pop(term, None)
                held[slot] = tf
            self._slot[int(cid)] = slot
            self._ids[slot], self._lengths[slot] = int(cid), len(words)
            self._terms[slot] = tuple(counts)
            self._texts[int(cid)] = passages[cid]
            self._total += len(words)

    def _term_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        arrays = self._arrays.get(term)
        if arrays is None:
            postings = self._postings[term]
            slots = np.fromiter(postings.keys(), dtype=np.int64, count=len(postings))
            counts = np.fromiter(postings.values(), dtype=np.float32, count=len(postings))
            order = np.argsort(slots)  # in memory order: adding to the scores is faster
            arrays = self._arrays[term] = (slots[order], counts[order])
        return arrays

    def _term_scores(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The slots holding ``term`` and its BM25 score in each (cached until a passage changes:
        the idf and the average length move with every one)."""
        slots, tf = self._term_arrays(term)
        scores = self._scores.get(term)
        if scores is None:
            n = len(self._slot)
            avg = np.float64(self._total) / n
            # As bm25s computes it: float64, then kept as float32.
            tfc = tf / (K1 * ((1 - B) + B * self._lengths[slots] / avg) + tf)
            scores = self._scores[term] = (_idf(len(slots), n) * tfc).astype(np.float32)
        return slots, scores

    def scores(self, words: list[str]) -> np.ndarray:
        """BM25 of every slot for the query's ``words`` (tokenized), float32 as bm25s computes it:
        each occurrence of a known word adds its term's score, in the query's order."""
        out = np.zeros(len(self._ids), dtype=np.float32)
        if not self._slot:
            return out
        for word in words:
            if word in self._postings:
                slots, scores = self._term_scores(word)
                np.add.at(out, slots, scores)
        return out

    def search(self, queries: list[str], k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` (chunk id, BM25 score) pairs with a positive score, best
        first (ties by chunk id)."""
        if not self._slot or not queries:
            return [[] for _ in queries]
        out: list[list[tuple[int, float]]] = []
        for words in _tokenize(list(queries)):
            scores = self.scores(words)
            hit = np.flatnonzero(scores > 0)
            if len(hit) > k:
                hit = hit[np.argpartition(-scores[hit], k - 1)[:k]]
            hit = hit[np.lexsort((self._ids[hit], -scores[hit]))]
            out.append([(int(self._ids[d]), float(scores[d])) for d in hit])
        return out
