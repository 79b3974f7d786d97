"""A ticket's metadata as model features: the customer's plan, the channel and any field a desk
names (``kbtriage import-tickets --feature-column``), one-hot, beside the shared text rows.

``MetadataFeatures`` turns records (dicts read by field name) into sparse columns: each value seen
in training is a column, a value never seen (or a field missing) gives none. ``WithMetadata``
holds a text classifier fitted on those columns placed before the text rows (the shared
extractor's embedding block stays last, where the classifier reweights and reads it), and says
which fields weighed in a decision by taking each one away.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted


def _value(record: dict, field: str) -> str | None:
    found = (record or {}).get(field)
    if found is None or isinstance(found, (dict, list)):
        return None
    text = str(found).strip().lower()
    return text or None


class MetadataFeatures(TransformerMixin, BaseEstimator):
    """One-hot columns of ``fields``' categorical values, each at ``weight``; values unseen in
    training are ignored (no column lights up)."""

    def __init__(self, fields: tuple = (), weight: float = 1.0):
        self.fields = fields
        self.weight = weight

    def fit(self, records, y=None):
        if self.weight <= 0:
            raise ValueError(f"weight must be > 0, got {self.weight!r}")
        self.columns_: dict[tuple[str, str], int] = {}
        for field in self.fields:
            for value in sorted({v for v in (_value(r, field) for r in records) if v is not None}):
                self.columns_[(field, value)] = len(self.columns_)
        self.fields_ = tuple(f for f in self.fields if any(k[0] == f for k in self.columns_))
        return self

    @property
    def width(self) -> int:
        return len(self.columns_)

    def transform(self, records, without: str | None = None):
        """Rows for ``records``; ``without`` leaves that field's columns empty."""
        check_is_fitted(self, "columns_")
        rows, cols = [], []
        for i, record in enumerate(records):
            for field in self.fields_:
                if field == without:
                    continue
                j = self.columns_.get((field, _value(record, field)))
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        data = np.full(len(rows), float(self.weight))
        return sp.csr_matrix((data, (rows, cols)), shape=(len(records), self.width))


class WithMetadata(ClassifierMixin, BaseEstimator):
    """``model`` (a HybridTextClassifier fitted on ``[metadata rows, text rows]``) with its
    ``metadata`` extractor: probabilities from the shared text rows and the tickets' records."""

    def __init__(self, model=None, metadata: MetadataFeatures | None = None):
        self.model = model
        self.metadata = metadata

    @property
    def features_(self):
        return self.model.features_

    @property
    def classes_(self):
        return self.model.classes_

    def rows(self, text_rows, records, without: str | None = None):
        """The model's rows: metadata columns first, then the text rows."""
        meta = self.metadata.transform(records if records is not None else [{}] * text_rows.shape[0], without)
        return sp.hstack([meta, sp.csr_matrix(text_rows)], format="csr")

    def predict_proba_features(self, text_rows, records=None, embeddings=None) -> np.ndarray:
        check_is_fitted(self.model, "model_")
        return self.model.predict_proba_features(self.rows(text_rows, records), embeddings)

    def predict_proba(self, X, embeddings=None, records=None) -> np.ndarray:
        return self.predict_proba_features(self.features_.transform(X, embeddings), records)

    def predict(self, X, embeddings=None, records=None) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X, embeddings, records), axis=1)]

    def weighed(self, text_rows, records, proba: np.ndarray, min_change: float = 0.05) -> list[list[tuple]]:
        """Per ticket, the fields that weighed in its top label: (field, value, the label's
        probability without the field) where taking the field away lowers it by ``min_change``
        or more, most weighty first."""
        top = proba.argmax(1)
        found: list[list[tuple]] = [[] for _ in range(proba.shape[0])]
        for field in self.metadata.fields_:
            present = [i for i, r in enumerate(records) if (field, _value(r, field)) in self.metadata.columns_]
            if not present:
                continue
            sub = sp.csr_matrix(text_rows)[present]
            alone = self.model.predict_proba_features(self.rows(sub, [records[i] for i in present], without=field))
            for row, i in enumerate(present):
                before, after = float(proba[i, top[i]]), float(alone[row, top[i]])
                if before - after >= min_change:
                    found[i].append((field, _value(records[i], field), after))
        for row in found:
            row.sort(key=lambda t: t[2])
        return found
