"""Cold start from unlabelled tickets: move each article's passages toward the tickets it answers.

Before any ticket has been resolved by an article, suggestions rest on how close a ticket's text
is to an article's passages, and ticket language ("my card still hasn't come") sits apart from
article language ("Card arrival") in the encoder's space. Past tickets show what tickets look
like even when nobody linked them to an article: each is assigned to the article whose passage it
matches best, each article's passages move toward the mean of its tickets (passage + ``BETA`` x
that mean, renormalised), and the assignment is repeated (``ROUNDS`` rounds of hard EM). The
newest ``MAX_TICKETS`` tickets are enough: more changed little in the measurements and cost time.

A search then scores a passage ``p`` of article ``a`` against a ticket ``q`` by the cosine between
``q`` and the moved passage: ``(q.p + BETA q.c_a) / |p + BETA c_a|``, where ``c_a`` is the
article's ticket centroid. Passages added after training (an edited article) are moved the same
way, from their stored vectors, so an edit shows at once.

Measured on Banking77 and the demo help desk (docs/benchmarks.md): with 10 or more unlabelled
tickets per article it gains several points of hit@1 and hit@3; with fewer it can lose a little,
so :func:`fit` declines below ``MIN_TICKETS_PER_ARTICLE``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BETA = 1.0
ROUNDS = 3
MAX_TICKETS = 20_000
MIN_TICKETS_PER_ARTICLE = 10
# Training time and memory grow with tickets x passages: at most MAX_PAIRS ticket-passage products
# per round (the it_tickets benchmark's 20,000 x 3,480 = 7e7 took 3.2 s for 3 rounds), scored in
# blocks of at most BLOCK_FLOATS similarities (128 MB).
MAX_PAIRS = 1_000_000_000
BLOCK_FLOATS = 1 << 25
EXTRA_ARTICLES = 5  # articles whose centroid is nearest a ticket, searched even when no passage was


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.clip(norms, 1e-12, None)).astype(np.float32)


@dataclass
class ArticleAdaptation:
    """Per adapted article, the unit centroid of the tickets assigned to it, and its chunks then."""

    article_ids: list[str]
    centroids: np.ndarray
    chunks: dict[str, list[int]]
    tickets: int
    beta: float = BETA
    _row: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self):
        self._row = {aid: i for i, aid in enumerate(self.article_ids)}

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_row"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def candidates(self, query: np.ndarray) -> list[int]:
        """Chunk ids of the articles whose ticket centroid is nearest ``query`` (at fit time)."""
        sims = self.centroids @ query
        top = np.argsort(-sims)[:EXTRA_ARTICLES]
        return [cid for i in top for cid in self.chunks.get(self.article_ids[i], [])]

    def cosines(self, query: np.ndarray, article_ids: list[str], vectors: np.ndarray) -> np.ndarray:
        """The cosines to ``query`` of passages (their stored ``vectors`` and ``article_ids``),
        each moved toward its article's ticket centroid; an article not adapted keeps its raw cosine."""
        vectors = np.asarray(vectors, dtype=np.float32)
        cosines = vectors @ query
        rows = np.array([self._row.get(a, -1) for a in article_ids], dtype=np.int64)
        positions = np.flatnonzero(rows >= 0)
        if len(positions) == 0:
            return cosines
        cents = self.centroids[rows[positions]]
        pull = np.einsum("ij,ij->i", vectors[positions], cents)
        norm = np.sqrt(np.clip(1.0 + self.beta ** 2 + 2.0 * self.beta * pull, 1e-12, None))
        cosines[positions] = (cosines[positions] + self.beta * (cents @ query)) / norm
        return cosines


def _best_articles(tickets: np.ndarray, passages: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of each ticket's best article, passages grouped by article (``starts``: first column of each)."""
    best = np.empty(len(tickets), dtype=np.int64)
    block = max(1, BLOCK_FLOATS // len(passages))
    for lo in range(0, len(tickets), block):
        sims = tickets[lo:lo + block] @ passages.T
        best[lo:lo + block] = np.maximum.reduceat(sims, starts, axis=1).argmax(axis=1)
    return best


def fit(tickets: np.ndarray, passages: np.ndarray, passage_articles: list[str], chunk_ids: list[int], *,
        beta: float = BETA, rounds: int = ROUNDS,
        min_per_article: int = MIN_TICKETS_PER_ARTICLE) -> "ArticleAdaptation | None":
    """Adapt the articles to ``tickets`` (unit embeddings, oldest first, no labels needed): the
    newest ``MAX_TICKETS``, fewer on a knowledge base so large that tickets x passages would pass
    ``MAX_PAIRS``. None when that leaves fewer than ``min_per_article`` tickets per article, or
    nothing to adapt."""
    passages = np.asarray(passages, dtype=np.float32)
    if len(passages) == 0 or len(tickets) == 0:
        return None
    newest = min(MAX_TICKETS, max(1, MAX_PAIRS // len(passages)))
    tickets = np.ascontiguousarray(np.asarray(tickets)[-newest:], dtype=np.float32)
    article_ids, owner = np.unique(np.asarray(passage_articles, dtype=str), return_inverse=True)
    if len(tickets) < min_per_article * len(article_ids):
        return None
    order = np.argsort(owner, kind="stable")  # each article's passages side by side
    owner = owner[order]
    passages = np.ascontiguousarray(passages[order])
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    moved = passages
    for _ in range(rounds):
        best = _best_articles(tickets, moved, starts)
        sums = np.zeros((len(article_ids), passages.shape[1]), dtype=np.float32)
        np.add.at(sums, best, tickets)
        centroids = _unit(sums)  # an article no ticket chose keeps a zero centroid: its passages stay
        moved = _unit(passages + beta * centroids[owner])
    kept = np.flatnonzero(np.bincount(best, minlength=len(article_ids)) > 0)
    chunks: dict[str, list[int]] = {}
    for pos, row in zip(order, owner):
        chunks.setdefault(str(article_ids[row]), []).append(int(chunk_ids[pos]))
    kept_ids = [str(article_ids[i]) for i in kept]
    return ArticleAdaptation(article_ids=kept_ids, centroids=np.ascontiguousarray(centroids[kept]),
                             chunks={a: chunks[a] for a in kept_ids}, tickets=int(len(tickets)), beta=beta)
