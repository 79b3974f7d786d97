"""Text features: word and character TF-IDF blocks beside the weighted sentence embedding
(TextFeatures), shared by the category, tier and article models, with a fast path computing the
TF-IDF rows of a few texts.
"""
from __future__ import annotations

import weakref
from collections import Counter
from itertools import chain

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from common.threads import FEW_QUERIES


# Per fitted character vectorizer: each word's vocabulary columns (see _WordColumns).
_WORD_COLUMNS: "weakref.WeakKeyDictionary[TfidfVectorizer, _WordColumns]" = weakref.WeakKeyDictionary()
WORDS_KEPT = 50_000  # words whose columns one vectorizer keeps; the memory starts again past it


class _WordColumns:
    """The ``char_wb`` analyzer's columns of a text, word by word. Its n-grams never cross a word
    (each word is padded with a space and cut alone), so a text's columns are its words' columns
    one after another: each word's are looked up once and kept. Ticket texts repeat their words,
    and a ticket's multi-issue units are its own words again."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.preprocess = vectorizer.build_preprocessor()
        self.spaces, self.ngrams = vectorizer._white_spaces, vectorizer._char_wb_ngrams
        self.vocabulary = vectorizer.vocabulary_
        self.words: dict[str, tuple[int, ...]] = {}

    def __call__(self, text: str):
        words, vocabulary = self.words, self.vocabulary
        out = []
        for word in self.spaces.sub(" ", self.preprocess(text)).split():
            columns = words.get(word)
            if columns is None:
                if len(words) >= WORDS_KEPT:
                    words.clear()
                columns = words[word] = tuple(j for j in map(vocabulary.get, self.ngrams(word)) if j is not None)
            out.append(columns)
        return chain.from_iterable(out)


def _columns_of(vectorizer: TfidfVectorizer):
    """A callable giving the vocabulary columns (with repeats) of one text."""
    if vectorizer.analyzer == "char_wb" and vectorizer.input == "content" and not callable(vectorizer.preprocessor):
        columns = _WORD_COLUMNS.get(vectorizer)
        if columns is None:
            columns = _WORD_COLUMNS.setdefault(vectorizer, _WordColumns(vectorizer))
        return columns
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    return lambda text: (j for j in map(vocabulary.get, analyze(text)) if j is not None)


def _tfidf_rows(vectorizer: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for a few texts, without scikit-learn's per-call checks,
    which cost more than the counting itself for one short ticket (1.7 ms vs 0.65 for the word and
    character blocks; docs/benchmarks.md), and with the character block's columns kept per word
    (:class:`_WordColumns`). Same rows (a test compares them); configurations other than the one
    used here go to ``transform``."""
    if vectorizer.binary or not vectorizer.use_idf or vectorizer.norm != "l2":
        return vectorizer.transform(texts)
    columns_of, vocabulary, idf = _columns_of(vectorizer), vectorizer.vocabulary_, vectorizer.idf_
    indptr, indices, data = [0], [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
    for text in texts:
        counts = Counter(columns_of(text))
        columns = np.array(sorted(counts), dtype=np.int64)
        values = np.array([counts[j] for j in columns], dtype=np.float64)
        if vectorizer.sublinear_tf:
            values = np.log(values) + 1
        values *= idf[columns]
        norm = np.sqrt(values @ values)
        if norm > 0:
            values /= norm
        indices.append(columns)
        data.append(values)
        indptr.append(indptr[-1] + len(columns))
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                         shape=(len(texts), len(vocabulary)))


# Caps on the TF-IDF blocks, so that training cost and model size stay bounded on long e-mail
# bodies and many queues (#30; docs/benchmarks.md "Training at scale (long tail)"). A ticket is
# read up to MAX_CHARS characters (after e-mail cleaning): a TF-IDF + LinearSVC baseline scored
# 0.6394 on endava_tickets on whole texts and at 1,000 characters alike, and on 12,000 it_tickets
# 0.8417 whole, 0.8446 at 1,000, 0.8379 at 500; 1,500-character e-mail bodies carry 24% fewer
# stored entries per row at the cap, and a fit costs that much less. The vocabularies keep their
# most frequent terms: each class's weight vector has one number per term (twice while liblinear
# fits, once per thread), so 100 queues x 1M character n-grams would be 1.6 GB per fit. With
# 100,000 character n-grams and 50,000 words the baseline scored 0.6375 on endava (0.6394
# uncapped), 0.8421 on it_tickets (0.8417) and the same 0.8941 on Banking77, whose vocabulary is
# smaller than the caps; 10,000 e-mail bodies x 100 queues then hold 120 MB per weight matrix.
MAX_CHARS = 1000
MAX_WORDS = 50_000
MAX_CHAR_NGRAMS = 100_000


class TextFeatures(TransformerMixin, BaseEstimator):
    """Word + char TF-IDF blocks and the weighted sentence embedding, side by side (sparse).

    Fitted once per training run and shared by the category, tier and article models, so a
    ticket's features are computed once per decision instead of once per model. Texts are read up
    to ``max_chars`` characters and each vocabulary keeps its ``max_words`` / ``max_char_ngrams``
    most frequent terms (None: no cap).
    """

    def __init__(self, embedding_weight: float = 2.0, char_ngrams: tuple | None = (2, 5),
                 word_ngrams: tuple = (1, 2), min_df: int = 1, max_chars: int | None = MAX_CHARS,
                 max_words: int | None = MAX_WORDS, max_char_ngrams: int | None = MAX_CHAR_NGRAMS):
        self.embedding_weight = embedding_weight
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.max_chars = max_chars
        self.max_words = max_words
        self.max_char_ngrams = max_char_ngrams

    def _texts(self, X) -> list[str]:
        # Extractors fitted before the caps existed (kept in the feature cache) read whole texts.
        cap = getattr(self, "max_chars", None)
        return [str(t)[:cap] if cap else str(t) for t in X]

    def fit(self, X, y=None, embeddings=None):
        self.fit_transform(X, y, embeddings=embeddings)
        return self

    def fit_transform(self, X, y=None, embeddings=None):
        """Fit and return the features of ``X`` in one pass over the texts."""
        return self.join(self.fit_lexical(X, embeddings=embeddings), embeddings)

    def fit_lexical(self, X, embeddings=None):
        """Fit the TF-IDF blocks on ``X`` and return their rows (no embedding columns); the
        embeddings' width is recorded so that :meth:`join` can add them later."""
        if self.embedding_weight < 0:
            raise ValueError(f"embedding_weight must be >= 0, got {self.embedding_weight!r}")
        texts = self._texts(X)
        self.word_ = TfidfVectorizer(ngram_range=tuple(self.word_ngrams), sublinear_tf=True,
                                     min_df=self.min_df, lowercase=True, max_features=self.max_words)
        blocks = [self.word_.fit_transform(texts)]
        self.char_ = None
        if self.char_ngrams:
            self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams), sublinear_tf=True,
                                         min_df=self.min_df, lowercase=True, max_features=self.max_char_ngrams)
            blocks.append(self.char_.fit_transform(texts))
        self.n_embedding_ = int(np.asarray(embeddings).shape[1]) if self.embedding_weight > 0 and embeddings is not None else 0
        return sp.hstack(blocks, format="csr")

    def reweight(self, features, embedding_weight: float):
        """``features`` from :meth:`transform` with the embedding block at ``embedding_weight``
        instead of this extractor's own weight (how models sharing it pick their own weight)."""
        if self.n_embedding_ == 0 or embedding_weight == self.embedding_weight:
            return features
        out = sp.csr_matrix(features, copy=True)
        # Scale only the stored entries of the embedding columns (the last n_embedding_).
        out.data[out.indices >= out.shape[1] - self.n_embedding_] *= embedding_weight / self.embedding_weight
        if embedding_weight == 0:
            out.eliminate_zeros()  # the plain model: the solver need not visit the block at all
        return out

    def transform(self, X, embeddings=None):
        return self.join(self.lexical(X), embeddings)

    def lexical(self, X):
        """The TF-IDF rows of ``X`` (word and character blocks, no embedding columns)."""
        check_is_fitted(self, "word_")
        texts = self._texts(X)
        vectorizers = [v for v in (self.word_, self.char_) if v is not None]
        if len(texts) < FEW_QUERIES:
            blocks = [_tfidf_rows(v, texts) for v in vectorizers]
        else:
            blocks = [v.transform(texts) for v in vectorizers]
        return sp.hstack(blocks, format="csr")

    def join(self, lexical, embeddings):
        """The full feature rows: ``lexical`` (from :meth:`lexical`) beside the weighted embeddings."""
        if self.embedding_weight > 0:
            if embeddings is None:
                raise ValueError("embeddings are required when embedding_weight > 0")
            embeddings = np.asarray(embeddings, dtype=np.float32)
            if embeddings.shape[0] != lexical.shape[0]:
                raise ValueError(f"got {embeddings.shape[0]} embeddings for {lexical.shape[0]} texts")
            return sp.hstack([lexical, sp.csr_matrix(embeddings * self.embedding_weight)], format="csr")
        return sp.csr_matrix(lexical)
