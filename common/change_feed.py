"""The change feed: a monotonic sequence of changes that every replica on the database follows.

A writer records one row per changed thing **in the same transaction as the change**, so a row
exists exactly when its change committed. Replicas (processes with their own data directory, on
this machine or another) read the rows after the last id they applied (:func:`since`) and bring
their local caches in step with the database; a row says *what* changed, the database says what
it is now, so applying a row twice, or out of order, does no harm.

Kinds (``kind``; ``key`` is the changed thing's id as text):

- ``chunk_added``, ``chunk_removed``: an article passage (``chunks.id``) written or deleted
  (kb/service.py); the passage index follows them (kb/store.py).

Other domains add their own kinds (a model version activated, a ticket erased...): a follower
skips kinds it does not know.

Ids are assigned when a row is inserted but rows commit in another order (on PostgreSQL two
transactions interleave; a rolled-back one leaves a hole for ever), so a follower that sees a gap
must not assume the ids below the highest it saw are all there: kb/store.py waits a few seconds
for a gap to fill before treating it as rolled back.

This module is in the bottom layer: it knows no table but its own.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base, utcnow


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


def since(session: Session, after_id: int, limit: int = 5000) -> list[ChangeFeedRow]:
    """The committed rows with an id above ``after_id``, in id order, at most ``limit``."""
    return list(session.scalars(select(ChangeFeedRow).where(ChangeFeedRow.id > after_id)
                                .order_by(ChangeFeedRow.id).limit(limit)))


def last_id(session: Session) -> int:
    """The highest id committed so far (0 for an empty feed)."""
    return session.scalar(select(func.max(ChangeFeedRow.id))) or 0
