"""The on-disk passage indexes (dense faiss vectors and BM25 over the same passages), shared by
the service and the CLI: loading them, noticing when another process rewrote them, saving
changes under a file lock with atomic writes, and telling whether the saved vectors are this
process's encoder's.

Bringing the index in step with the database, and embedding every passage again after a change
of encoder, is kb/rebuild.py's; :class:`IndexStore` keeps one :class:`kb.rebuild.Rebuilder` and
offers its ``sync`` and progress (:meth:`IndexStore.sync`, :meth:`IndexStore.rebuild_note`,
:attr:`IndexStore.rebuilding`)."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import pickle
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.index import VectorIndex
from kb.lexical import LexicalIndex
from kb.rebuild import Rebuilder
from kb.tables import Article, Chunk
from common.errors import NotReady
from common.files import write_atomically

log = logging.getLogger(__name__)


# Passages (article id, text, title) kept in memory per process, the most recently used first:
# reading them from the database took 2.1 ms of a 4.7 ms search for one ticket (docs/benchmarks.md).
PASSAGE_CACHE = 20_000
REBUILD_RETRY_AFTER = 10  # seconds a client is told to wait while the index is rebuilt


class IndexStore:
    """Loads the faiss file lazily, reloads it when another process rewrote it, and applies
    chunk additions/removals under a file lock so concurrent writers never lose each other's work.

    Beside the faiss file it keeps the passages' texts, from which each process builds its BM25
    index when the passage set changes (the faiss file's stamp says when), and the name of the
    encoder that made the vectors: vectors of another encoder cannot be searched with this one, so
    after a change of encoder the next write or :meth:`sync` embeds every passage again.
    """

    def __init__(self, path: Path, encoder_factory: Callable):
        self.path = path
        self.texts_path = path.with_suffix(".texts.pkl")
        self.meta_path = path.with_suffix(".meta.json")
        self._encoder_factory = encoder_factory
        self._index: VectorIndex | None = None
        self._stamp: tuple[int, int] | None = None
        self._built_with: dict | None = None
        self._lexical: tuple[tuple[int, int] | None, LexicalIndex] | None = None
        self._passages: OrderedDict[int, tuple[str, str, str]] = OrderedDict()
        self._passages_at: tuple[int, int] | None = None
        self._lock = threading.RLock()
        self._rebuilder = Rebuilder(self)

    @property
    def encoder(self):
        return self._encoder_factory()

    @property
    def rebuilding(self) -> dict | None:
        """Progress of the re-embedding under way in this process, if any."""
        return self._rebuilder.progress

    @contextmanager
    def _file_lock(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def locked(self):
        """This process's lock and the file lock, held by every read-change-save of the files."""
        with self._lock, self._file_lock():
            yield

    def _current_stamp(self) -> tuple[int, int] | None:
        """What tells one version of the faiss file from another: its inode (each save renames a
        new file over it) and its modification time (the clock alone may not tick between two
        saves a few milliseconds apart)."""
        try:
            stat = os.stat(self.path)
            return stat.st_ino, stat.st_mtime_ns
        except FileNotFoundError:
            return None

    def index(self) -> VectorIndex:
        """The latest saved index (an empty one when nothing was saved yet)."""
        with self._lock:
            stamp = self._current_stamp()
            if self._index is None or stamp != self._stamp:
                self._index = VectorIndex.load(self.path) if stamp is not None else VectorIndex(self.encoder.dim)
                self._built_with = self._read_meta() if stamp is not None else None
                self._stamp = stamp
            return self._index

    def count(self) -> int:
        """Passages in the saved index (0 before the first save, without loading the encoder)."""
        return self.index().count() if self.path.exists() else 0

    def _read_meta(self) -> dict | None:
        try:
            return json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None  # an index saved before the encoder was recorded

    def stale_reason(self) -> str | None:
        """Why the saved vectors cannot be searched with this process's encoder, or None when they
        can. An index saved before encoders were recorded counts as this encoder's if the
        dimensions agree."""
        with self._lock:
            index = self.index()
            if not self.path.exists():
                return None
            encoder = self.encoder
            built = (self._built_with or {}).get("encoder")
            if index.dim != encoder.dim:
                return (f"the article index holds {index.dim}-dimensional vectors"
                        f"{f' of encoder {built!r}' if built else ''}; encoder {encoder.name!r} makes {encoder.dim}")
            if built is not None and built != encoder.name:
                return f"the article index was built with encoder {built!r}; this process encodes with {encoder.name!r}"
            return None

    def read_texts(self) -> dict[int, str]:
        try:
            with open(self.texts_path, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            return {}

    def save(self, index: VectorIndex, texts: dict[int, str]) -> None:
        """Write the texts first and the faiss file last: its new stamp tells readers that both
        changed. Call with the locks held."""
        def dump(tmp: str) -> None:
            with open(tmp, "wb") as fh:
                pickle.dump(texts, fh, protocol=pickle.HIGHEST_PROTOCOL)

        write_atomically(self.texts_path, dump)
        meta = {"encoder": self.encoder.name, "dim": index.dim}
        write_atomically(self.meta_path, lambda tmp: Path(tmp).write_text(json.dumps(meta), encoding="utf-8"))
        index.save(self.path)
        self._index, self._built_with = index, meta
        self._stamp = self._current_stamp()

    def lexical(self) -> LexicalIndex:
        """BM25 over the passages of the latest saved index."""
        with self._lock:
            self.index()  # notices a rewrite by another process
            if self._lexical is None or self._lexical[0] != self._stamp:
                # Only passages the index holds: another process may have written the texts of
                # its next save already, and every BM25 hit must have a vector to score.
                held = self._index.ids()
                texts = {cid: text for cid, text in self.read_texts().items() if cid in held}
                self._lexical = (self._stamp, LexicalIndex(texts))
            return self._lexical[1]

    def passages(self, *, session: Session, chunk_ids) -> dict[int, tuple[str, str, str, str | None]]:
        """Chunk id -> (article id, passage text, article title, article url) for those of ``chunk_ids`` that
        the database holds (an index a deletion has not reached yet may return a few more).

        Kept in memory: a chunk never changes (an edited article gets new chunks), and the memory
        is dropped whenever the index changes, in this process or another, so a chunk id that the
        database gives to a new passage is read afresh."""
        found: dict[int, tuple[str, str, str, str | None]] = {}
        missing: list[int] = []
        with self._lock:
            self.index()  # notices a rewrite by another process
            if self._passages_at != self._stamp:
                self._passages.clear()
                self._passages_at = self._stamp
            seen_at = self._stamp
            for cid in chunk_ids:
                row = self._passages.get(cid)
                if row is None:
                    missing.append(cid)
                else:
                    self._passages.move_to_end(cid)
                    found[cid] = row
        if not missing:
            return found
        fetched = {cid: (aid, text, title, url) for cid, aid, text, title, url in session.execute(
            select(Chunk.id, Chunk.article_id, Chunk.text, Article.title, Article.url)
            .join(Article, Article.id == Chunk.article_id).where(Chunk.id.in_(missing)))}
        found.update(fetched)
        with self._lock:
            if self._passages_at == seen_at:  # the index did not change meanwhile
                self._passages.update(fetched)
                while len(self._passages) > PASSAGE_CACHE:
                    self._passages.popitem(last=False)
        return found

    def apply(self, *, add: dict[int, str] | None = None, remove: list[int] | None = None) -> None:
        """Embed and add passages ``add`` (chunk id -> text), drop chunk ids ``remove``, save.

        If the saved vectors are another encoder's, every passage is embedded again instead."""
        add = add or {}
        if self.rebuilding is not None and self.stale_reason():
            # This process is embedding every passage again; it reads the passages from the
            # database (which already holds this change) when it saves the new index.
            return
        vectors = self.encoder.encode(list(add.values())) if add else None
        with self.locked():
            index = self.index().copy()  # searches under way keep the published one
            texts = self.read_texts()
            for cid in remove or []:
                texts.pop(cid, None)
            texts.update(add)
            stale = self.stale_reason()
            if stale:
                log.warning("%s: embedding all %d passages again", stale, len(texts))
                index = self._rebuilder.fresh_index(texts)
            else:
                if remove:
                    index.remove(remove)
                if add:
                    index.add(list(add.keys()), vectors)
            self.save(index, texts)

    def rebuild_note(self) -> str | None:
        """What a caller should hear while this process embeds the passages again, else None."""
        return self._rebuilder.note()

    def sync(self, *, session: Session) -> dict:
        """Repair drift between the database's chunks and the index, and embed every passage again
        if the index was built with another encoder: :meth:`kb.rebuild.Rebuilder.sync`."""
        return self._rebuilder.sync(session=session)

    def snapshot(self) -> tuple[VectorIndex, LexicalIndex]:
        """The latest index and the BM25 index of the same passages, for a search that must see
        one state throughout: published indexes are never changed (writers publish a changed
        copy), so an article edited meanwhile cannot remove a passage from under the search.
        NotReady while the index holds another encoder's vectors."""
        stale = self.stale_reason()
        if stale:
            note = self.rebuild_note()
            if note:
                raise NotReady(f"{note}; retry shortly", code="index_stale", retry_after=REBUILD_RETRY_AFTER)
            raise NotReady(f"{stale}: run `kbtriage reindex` (the service does it when it starts)",
                           code="index_stale")
        with self._lock:
            lexical = self.lexical()  # reloads the index first if another process rewrote it
            return self._index, lexical
