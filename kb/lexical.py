"""Lexical passage retrieval (BM25, by the bm25s library) to sit beside the dense faiss index.

Dense vectors find paraphrases; BM25 finds the rare exact words a paraphrase loses: product
names, error codes, the title of a form. The index is rebuilt from the passages' texts whenever
the passage set changes (bm25s indexes are static; a rebuild of a few thousand passages takes
well under a second).
"""
from __future__ import annotations

import numpy as np


def _tokenize(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, lower=True, stopwords="en", show_progress=False, return_ids=False)


class LexicalIndex:
    """BM25 over passages keyed by chunk id."""

    def __init__(self, passages: dict[int, str]):
        import bm25s

        self.ids = np.array(sorted(passages), dtype=np.int64)
        self._bm25 = None
        if len(self.ids):
            self._bm25 = bm25s.BM25()
            self._bm25.index(_tokenize([passages[i] for i in self.ids.tolist()]), show_progress=False)

    def count(self) -> int:
        return len(self.ids)

    def search(self, queries: list[str], k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` (chunk id, BM25 score) pairs with a positive score, best first."""
        if self._bm25 is None or not queries:
            return [[] for _ in queries]
        k = min(k, len(self.ids))
        out: list[list[tuple[int, float]]] = []
        # Scored one query at a time with bm25s' scorer: its retrieve() starts a thread pool per
        # call, which cost more than the scoring itself for single tickets.
        for words in _tokenize(list(queries)):
            if not words:  # a query of stop words only matches nothing
                out.append([])
                continue
            scores = self._bm25.get_scores(words)
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            top = top[np.argsort(-scores[top], kind="stable")]
            out.append([(int(self.ids[d]), float(scores[d])) for d in top if scores[d] > 0])
        return out
