"""The migrations build exactly the schema the models describe (no table or column drifts apart)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import exchange_api.audit._models
import exchange_api.models_certificates
import exchange_api.models_console
import exchange_api.models_jobs
from exchange_api.core.db import make_engine, migrate
from exchange_api.models import Base

# Imported for their side effect: each module registers its tables on Base.metadata.
MODEL_MODULES = (
    exchange_api.audit._models,
    exchange_api.models_certificates,
    exchange_api.models_console,
    exchange_api.models_jobs,
)


def test_migrations_match_the_models(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/drift.db")
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
