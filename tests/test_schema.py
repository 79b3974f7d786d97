"""The migrations build exactly the schema the table classes declare."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from application.schema import metadata


def test_migrations_match_the_table_classes(runtime):
    with runtime.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata())
    assert diff == []
