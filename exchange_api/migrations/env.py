"""Alembic environment: runs on the connection handed over by `exchange_api.core.db.migrate`."""

from __future__ import annotations

from alembic import context

from exchange_api.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the package always hands a connection over
    raise RuntimeError("run migrations through exchange_api.core.db.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
