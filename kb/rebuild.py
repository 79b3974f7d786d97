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
``stale_reason``, ``index``, ``apply``, ``read_texts``, ``locked``, ``save``, ``feed_mark`` and
``mark_followed``, and its ``path`` and ``encoder``. This module does not import the store.

The database holds every passage's vector per encoder (table ``passage_vectors``, written with the
passage by kb/service.py): a sync takes a passage's vector from there and encodes only passages
that have none for this encoder, storing what it encoded, so a replica that starts with an empty
data directory encodes nothing the database already holds. Passages written before the table
existed get theirs from the saved index on the next sync (a backfill, no encoding).

Above ``kb.index.IVF_ABOVE`` passages the index is approximate (IVF), and training its lists
(k-means) was most of a fresh replica's start (35 s of 54 s at 100k). A sync keeps the lists of
the index it leaves in the database (table ``index_quantizers``, one row per encoder, written when
none is stored or the stored ones no longer fit the passage count: :func:`keep_quantizer`), and a
sync that makes an index approximate assigns the vectors to the stored lists instead of training.
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.db import utcnow
from kb.index import VectorIndex, quantizer_fits
from kb.tables import Chunk, IndexQuantizer, PassageVector

log = logging.getLogger(__name__)


# Passages per encoder call while the whole index is embedded again, so that progress can be
# reported and a cached encoder keeps what was done if the process stops half way.
REBUILD_CHUNK = 512


# The change feed's kinds for passages (common/change_feed.py), keyed by chunk id.
CHUNK_ADDED = "chunk_added"
CHUNK_REMOVED = "chunk_removed"

# Ids per IN (...) list; above READ_ALL wanted ids, every vector of the encoder is read instead.
ID_BATCH = 500
READ_ALL = 5_000


def _chunk_texts(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Chunk.id, Chunk.text)).all())


def _batches(ids: list[int]):
    for start in range(0, len(ids), ID_BATCH):
        yield ids[start:start + ID_BATCH]


def chunk_texts(session: Session, ids) -> dict[int, str]:
    """Chunk id -> text for those of ``ids`` the database holds."""
    out: dict[int, str] = {}
    for part in _batches(sorted(ids)):
        out.update(session.execute(select(Chunk.id, Chunk.text).where(Chunk.id.in_(part))).all())
    return out


def read_vectors(session: Session, encoder: str, ids=None) -> dict[int, np.ndarray]:
    """Chunk id -> the stored vector by ``encoder`` for ``ids`` (every passage when None) that
    have one."""
    query = select(PassageVector.chunk_id, PassageVector.vector).where(PassageVector.encoder == encoder)
    wanted = None if ids is None else set(ids)
    if wanted is not None and len(wanted) <= READ_ALL:
        rows = [row for part in _batches(sorted(wanted))
                for row in session.execute(query.where(PassageVector.chunk_id.in_(part)))]
    else:
        rows = session.execute(query)
    return {cid: np.frombuffer(blob, dtype=np.float32) for cid, blob in rows
            if wanted is None or cid in wanted}


def write_vectors(session: Session, encoder: str, vectors: dict[int, np.ndarray]) -> None:
    """Store ``vectors`` (chunk id -> vector by ``encoder``) in ``session``'s transaction; a vector
    another process stored meanwhile is kept (the same encoder makes the same vector)."""
    if not vectors:
        return
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    rows = [{"chunk_id": int(cid), "encoder": encoder, "vector": np.asarray(v, dtype=np.float32).tobytes()}
            for cid, v in vectors.items()]
    for start in range(0, len(rows), ID_BATCH * 4):
        session.execute(insert(PassageVector).on_conflict_do_nothing(), rows[start:start + ID_BATCH * 4])


class Rebuilder:
    """Brings one store's index in step with the database. Holds the progress of the re-embedding
    under way in this process, if any, and allows one at a time."""

    def __init__(self, store):
        self.store = store
        self.lock = threading.Lock()  # one full re-embedding at a time in this process
        self.progress: dict | None = None  # progress of the re-embedding under way, if any

    def fresh_index(self, texts: dict[int, str], known: dict[int, np.ndarray] | None = None,
                    quantizer: np.ndarray | None = None) -> VectorIndex:
        """A new index of ``texts`` (chunk id -> text), every passage embedded by the store's
        encoder (those in ``known``, chunk id -> vector, already were); ``quantizer``: trained IVF
        lists to use if it is large enough to be approximate."""
        index = VectorIndex(self.store.encoder.dim)
        index.quantizer = quantizer
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
        """Index every passage again with this encoder if the index is still another encoder's
        (call with :attr:`lock` held); None when it is not (any more). Vectors the database holds
        for this encoder are taken from there; the others are embedded and stored."""
        store = self.store
        stale = store.stale_reason()
        if not stale:
            return None
        name = store.encoder.name
        rows = _chunk_texts(session)
        vectors = read_vectors(session, name, rows)
        todo = {cid: text for cid, text in rows.items() if cid not in vectors}
        log.warning("%s: embedding %d of %d passages again (the database holds the others' vectors)",
                    stale, len(todo), len(rows))
        fresh = self._embed_all(todo, reason=stale)
        if fresh:
            store_vectors(session, name, fresh)
        vectors.update(fresh)
        with store.locked():
            if not store.stale_reason():
                return None  # another writer saved this encoder's index meanwhile
            mark = store.feed_mark(session)
            rows = _chunk_texts(session)  # passages written meanwhile are indexed here
            vectors.update(read_vectors(session, name, [cid for cid in rows if cid not in vectors]))
            late = [cid for cid in rows if cid not in vectors]
            if late:
                late_vectors = dict(zip(late, store.encoder.encode([rows[cid] for cid in late])))
                store_vectors(session, name, late_vectors)
                vectors.update(late_vectors)
            store.save(self.fresh_index(rows, vectors, quantizer=read_quantizer(session, name)), rows, feed=mark)
        keep_quantizer(session, name, store.index())
        return {"added": len(rows), "removed": 0, "total": len(rows), "rebuilt": stale}

    def sync(self, *, session: Session) -> dict:
        """Repair drift between the database's chunks and the index (e.g. after a crash, or in a
        data directory that starts empty), and embed every passage again if the index was built
        with another encoder. Commits ``session`` when it stored vectors.

        A passage the index lacks gets its vector from the database; only passages with no vector
        for this encoder are embedded (and stored), and indexed passages without a stored vector
        get the index's (the backfill). The re-embedding runs outside the file lock, in chunks
        whose progress :attr:`progress` shows, so article writes are not held up by it; the new
        index is saved under the lock unless another writer rebuilt it meanwhile (then only drift
        is repaired). Two rebuilds in one process (the service's start and a training job) do not
        run side by side: the second finds the index current. Afterwards the store follows the
        change feed from where this scan saw the database."""
        store = self.store
        if store.stale_reason():
            with self.lock:
                rebuilt = self._rebuild(session)
            if rebuilt:
                return rebuilt
        mark = store.feed_mark(session)  # before the scan: changes after it are followed (again)
        rows = _chunk_texts(session)
        index = store.index()
        have = index.ids()
        texts = store.read_texts()
        # A chunk id whose text changed was given to another passage (SQLite may reuse the
        # highest id after a deletion): index it again.
        missing = {i: t for i, t in rows.items() if i not in have or texts.get(i, t) != t}
        extra = [i for i in have if i not in rows]
        name = store.encoder.name
        stored = set(session.scalars(select(PassageVector.chunk_id).where(PassageVector.encoder == name)))
        known = read_vectors(session, name, [i for i in missing if i in stored])
        todo = [i for i in missing if i not in known]
        fresh = dict(zip(todo, store.encoder.encode([missing[i] for i in todo]))) if todo else {}
        backfill = [i for i in rows if i not in stored and i in have and i not in missing]
        if backfill:
            fresh.update(zip(backfill, index.vectors(backfill)))
        if fresh:
            store_vectors(session, name, fresh)
        if missing or extra or not store.path.exists():
            # A fresh data directory at scale: the IVF lists another replica trained, not k-means again.
            big = index.ivf_above is not None and index.kind == "exact" and len(have) + len(missing) > index.ivf_above
            quantizer = read_quantizer(session, name) if big else None
            store.apply(add=missing, remove=extra, vectors={**known, **fresh}, feed=mark, quantizer=quantizer)
        elif texts.keys() != rows.keys():
            # The vectors are intact but the texts file is behind (lost, or from an older version):
            # rewrite it, and the faiss file after it so that readers rebuild their BM25.
            with store.locked():
                store.save(store.index(), rows, feed=mark)
        else:
            store.mark_followed(mark)
        keep_quantizer(session, name, store.index())
        return {"added": len(missing), "removed": len(extra), "total": len(rows)}


def read_quantizer(session: Session, encoder: str) -> np.ndarray | None:
    """The IVF lists' centroids stored for ``encoder`` (nlist x dim), or None."""
    row = session.get(IndexQuantizer, encoder)
    if row is None:
        return None
    return np.frombuffer(row.centroids, dtype=np.float32).reshape(row.nlist, row.dim)


def keep_quantizer(session: Session, encoder: str, index: VectorIndex) -> None:
    """Store ``index``'s IVF lists for ``encoder`` (and commit) unless the stored ones are these
    or still fit it: the next fresh replica assigns its vectors to them instead of training."""
    centroids = index.centroids()
    if centroids is None:
        return
    stored = read_quantizer(session, encoder)
    if stored is not None and (quantizer_fits(stored, index.count(), index.dim)
                               or not quantizer_fits(centroids, index.count(), index.dim)):
        return  # what is stored fits, or this index's lists would fit no better
    row = session.get(IndexQuantizer, encoder) or IndexQuantizer(encoder=encoder)
    row.dim, row.nlist, row.trained_on = index.dim, len(centroids), index.count()
    row.centroids, row.created_at = np.ascontiguousarray(centroids, dtype=np.float32).tobytes(), utcnow()
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # another replica stored its lists meanwhile: as good as these
        session.rollback()


def store_vectors(session: Session, encoder: str, vectors: dict[int, np.ndarray]) -> None:
    """Store ``vectors`` and commit, skipping passages deleted since they were read."""
    try:
        write_vectors(session, encoder, vectors)
        session.commit()
    except IntegrityError:  # a passage deleted meanwhile (its foreign key): store the others
        session.rollback()
        held = chunk_texts(session, vectors)
        write_vectors(session, encoder, {cid: v for cid, v in vectors.items() if cid in held})
        session.commit()
