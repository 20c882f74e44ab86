"""Shared fixtures: real databases (SQLite and PostgreSQL), an injected clock, the app.

PostgreSQL tests skip with a reason on a laptop without a server, and fail in CI
(CI=true), where `.ci/run` makes sure the server is running.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from bot.app import create_app
from bot.cli.demo import load_demo
from bot.common.clock import FixedClock
from bot.settings import load_settings
from mandatory import unavailable
from nlu.builtin import BuiltinInterpreter
from simphone import Phone
from storage.db import Database
from storage.migrate import upgrade

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: A Monday morning in winter (GMT), far from the clock changes.
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(str(host)):
        raise RuntimeError(f"test tried to reach {host}: tests must never leave this machine")
    return _real_connect(self, address)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(autouse=True, scope="session")
def _no_internet() -> Iterator[None]:
    """Any test that tries to reach a non-loopback address fails loudly."""
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get("DOORSTEP_TEST_POSTGRES_URL", DEFAULT_PG)
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError:
        unavailable(f"PostgreSQL is not reachable at {make_url(url).render_as_string()}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped afterwards."""
    name = f"doorstep_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_all_tables(url: str) -> None:
    # DELETE is much faster than TRUNCATE on tables this small.
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy (migrating per test would dominate the run)."""
    path = tmp_path_factory.mktemp("template") / "doorstep.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "doorstep.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = str(request.getfixturevalue("postgres_database_url"))
    _empty_all_tables(url)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_9AM)


@pytest.fixture
def demo_db(db: Database, clock: FixedClock) -> Database:
    assert load_demo(db, now=clock.now())
    return db


@pytest.fixture(scope="session")
def interpreter(tmp_path_factory: pytest.TempPathFactory) -> BuiltinInterpreter:
    """The real built-in interpreter, trained once per test session from nlu/data/nlu.yml."""
    return BuiltinInterpreter.load(cache_dir=tmp_path_factory.mktemp("nlu-cache"))


@pytest.fixture
def client(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter
) -> Iterator[TestClient]:
    """The real app on the demo data, with the clock under the test's control."""
    # Background jobs off: tests run the planner and dispatcher themselves (tests/scheduling).
    settings = load_settings(database_url=demo_db.url, simulator=True, scheduler_in_process=False)
    app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def phone(client: TestClient) -> Phone:
    """Margaret Okafor's phone (demo resident 1)."""
    return Phone(client, "+447400123456")
