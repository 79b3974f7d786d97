"""The whole database schema: every domain's tables, and upgrades through Alembic migrations."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from common.db import Base
from common.files import file_lock

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def metadata() -> MetaData:
    """The metadata of every table, once each domain's table module is imported."""
    import application.access  # noqa: F401
    import common.change_feed  # noqa: F401
    import common.locks  # noqa: F401
    import kb.tables  # noqa: F401
    import models.tables  # noqa: F401
    import triage.tables  # noqa: F401

    return Base.metadata


# PostgreSQL advisory lock key held while migrating: replicas starting at once migrate one at a time.
UPGRADE_LOCK = 0x6B627472  # 'kbtr'


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database).

    Several processes may start at once on one database (replicas of a new release): on
    PostgreSQL each takes a transaction-level advisory lock first, so one migrates and the others,
    waiting, find the schema current; on SQLite a lock file beside the database does the same."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with _one_at_a_time(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def _one_at_a_time(engine: Engine):
    """On SQLite (one machine), a lock file beside the database: a second process starting at the
    same moment would otherwise find the tables half created ('table ... already exists')."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with file_lock(f"{database}.migrate.lock"):
        yield
