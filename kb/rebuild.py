"""Keeping the saved passage index in step with the database, and embedding every passage again
when the index holds another encoder's vectors.

:meth:`Rebuilder.sync` is what runs at the service's start (on a thread, application/startup.py),
in ``kbtriage reindex`` and before training: it repairs drift between the database's chunks and
the index (e.g. after a crash between a commit and a save) and, after a change of encoder, embeds
every passage again. That re-embedding runs outside the file lock, in chunks whose progress
:attr:`Rebuilder.progress` shows (:meth:`Rebuilder.note` puts it in words for callers), so article
writes are not held up by it.

A :class:`Rebuilder` works on the index store it is given (:class:`kb.store.IndexStore`, which
creates one for itself and hands its ``sync`` to it) and uses only the store's public methods:
``stale_reason``, ``index``, ``apply``, ``read_texts``, ``locked`` and ``save``, and its ``path``
and ``encoder``. This module does not import the store.
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.index import VectorIndex
from kb.tables import Chunk

log = logging.getLogger(__name__)


# Passages per encoder call while the whole index is embedded again, so that progress can be
# reported and a cached encoder keeps what was done if the process stops half way.
REBUILD_CHUNK = 512


def _chunk_texts(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Chunk.id, Chunk.text)).all())


class Rebuilder:
    """Brings one store's index in step with the database. Holds the progress of the re-embedding
    under way in this process, if any, and allows one at a time."""

    def __init__(self, store):
        self.store = store
        self.lock = threading.Lock()  # one full re-embedding at a time in this process
        self.progress: dict | None = None  # progress of the re-embedding under way, if any

    def fresh_index(self, texts: dict[int, str], known: dict[int, np.ndarray] | None = None) -> VectorIndex:
        """A new index of ``texts`` (chunk id -> text), every passage embedded by the store's
        encoder (those in ``known``, chunk id -> vector, already were)."""
        index = VectorIndex(self.store.encoder.dim)
        known = known or {}
        todo = {cid: text for cid, text in texts.items() if cid not in known}
        fresh = dict(zip(todo, self.store.encoder.encode(list(todo.values())))) if todo else {}
        if texts:
            index.add(list(texts.keys()), np.stack([known[cid] if cid in known else fresh[cid] for cid in texts]))
        return index

    def _embed_all(self, texts: dict[int, str], *, reason: str) -> dict[int, np.ndarray]:
        """Every passage's vector by the store's encoder, in chunks, with the progress in :attr:`progress`."""
        ids, out = list(texts), {}
        self.progress = {"reason": reason, "done": 0, "total": len(ids), "since": time.time()}
        try:
            for start in range(0, len(ids), REBUILD_CHUNK):
                part = ids[start:start + REBUILD_CHUNK]
                out.update(zip(part, self.store.encoder.encode([texts[cid] for cid in part])))
                self.progress = {**self.progress, "done": start + len(part)}
            return out
        finally:
            self.progress = None

    def note(self) -> str | None:
        """What a caller should hear while this process embeds the passages again, else None."""
        state = self.progress
        if state is None:
            return None
        return (f"the article index is being rebuilt for encoder {self.store.encoder.name!r}: {state['done']:,} of "
                f"{state['total']:,} passages embedded in {time.time() - state['since']:.0f} s")

    def _rebuild(self, session: Session) -> dict | None:
        """Embed every passage again if the index is still another encoder's (call with
        :attr:`lock` held); None when it is not (any more)."""
        store = self.store
        stale = store.stale_reason()
        if not stale:
            return None
        rows = _chunk_texts(session)
        log.warning("%s: embedding all %d passages again", stale, len(rows))
        vectors = self._embed_all(rows, reason=stale)
        with store.locked():
            if not store.stale_reason():
                return None  # another writer saved this encoder's index meanwhile
            rows = _chunk_texts(session)  # passages written meanwhile are embedded here
            store.save(self.fresh_index(rows, vectors), rows)
        return {"added": len(rows), "removed": 0, "total": len(rows), "rebuilt": stale}

    def sync(self, *, session: Session) -> dict:
        """Repair drift between the database's chunks and the index (e.g. after a crash), and embed
        every passage again if the index was built with another encoder.

        The re-embedding runs outside the file lock, in chunks whose progress :attr:`progress`
        shows, so article writes are not held up by it; the new index is saved under the lock
        unless another writer rebuilt it meanwhile (then only drift is repaired). Two rebuilds in
        one process (the service's start and a training job) do not run side by side: the second
        finds the index current."""
        store = self.store
        if store.stale_reason():
            with self.lock:
                rebuilt = self._rebuild(session)
            if rebuilt:
                return rebuilt
        rows = _chunk_texts(session)
        have = store.index().ids()
        missing = {i: t for i, t in rows.items() if i not in have}
        extra = [i for i in have if i not in rows]
        if missing or extra or not store.path.exists():
            store.apply(add=missing, remove=extra)
        elif store.read_texts().keys() != rows.keys():
            # The vectors are intact but the texts file is behind (lost, or from an older version):
            # rewrite it, and the faiss file after it so that readers rebuild their BM25.
            with store.locked():
                store.save(store.index(), rows)
        return {"added": len(missing), "removed": len(extra), "total": len(rows)}
