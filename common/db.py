"""Database plumbing: declarative base, column types, engine and session factory. The schema itself
(every domain's tables and the Alembic migrations) is assembled in application/schema.py."""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from common.errors import ValidationError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def upsert(session: Session, model, values: dict, keys: list[str], update: dict) -> None:
    """INSERT ``values`` into ``model``'s table, or where a row with the same ``keys`` exists,
    UPDATE it with ``update``: one statement, so callers racing on one key leave one row."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_update(index_elements=keys, set_=update))


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every engine (SQLite drops the zone; put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value)

    def process_result_value(self, value, dialect):
        return as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSON, list: JSON, datetime: UTCDateTime()}


CONNECT_TIMEOUT = 3  # seconds to reach the database (or a pooled connection) before giving up
# A pooled connection idle this long is pinged before use (a dead one is replaced unseen). One in
# steady use is not: a ping is a round trip on every checkout, and a connection that died since its
# last use fails its request with a 503 and has the pool replace every connection it held.
PING_AFTER_IDLE_SECONDS = 1.0
MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL; larger ids cannot exist


def valid_id(value: int) -> bool:
    """Whether ``value`` can be a primary key at all (so lookups never overflow the driver)."""
    return isinstance(value, int) and 0 < value <= MAX_ID


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout for concurrent writers."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    connect_args = {}
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
        # A database that does not answer fails a request within seconds (503), not after minutes.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    try:
        engine = create_engine(url, pool_timeout=CONNECT_TIMEOUT, connect_args=connect_args)
    except ModuleNotFoundError as exc:
        raise ValidationError(f"DATABASE_URL names a {url.split(':', 1)[0]} database, but its driver "
                              f"{exc.name!r} is not installed (pip install it into kb-triage's environment)",
                              field="DATABASE_URL") from None
    except ArgumentError as exc:
        raise ValidationError(f"DATABASE_URL is not a database address SQLAlchemy understands: {exc}",
                              field="DATABASE_URL") from None
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections idle ``PING_AFTER_IDLE_SECONDS`` or more
    only (a checkout listener that raises DisconnectionError has the pool connect anew)."""
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection found dead: {exc}") from exc


class Database:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
