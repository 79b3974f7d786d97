"""The on-disk passage indexes (dense faiss vectors and BM25 over the same passages), shared by
the service and the CLI: loading them, noticing when another process rewrote them, saving
changes under a file lock with atomic writes, and telling whether the saved vectors are this
process's encoder's.

Bringing the index in step with the database, and embedding every passage again after a change
of encoder, is kb/rebuild.py's; :class:`IndexStore` keeps one :class:`kb.rebuild.Rebuilder` and
offers its ``sync`` and progress (:meth:`IndexStore.sync`, :meth:`IndexStore.rebuild_note`,
:attr:`IndexStore.rebuilding`).

Replicas: the database is the source of truth and these files are one data directory's cache of
it. Given the database (``sessions``), a store follows the change feed (common/change_feed.py):
at most once a second, when a search asks for the index (:meth:`IndexStore.snapshot`), it reads
the feed's rows after the last id this data directory applied (kept in the meta file, so a restart
resumes), and brings the passages they name in step with the database, with the vectors the
database holds (:meth:`IndexStore.follow`). A full :meth:`IndexStore.sync` stays the safety net:
at start, and every few minutes from the same place."""
from __future__ import annotations

import json
import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common import change_feed
from kb.index import VectorIndex
from kb.lexical import LexicalIndex
from kb.rebuild import CHUNK_ADDED, CHUNK_REMOVED, Rebuilder, chunk_texts, read_vectors, store_vectors
from kb.tables import Article, Chunk
from common.errors import NotReady
from common.files import file_lock, write_atomically

log = logging.getLogger(__name__)


# Passages (article id, text, title) kept in memory per process, the most recently used first:
# reading them from the database took 2.1 ms of a 4.7 ms search for one ticket (docs/benchmarks.md).
PASSAGE_CACHE = 20_000
REBUILD_RETRY_AFTER = 10  # seconds a client is told to wait while the index is rebuilt

# Following the change feed. A change on another replica is visible here within FOLLOW_EVERY
# seconds of its commit (plus the search that notices it); issue #29 asks for 2 s.
FOLLOW_EVERY = 1.0
# A gap in the feed's ids is a transaction that took an id and has not committed yet, or one that
# rolled back. Writers take their feed ids last, just before the commit (kb/service.py), so a gap
# still open after GAP_FINAL seconds is taken as rolled back (the full sync repairs a late one).
GAP_FINAL = 5.0
FULL_SYNC_EVERY = 300.0  # seconds between the safety net's full scans of the passages
FEED_BATCH = 5_000  # feed rows read per query
MARK_WINDOW = 1_000  # feed ids below the highest that a full scan checks for gaps
# Above this share of its passages changed, BM25 is built afresh rather than updated (an update
# costs about as much per passage as a build, plus the copy).
LEXICAL_REBUILD_SHARE = 0.5
LEXICAL_BESIDE = 5_000  # passages added at once above which BM25 is built beside the faiss work


def updated_lexical(previous: LexicalIndex | None, held: set[int], texts: dict[int, str]) -> LexicalIndex:
    """BM25 over the passages of ``texts`` (chunk id -> text) that ``held`` names: ``previous``
    updated on a copy (``previous`` itself is left as it was), or built afresh when there is no
    ``previous`` or more than ``LEXICAL_REBUILD_SHARE`` of its passages changed."""
    if previous is not None:
        gone = [cid for cid in previous.texts_view() if cid not in held or texts.get(cid) != previous.text(cid)]
        new = {cid: texts[cid] for cid in held if cid in texts and previous.text(cid) != texts[cid]}
        if len(gone) + len(new) <= LEXICAL_REBUILD_SHARE * max(previous.count(), 1):
            if not gone and not new:
                return previous
            lexical = previous.copy()
            lexical.remove(gone)
            lexical.add(new)
            return lexical
    return LexicalIndex({cid: text for cid, text in texts.items() if cid in held})


class IndexStore:
    """Loads the faiss file lazily, reloads it when another process rewrote it, and applies
    chunk additions/removals under a file lock so concurrent writers never lose each other's work.

    Beside the faiss file it keeps the passages' texts, from which each process keeps its BM25
    index up to date when the passage set changes (the faiss file's stamp says when; updated by
    the passages that changed, see :meth:`lexical`), and the name of the
    encoder that made the vectors: vectors of another encoder cannot be searched with this one, so
    after a change of encoder the next write or :meth:`sync` embeds every passage again.
    """

    def __init__(self, path: Path, encoder_factory: Callable, sessions: Callable | None = None):
        self.path = path
        self.texts_path = path.with_suffix(".texts.pkl")
        self.meta_path = path.with_suffix(".meta.json")
        self._encoder_factory = encoder_factory
        self._index: VectorIndex | None = None
        self._stamp: tuple[int, int] | None = None
        self._built_with: dict | None = None
        self._lexical: tuple[tuple[int, int] | None, LexicalIndex] | None = None
        self._saved_texts: tuple[tuple[int, int] | None, dict[int, str]] | None = None  # of this process's last save
        self._texts_mine: tuple[tuple[int, int] | None, dict[int, str]] | None = None  # the same, kept
        self._passages: OrderedDict[int, tuple[str, str, str]] = OrderedDict()
        self._passages_at: tuple[int, int] | None = None
        self._lock = threading.RLock()
        self._rebuilder = Rebuilder(self)
        # The database's sessions (common.db.Database.session): given, the store follows the change
        # feed; without, it is the files alone (one machine's processes, as before replicas).
        self._sessions = sessions
        self.follow_every, self.gap_final, self.full_sync_every = FOLLOW_EVERY, GAP_FINAL, FULL_SYNC_EVERY
        self._follow_lock = threading.Lock()
        self._followed_at = float("-inf")
        self._synced_at = time.monotonic()
        self._gaps: dict[int, float] = {}  # feed id not seen yet -> when it was first missed

    @property
    def encoder(self):
        return self._encoder_factory()

    @property
    def rebuilding(self) -> dict | None:
        """Progress of the re-embedding under way in this process, if any."""
        return self._rebuilder.progress

    @contextmanager
    def _file_lock(self):
        with file_lock(self.path.with_suffix(".lock")):
            yield

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

    def _texts_locked(self) -> dict[int, str]:
        """The saved texts (a copy to change), from memory while the files are still this
        process's last save (reading 100k texts back took about 0.2 s a change). Call with the
        locks held: then no other writer is half way through a save."""
        mine = self._texts_mine
        if mine is not None and mine[0] is not None and mine[0] == self._current_stamp():
            return dict(mine[1])
        return self.read_texts()

    def save(self, index: VectorIndex, texts: dict[int, str], *, feed: int | None = None) -> None:
        """Write the texts first and the faiss file last: its new stamp tells readers that both
        changed. ``feed``: the change-feed id the index now reflects (else it keeps the saved one).
        Call with the locks held."""
        def dump(tmp: str) -> None:
            with open(tmp, "wb") as fh:
                pickle.dump(texts, fh, protocol=pickle.HIGHEST_PROTOCOL)

        write_atomically(self.texts_path, dump)
        meta = self._write_meta(index.dim, feed)
        index.save(self.path)
        self._index, self._built_with = index, meta
        self._stamp = self._current_stamp()
        self._saved_texts = (self._stamp, texts)  # BM25's update need not read them back
        self._texts_mine = (self._stamp, texts)

    def _write_meta(self, dim: int, feed: int | None) -> dict:
        meta = {"encoder": self.encoder.name, "dim": dim,
                "feed": feed if feed is not None else self.feed_applied()}
        write_atomically(self.meta_path, lambda tmp: Path(tmp).write_text(json.dumps(meta), encoding="utf-8"))
        return meta

    def feed_applied(self) -> int:
        """The change-feed id up to which this data directory's index reflects the database."""
        return int((self._read_meta() or {}).get("feed") or 0)

    def mark_followed(self, feed: int) -> None:
        """Record that the saved index reflects the change feed up to id ``feed``."""
        with self.locked():
            if self.path.exists():
                self._write_meta(self.index().dim, feed)

    def feed_mark(self, session: Session) -> int:
        """The feed id that a scan of the database made after this call reflects: the highest
        committed, or just below the first gap among the last ``MARK_WINDOW`` ids whose next row is
        younger than ``gap_final`` (a transaction that may commit yet; the follower waits for it)."""
        last = change_feed.last_id(session)
        first = max(0, last - MARK_WINDOW)
        rows = change_feed.since(session, first, MARK_WINDOW)
        expected, recent = first + 1, time.time() - self.gap_final
        for row in rows:
            if row.id != expected and row.at.timestamp() > recent:
                return expected - 1
            expected = row.id + 1
        return last

    def lexical(self) -> LexicalIndex:
        """BM25 over the passages of the latest saved index.

        Updated from the one held, not rebuilt (issue #29: 5.4 s per change at 100k passages):
        the passages the index gained or lost since (compared by chunk id and text, so a rewrite
        by another process counts as well as this process's own) are added to and removed from a
        :meth:`LexicalIndex.copy`, which is then published; a search holding the previous one
        keeps it unchanged. Built afresh when there is none yet or when more than
        ``LEXICAL_REBUILD_SHARE`` of the passages changed."""
        with self._lock:
            self.index()  # notices a rewrite by another process
            if self._lexical is None or self._lexical[0] != self._stamp:
                # Only passages the index holds: another process may have written the texts of
                # its next save already, and every BM25 hit must have a vector to score.
                held = self._index.ids()
                saved = self._saved_texts
                texts = saved[1] if saved is not None and saved[0] == self._stamp else self.read_texts()
                self._saved_texts = None
                previous = self._lexical[1] if self._lexical is not None else None
                self._lexical = (self._stamp, updated_lexical(previous, held, texts))
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

    def apply(self, *, add: dict[int, str] | None = None, remove: list[int] | None = None,
              vectors: dict[int, np.ndarray] | None = None, feed: int | None = None,
              quantizer: np.ndarray | None = None) -> None:
        """Add passages ``add`` (chunk id -> text) with their ``vectors`` (chunk id -> vector;
        those missing are embedded), drop chunk ids ``remove``, save (``feed``: see :meth:`save`).
        ``quantizer``: trained IVF lists to use if the index turns approximate now
        (:attr:`kb.index.VectorIndex.quantizer`).

        If the saved vectors are another encoder's, every passage is embedded again instead."""
        add = add or {}
        if self.rebuilding is not None and self.stale_reason():
            # This process is embedding every passage again; it reads the passages from the
            # database (which already holds this change) when it saves the new index.
            return
        known = vectors or {}
        todo = [cid for cid in add if cid not in known]
        if todo:
            known = {**known, **dict(zip(todo, self.encoder.encode([add[cid] for cid in todo])))}
        with self.locked():
            index = self.index().copy()  # searches under way keep the published one
            index.quantizer = quantizer
            texts = self._texts_locked()
            for cid in remove or []:
                texts.pop(cid, None)
            texts.update(add)
            stale = self.stale_reason()
            if stale:
                log.warning("%s: embedding all %d passages again", stale, len(texts))
                index = self._rebuilder.fresh_index(texts, quantizer=quantizer)
            else:
                beside = self._lexical_beside(index, add, remove or [], texts) if len(add) >= LEXICAL_BESIDE else None
                if remove:
                    index.remove(remove)
                if add:
                    index.add(list(add.keys()), np.stack([known[cid] for cid in add]))
            self.save(index, texts, feed=feed)
            if not stale and beside is not None:
                thread, held, built = beside
                thread.join()
                if "lexical" in built and self._index.ids() == held:
                    self._lexical, self._saved_texts = (self._stamp, built["lexical"]), None

    def _lexical_beside(self, index: VectorIndex, add: dict[int, str], remove: list[int], texts: dict[int, str]):
        """Start building the BM25 index of the passages a large write leaves on a thread beside
        the write's faiss work (which releases the GIL: a fresh replica's 100k vectors take
        seconds to assign to their lists), so that the first search finds it ready. The thread,
        the chunk ids it indexes, and a dict that gets the index under "lexical"."""
        held = (index.ids() - set(remove)) | set(add)
        previous = self._lexical[1] if self._lexical is not None else None
        built: dict = {}

        def build() -> None:
            built["lexical"] = updated_lexical(previous, held, texts)

        thread = threading.Thread(target=build, name="bm25-beside", daemon=True)
        thread.start()
        return thread, held, built

    def rebuild_note(self) -> str | None:
        """What a caller should hear while this process embeds the passages again, else None."""
        return self._rebuilder.note()

    def sync(self, *, session: Session) -> dict:
        """Repair drift between the database's chunks and the index, and embed every passage again
        if the index was built with another encoder: :meth:`kb.rebuild.Rebuilder.sync`."""
        self._synced_at = time.monotonic()
        return self._rebuilder.sync(session=session)

    def follow(self, *, force: bool = False) -> dict | None:
        """Bring the index in step with the changes the change feed recorded since this data
        directory last applied it (at most once per ``follow_every`` seconds unless ``force``; one
        thread at a time, the others search the index as it is). Every ``full_sync_every``
        seconds a full :meth:`sync` instead. What changed, or None when nothing was looked at."""
        if self._sessions is None:
            return None
        now = time.monotonic()
        if not force and now - self._followed_at < self.follow_every:
            return None
        if not self._follow_lock.acquire(blocking=False):
            return None
        try:
            self._followed_at = now
            if self.stale_reason():
                return None  # the rebuild for this encoder reads the database itself
            with self._sessions() as session:
                if now - self._synced_at >= self.full_sync_every:
                    return self.sync(session=session)
                return self._follow(session)
        except SQLAlchemyError as exc:  # the database does not answer: search what is held
            log.warning("following the change feed failed: %s", exc)
            return None
        finally:
            self._follow_lock.release()

    def _advance(self, applied: int, ids: list[int]) -> int:
        """The highest id up to which the feed is complete, given the ``ids`` read after
        ``applied``: a missing id stops it until it appears or has been missing ``gap_final``
        seconds (rolled back)."""
        now, stop = time.monotonic(), None
        expected = applied + 1
        for fid in ids:
            for gap in range(expected, fid):
                seen = self._gaps.setdefault(gap, now)
                if stop is None and now - seen < self.gap_final:
                    stop = gap - 1
            expected = fid + 1
        done = expected - 1 if stop is None else stop
        self._gaps = {gap: seen for gap, seen in self._gaps.items() if gap > done}
        return done

    def _follow(self, session: Session) -> dict:
        """Apply the feed's rows after the saved id (under the locks, so a write of this data
        directory and the follower never undo each other)."""
        added = removed = 0
        with self.locked():
            applied = self.feed_applied()
            while True:
                rows = change_feed.since(session, applied, FEED_BATCH)
                if not rows:
                    break
                done = self._advance(applied, [row.id for row in rows])
                affected = {int(row.key) for row in rows if row.kind in (CHUNK_ADDED, CHUNK_REMOVED)}
                n_add, n_remove = self._reconcile(session, affected, feed=done)
                added, removed = added + n_add, removed + n_remove
                if done == applied or done < rows[-1].id or len(rows) < FEED_BATCH:
                    break
                applied = done
        return {"added": added, "removed": removed, "feed": self.feed_applied()}

    def _reconcile(self, session: Session, chunk_ids: set[int], *, feed: int) -> tuple[int, int]:
        """Make the index hold exactly the database's passages among ``chunk_ids`` (with the
        stored vectors; a passage without one is embedded and its vector stored), and record
        ``feed``. Idempotent. Call with the locks held."""
        rows = chunk_texts(session, chunk_ids) if chunk_ids else {}
        index = self.index()
        held = index.ids() if chunk_ids else set()
        texts = self._texts_locked() if chunk_ids else {}
        add = {cid: text for cid, text in rows.items() if cid not in held or texts.get(cid) != text}
        remove = [cid for cid in chunk_ids if cid not in rows and cid in held]
        if not add and not remove:
            if feed != self.feed_applied():
                self._write_meta(index.dim, feed)
            return 0, 0
        name = self.encoder.name
        vectors = read_vectors(session, name, add)
        todo = [cid for cid in add if cid not in vectors]
        if todo:  # written by a process that did not store vectors (or with another encoder)
            fresh = dict(zip(todo, self.encoder.encode([add[cid] for cid in todo])))
            store_vectors(session, name, fresh)
            vectors.update(fresh)
        index = index.copy()  # searches under way keep the published one
        for cid in remove:
            texts.pop(cid, None)
        texts.update(add)
        if remove:
            index.remove(remove)
        if add:
            index.add(list(add), np.stack([vectors[cid] for cid in add]))
        self.save(index, texts, feed=feed)
        return len(add), len(remove)

    def snapshot(self) -> tuple[VectorIndex, LexicalIndex]:
        """The latest index and the BM25 index of the same passages, for a search that must see
        one state throughout: published indexes are never changed (writers publish a changed
        copy), so an article edited meanwhile cannot remove a passage from under the search.
        NotReady while the index holds another encoder's vectors. Follows the change feed first
        (:meth:`follow`)."""
        self.follow()
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
