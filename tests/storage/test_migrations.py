from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import current_revision, downgrade, head_revision, upgrade


def test_migrations_from_empty_build_every_table(database_url: str) -> None:
    # the fixture already upgraded from empty; prove it by going down and up again
    assert current_revision(database_url) == head_revision()
    downgrade(database_url, "base")
    db = Database(database_url)
    try:
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(database_url)
        tables = set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert current_revision(database_url) == head_revision()


def test_migrations_match_the_models(database_url: str) -> None:
    """A model change without a migration would fail here, on both databases."""
    db = Database(database_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        db.dispose()
    assert diff == []
