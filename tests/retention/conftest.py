"""Retention tests run on SQLite unless the behaviour is the database's (a test asks for
`database_url` or `both` then)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import Database


@pytest.fixture
def lite(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty SQLite database."""
    path = tmp_path / "doorstep.sqlite3"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()
