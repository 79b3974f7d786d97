"""Named locks held in the database, so that actions on shared state (activating a model version,
revoking API keys) run one at a time across threads, processes and machines on one database.

:func:`serialise` writes the lock's row as the first write of the caller's transaction: on
PostgreSQL that takes the row's lock, on SQLite the database's write lock. A second caller waits
until the first commits or rolls back, then reads what the first wrote (read committed on
PostgreSQL; on SQLite reads before a transaction's first write see the newest data). Callers must
re-read what they decide on after taking the lock, not before.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base, upsert, utcnow

ACTIVATION = "activation"  # which model version serves
API_KEYS = "api_keys"  # revoking keys (never leave no admin key)


class ServiceLock(Base):
    __tablename__ = "service_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


def serialise(session: Session, name: str) -> None:
    """Take the lock ``name`` until ``session``'s transaction ends (commit or rollback)."""
    now = utcnow()
    upsert(session, ServiceLock, {"name": name, "taken_at": now}, ["name"], {"taken_at": now})
