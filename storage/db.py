"""Engine and session factory.

SQLite is the embedded default: WAL so readers do not block the single writer, a busy
timeout so concurrent writers wait instead of failing, and foreign keys switched on
(SQLite leaves them off). PostgreSQL is production and the coordination engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlmodel import Session, create_engine

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long an SQLite writer waits for the write lock before giving up, and how often
#: it asks.
SQLITE_BUSY_MS = 30_000
SQLITE_RETRY_SECONDS = 0.002


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # The driver's timeout is SQLite's busy timeout (`sqlite_promptly` lowers it briefly).
        wait = SQLITE_BUSY_MS / 1000
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": wait}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine.pool, "checkout", _ping_if_idle)
    return engine


#: A pooled PostgreSQL connection unused for longer than this is checked before use.
PING_AFTER_IDLE_SECONDS = 2.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Check a connection that sat idle before handing it out (the server may have been
    restarted, or a firewall dropped the socket); a failed check makes the pool connect
    afresh. Unlike `pool_pre_ping`, a connection in steady use is not pinged on every
    checkout: that was three extra round trips per inbound message under load. A busy
    connection broken by a restart fails its statement instead, and the few callers
    that must not fail (storing a webhook, answering) try once more (`retry_once`)."""
    checked_in = record.info.get("checked_in_at")
    if checked_in is not None and time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()  # hand it out outside any transaction, as it came
    except Exception as exc:
        raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


def retry_once(action: Callable[[], T]) -> T:
    """Run `action`; if the database connection under it turned out to be dead (so the
    pool has been cleared), run it once more on a fresh one. For idempotent work only."""
    try:
        return action()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("database connection was lost; trying once more on a new one")
        return action()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN: two read-then-write transactions cannot deadlock.

    With a deferred BEGIN both would read, then both try to upgrade to a write lock and
    one fails with "database is locked" despite the busy timeout. An autocommit
    connection has no transaction to begin: each statement is its own.
    """
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_promptly(connection: Connection, attempt: Callable[[], T]) -> T:
    """Run `attempt` (which needs SQLite's write lock) soon after the lock is free.

    Left to SQLite's busy handler, a writer that finds the lock taken sleeps 1, 2, 5,
    10, 15, 20, 25... ms between tries, so under load it keeps missing the short gaps
    between other writers' transactions (a webhook's store waited up to 200 ms behind
    answers). Here it tries again every 2 ms, for up to the usual 30 s. Only
    for the few writes someone is waiting on: with every transaction polling like this
    (tried), the pollers crowd each other out and answers fell seconds behind; polling
    every 0.5 ms (tried) let stores starve the answers instead.
    """
    deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                return attempt()
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                    raise
            time.sleep(SQLITE_RETRY_SECONDS)
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


class Database:
    """Holds the engine; one per process, passed explicitly (no module-level singleton)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection where each statement commits on its own: one round trip for a
        single-statement write (storing an inbound message) instead of three, and on
        SQLite the write lock is held for that statement only. Reads on it see what is
        committed when each runs, as PostgreSQL's READ COMMITTED, and take no lock."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    def write_now(self, statement: Callable[[Connection], T]) -> T:
        """Run one autocommitted write that someone is waiting for (a webhook's store);
        on SQLite it takes the write lock the moment it is free (`sqlite_promptly`)."""
        with self.autocommit() as connection:
            if self.dialect != "sqlite":
                return statement(connection)
            return sqlite_promptly(connection, lambda: statement(connection))

    def ping(self) -> None:
        """One round trip to the database; raises when it cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
