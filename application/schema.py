"""The whole database schema: every domain's tables, and upgrades through Alembic migrations."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from common.db import Base

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


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
