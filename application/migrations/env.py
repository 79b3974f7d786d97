"""Alembic environment: runs migrations on the connection handed over by application.schema.upgrade."""
from alembic import context

from application.schema import metadata

target_metadata = metadata()
config = context.config
connection = config.attributes.get("connection")
if connection is None:  # invoked from the alembic command line
    from common import config as settings_module
    from common.db import make_engine

    connection = make_engine(settings_module.load().resolved_database_url()).connect()

context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
