"""Fresh demo worlds for the reliability tests, many per test and cheap.

A property test runs dozens of examples inside one pytest test, so the function-scoped
`demo_db` fixture (one database per test) is not enough: each example needs a world of
its own. On SQLite a world is a file copy of a template that was migrated and loaded
once per session; on PostgreSQL it is the session's database emptied and reloaded.

The demo is loaded at a few starting moments, so that the clock moves of a property test
cross both 2026 clock changes (29 March, 25 October) with visits on either side.
"""

from __future__ import annotations

import itertools
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from bot.app import create_app
from bot.cli.demo import load_demo
from bot.common.clock import FixedClock
from bot.common.flowset import default_flows
from bot.inbound.pipeline import Pipeline
from bot.settings import load_settings
from flows.windows import LONDON
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.migrate import upgrade

#: Friday mornings before each clock change, and tests/conftest.py's winter Monday.
STARTS = (
    datetime(2026, 3, 27, 9, 0, tzinfo=UTC),
    datetime(2026, 10, 23, 8, 0, tzinfo=UTC),
    datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
)


@dataclass(frozen=True, slots=True)
class Worlds:
    """Where a property test gets a fresh world: `make(start)` for one of `starts`."""

    starts: tuple[datetime, ...]
    make: Callable[[datetime], Database]


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[datetime, Path]:
    """One migrated SQLite file with the demo loaded per starting moment."""
    folder = tmp_path_factory.mktemp("demo-templates")
    templates = {}
    for start in STARTS:
        path = folder / f"demo-{start:%Y%m%d}.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        db = Database(url)
        assert load_demo(db, now=start)
        db.dispose()  # the last connection closing folds the WAL back into the file
        templates[start] = path
    return templates


@pytest.fixture
def sqlite_worlds(demo_templates: dict[datetime, Path], tmp_path: Path) -> Iterator[Worlds]:
    """Make a new demo database per call (per hypothesis example), each its own file."""
    counter = itertools.count()
    opened: list[Database] = []

    def make(start: datetime) -> Database:
        path = tmp_path / f"world-{next(counter)}.sqlite3"
        shutil.copyfile(demo_templates[start], path)
        db = Database(f"sqlite:///{path}")
        opened.append(db)
        return db

    yield Worlds(STARTS, make)
    for db in opened:
        db.dispose()


@pytest.fixture
def postgres_worlds(postgres_database_url: str) -> Iterator[Worlds]:
    """The session's PostgreSQL database, emptied and reloaded with the demo per call."""
    opened: list[Database] = []

    def make(start: datetime) -> Database:
        engine = create_engine(postgres_database_url)
        with engine.begin() as connection:
            for table in reversed(SQLModel.metadata.sorted_tables):
                connection.execute(table.delete())
        engine.dispose()
        db = Database(postgres_database_url)
        assert load_demo(db, now=start)
        opened.append(db)
        return db

    yield Worlds(STARTS, make)
    for db in opened:
        db.dispose()


@pytest.fixture
def pipeline(demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter) -> Pipeline:
    """The real pipeline on the demo data, for channels whose replies go to the outbox."""
    return Pipeline(
        db=demo_db,
        interpreter=interpreter,
        flows=default_flows(),
        clock=clock,
        zone=LONDON,
        rng=random.Random(7),
    )


@pytest.fixture
def roomy_client(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter
) -> Iterator[TestClient]:
    """The app as in tests/conftest.py's `client`, with the per-sender flood limit off:
    bad-input tests send many odd messages from one phone, and the limit is not under test."""
    settings = load_settings(
        database_url=demo_db.url,
        simulator=True,
        scheduler_in_process=False,
        webhook_rate_per_minute=0,
    )
    app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
    with TestClient(app) as test_client:
        yield test_client
