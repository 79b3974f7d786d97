"""The change feed: a monotonic sequence of changes that every replica on the database follows.

A writer records one row per changed thing **in the same transaction as the change**, so a row
exists exactly when its change committed. Replicas (processes with their own data directory, on
this machine or another) read the rows after the last id they applied (:func:`since`) and bring
their local caches in step with the database; a row says *what* changed, the database says what
it is now, so applying a row twice, or out of order, does no harm.

Kinds (``kind``; ``key`` is the changed thing's id as text):

- ``chunk_added``, ``chunk_removed``: an article passage (``chunks.id``) written or deleted
  (kb/service.py); the passage index follows them (kb/store.py).

- ``activation``: a model version (``model_versions.id``) made the active one (models/registry.py);
- ``routing``: a routing rule set or removed (key: ``part/label``; triage/routing.py);
- ``rejection``: an agent rejected a suggested article (key: the feedback event; triage/feedback.py);
- ``erasure``: tickets erased (key: the erasure's id; triage/erasure.py);
- ``priority_settings``: the desk's label order or the impact x urgency matrix changed.
- ``sla``: an SLA policy set or removed (key: ``plan/priority``; triage/sla.py).

A follower skips kinds it does not know. On PostgreSQL each :func:`record` also NOTIFYs
:data:`CHANNEL` (delivered when the transaction commits), and every serving process LISTENs
(:class:`Listener`): the passage index follows and the engine looks at the active version, the
rules and the rejections at once, rather than at their next poll (1 s and 2 s), which stays the
safety net.

Ids are assigned when a row is inserted but rows commit in another order (on PostgreSQL two
transactions interleave; a rolled-back one leaves a hole for ever), so a follower that sees a gap
must not assume the ids below the highest it saw are all there: kb/store.py waits a few seconds
for a gap to fill before treating it as rolled back.

This module is in the bottom layer: it knows no table but its own.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import Integer, String, delete, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base, utcnow

log = logging.getLogger("kbtriage.changes")


class ChangeFeedRow(Base):
    __tablename__ = "change_feed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # the sequence
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)


def record(session: Session, kind: str, keys: Iterable) -> None:
    """Add a ``kind`` row for each of ``keys`` to ``session``'s transaction (committed with it)."""
    now = utcnow()
    rows = [{"kind": kind, "key": str(key), "at": now} for key in keys]
    if rows:
        session.execute(insert(ChangeFeedRow), rows)
        notify(session, kind)


def since(session: Session, after_id: int, limit: int = 5000) -> list[ChangeFeedRow]:
    """The committed rows with an id above ``after_id``, in id order, at most ``limit``."""
    return list(session.scalars(select(ChangeFeedRow).where(ChangeFeedRow.id > after_id)
                                .order_by(ChangeFeedRow.id).limit(limit)))


KEEP = timedelta(days=7)  # feed rows kept; a replica further behind (down for longer) syncs in full at start


def prune(*, session: Session, keep: timedelta = KEEP) -> int:
    """Delete the rows older than ``keep`` (the workers do, hourly), leaving the newest row
    whatever its age, so that the sequence goes on from it; returns the rows deleted.

    Safe for followers: every serving process follows the feed within seconds, and one that was
    down past ``keep`` compares its whole index with the database when it starts (and every few
    minutes), which brings back what the deleted rows said."""
    newest = last_id(session)
    deleted = session.execute(delete(ChangeFeedRow).where(ChangeFeedRow.at < utcnow() - keep,
                                                          ChangeFeedRow.id < newest)).rowcount
    session.commit()
    return deleted


def last_id(session: Session) -> int:
    """The highest id committed so far (0 for an empty feed)."""
    return session.scalar(select(func.max(ChangeFeedRow.id))) or 0


# ------------------------------------------------------------------------------ promptness (PostgreSQL)

CHANNEL = "kbtriage_changes"  # NOTIFY channel: a change committed somewhere, look at the feed now


def notify(session: Session, kind: str) -> None:
    """Wake the listeners of every process on the database when ``session``'s transaction commits
    (PostgreSQL's NOTIFY is transactional: nothing is sent if it rolls back). A no-op on SQLite,
    where processes on the one machine poll."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :kind)"), {"channel": CHANNEL, "kind": kind})


class Listener:
    """LISTENs on :data:`CHANNEL` on its own connection, on a daemon thread, and calls every
    callback with the kinds notified (a burst at once) as changes commit anywhere on the database: what makes
    a replica see a change at once rather than at its next poll. Polling stays the safety net: a
    lost connection is retried every ``retry`` seconds, and while it is down nothing is missed,
    only seen later."""

    def __init__(self, url: str, callbacks: list[Callable[[set[str]], object]], retry: float = 2.0):
        self.url, self.callbacks, self.retry = url, callbacks, retry
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.connections = 0  # how many times it connected (and LISTENed)
        self._thread = threading.Thread(target=self._run, name="kbtriage-change-listener", daemon=True)

    @classmethod
    def for_engine(cls, engine, callbacks) -> "Listener | None":
        """A started listener for a PostgreSQL engine; None on another database."""
        if engine.dialect.name != "postgresql":
            return None
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        listener = cls(url, callbacks)
        listener._thread.start()
        return listener

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connections += 1
                    self.connected.set()
                    while not self._stop.is_set():
                        kinds = {n.payload for n in conn.notifies(timeout=1.0, stop_after=1)}
                        if not kinds:
                            continue
                        kinds |= {n.payload for n in conn.notifies(timeout=0.02)}  # a burst, handled once
                        for callback in self.callbacks:
                            try:
                                callback(kinds)
                            except Exception:  # noqa: BLE001 - one callback must not stop the others
                                log.exception("change listener callback failed")
            except Exception as exc:  # noqa: BLE001 - the database away: poll meanwhile, retry
                self.connected.clear()
                log.warning("listening for changes failed (%s); polling meanwhile, retrying in %.0f s",
                            exc, self.retry)
                self._stop.wait(self.retry)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
