"""SQLite's single writer: a store someone is waiting for gets the lock soon after it
is free, and the connection is left as it was found."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.db import SQLITE_BUSY_MS, Database
from storage.migrate import upgrade


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'doorstep.sqlite3'}"
    upgrade(url)
    return Database(url)


def _hold_write_lock(db: Database, seconds: float, taken: threading.Event) -> None:
    with db.session() as session:
        session.execute(text("UPDATE landlords SET name = name"))  # any write: lock held
        taken.set()
        time.sleep(seconds)


def test_a_waiting_store_gets_the_lock_soon_after_it_is_free(sqlite_db: Database) -> None:
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(sqlite_db, 0.3, taken))
    holder.start()
    assert taken.wait(5)
    started = time.monotonic()

    def store(connection: object) -> int:
        result = connection.exec_driver_sql(  # type: ignore[attr-defined]
            "INSERT INTO landlords (reference, name, phone, emergency_phone, contact_hours, "
            "visit_windows, code_of_conduct_text, code_of_conduct_url, compensation_policy, "
            "created_at) VALUES ('waiting', 'Waiting Homes', '0300', '0800', '{}', '{}', '', "
            "'', '', "
            "'2026-11-24 09:00:00') RETURNING id"
        )
        return int(result.scalar_one())

    new_id = sqlite_db.write_now(store)
    waited = time.monotonic() - started
    holder.join()
    assert 0.2 < waited < 1.0  # it waited for the holder, then got in promptly
    with sqlite_db.session() as session:
        names = session.execute(text("SELECT name FROM landlords WHERE id = :i"), {"i": new_id})
        assert names.scalar_one() == "Waiting Homes"
        timeout = session.execute(text("PRAGMA busy_timeout")).scalar_one()
    assert timeout == SQLITE_BUSY_MS  # the pooled connection is back to normal


def test_other_database_errors_are_not_retried(sqlite_db: Database) -> None:
    calls = []

    def broken(connection: object) -> None:
        calls.append(1)
        connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")  # type: ignore[attr-defined]

    with pytest.raises(OperationalError, match="no such table"):
        sqlite_db.write_now(broken)
    assert len(calls) == 1
