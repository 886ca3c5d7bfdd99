"""Alembic environment: run by shared.store.migrate with a connection in config.attributes."""
from alembic import context

from shared.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
