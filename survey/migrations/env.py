"""Alembic environment: runs on the engine handed over in ``config.attributes`` (see survey.migrate)."""

from alembic import context

import survey.models  # noqa: F401  (registers every table on the metadata)
from survey.db import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
