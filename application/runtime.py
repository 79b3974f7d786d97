"""Wires settings to the long-lived parts (database, encoder, index, engine), each built lazily
so that the CLI starts fast and the encoder loads once per process."""
from __future__ import annotations

from functools import cached_property

from sqlalchemy.exc import SQLAlchemyError

from application import schema
from common import change_feed, config
from common.config import Settings
from common.db import Database
from kb.store import CHUNK_ADDED, CHUNK_REMOVED, IndexStore
from models import registry
from models.encoder import CachedEncoder, follow_erasures, load_encoder
from triage.engine import TriageEngine
from triage.surges import erasure_mark

PASSAGE_CHANGES = frozenset({CHUNK_ADDED, CHUNK_REMOVED})
NO_ACTIVE_VERSION = "no model version is active: every ticket goes to review; train one (kbtriage train) or activate one"


class Runtime:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or config.load()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.resolved_database_url())
        self._listener: change_feed.Listener | None | bool = None

    def start(self) -> "Runtime":
        """Upgrade the schema to the newest migration."""
        schema.upgrade(self.db.engine)
        return self

    @property
    def encoder(self):
        """The encoder of tickets and search queries (cut at ``ticket_max_tokens``)."""
        s = self.settings
        return load_encoder(s.encoder, s.encoder_backend, s.encoder_cache, max_tokens=s.ticket_max_tokens or None,
                            threads=s.encoder_threads or None)

    @property
    def passage_encoder(self):
        """The encoder of article passages: the same model, up to its own token limit."""
        s = self.settings
        return load_encoder(s.encoder, s.encoder_backend, s.encoder_cache, threads=s.encoder_threads or None)

    @cached_property
    def cached_encoder(self) -> CachedEncoder:
        return CachedEncoder(self.encoder, self._embedding_cache)

    @cached_property
    def cached_passage_encoder(self) -> CachedEncoder:
        """The passage encoder behind the same content-keyed cache (its entries are told apart by
        the encoder's name, which includes the token limit), so passages that were embedded once
        by this encoder are not embedded again: after a crash, a re-import of unchanged articles,
        or a switch back to an earlier encoder."""
        return CachedEncoder(self.passage_encoder, self._embedding_cache)

    @property
    def _embedding_cache(self):
        return self.settings.home / "cache" / "embeddings.sqlite"

    @cached_property
    def store(self) -> IndexStore:
        return IndexStore(self.settings.index_dir / "passages.faiss", lambda: self.cached_passage_encoder,
                          self.db.session)

    @cached_property
    def engine(self) -> TriageEngine:
        engine = TriageEngine(db=self.db, store=self.store, encoder_factory=lambda: self.encoder,
                              settings=self.settings)
        engine.on_erasure = self.follow_erasures
        return engine

    def listen(self) -> None:
        """On PostgreSQL, follow other processes' changes as they commit (a LISTEN on the change
        feed's channel, on a thread): the passage index follows article changes and the engine
        looks at the active version, rules, rejections and erasures at once, rather than at
        their next poll. Once per runtime; a no-op on SQLite."""
        if self._listener is None:
            self._listener = change_feed.Listener.for_engine(self.db.engine, [self._changed]) or False

    def _changed(self, kinds: set[str]) -> None:
        if kinds & PASSAGE_CHANGES:
            self.store.follow(force=True)
        if kinds - PASSAGE_CHANGES:
            self.engine.invalidate()

    def follow_erasures(self, mark: int | None = None) -> int:
        """Drop this machine's cached vectors if tickets were erased on another machine since the
        cache last looked (:func:`models.encoder.follow_erasures`): with the newest erasure's id
        ``mark`` when the engine sees it change, else read here (a worker, before training)."""
        if mark is None:
            with self.db.session() as session:
                mark = erasure_mark(session)
        return follow_erasures(self._embedding_cache, mark)

    def problems(self) -> list[str]:
        """Why the service is degraded (empty when it is not): an active model version trained with
        another encoder, or an article index of another encoder (with the progress while it is
        embedded again)."""
        self.engine.current()
        return [p for p in (self.engine.model_problem, self.store.rebuild_note() or self.store.stale_reason()) if p]

    def readiness(self) -> list[str]:
        """Why a load balancer should not send requests here yet (empty when ready): the database
        does not answer, no model version is active, or :meth:`problems`."""
        try:
            with self.db.session() as session:
                active = registry.active(session=session)
        except SQLAlchemyError as exc:
            return [f"the database does not answer: {str(getattr(exc, 'orig', None) or exc).strip().splitlines()[0]}"]
        reasons = [] if active else [NO_ACTIVE_VERSION]
        return reasons + self.problems()

    def close(self) -> None:
        if self._listener:
            self._listener.stop()
        self.db.dispose()
