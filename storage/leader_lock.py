"""The scheduler's leader lock: a PostgreSQL session-level advisory lock.

Held on a dedicated connection (never pooled, never in a transaction, with TCP
keepalives so a vanished host frees it in about 25 s); on SQLite there is one process
and it always leads.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: The advisory lock's key: any fixed 64-bit number, the same in every instance.
PLANNER_LOCK_KEY = 0x646F6F7273746570  # "doorstep"
#: Server-side keepalives on the lock's connection: a vanished host frees the lock in ~25 s.
_KEEPALIVE_OPTIONS = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
)


class LeaderLock:
    """Leadership of the planner, held as a PostgreSQL session-level advisory lock.

    The lock lives as long as the connection, so the connection is dedicated (never
    returned to a pool, never in a transaction) and checked on every `check()`; if it
    has broken, leadership is given up at once and sought again on the next check.
    """

    def __init__(self, url: str, *, key: int = PLANNER_LOCK_KEY) -> None:
        self.url = url
        self.key = key
        self.always = make_url(url).get_backend_name() != "postgresql"
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        return self.always or self._connection is not None

    def check(self) -> bool:
        """Keep or try to take the lock; True while this instance is the leader."""
        if self.always:
            return True
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("leader lock connection lost; leadership given up")
                self._drop()
        try:
            connection = self._engine_for().connect()
            got = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar()
            )
        except DBAPIError as exc:
            log.warning("leader election failed: %s", exc.__class__.__name__)
            return False
        if not got:
            connection.close()
            return False
        self._connection = connection
        log.info("became the scheduler leader")
        return True

    def release(self) -> None:
        if self._connection is not None:
            # If the connection is gone, the lock went with it.
            with contextlib.suppress(DBAPIError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._drop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _engine_for(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(
                self.url,
                poolclass=NullPool,
                isolation_level="AUTOCOMMIT",
                connect_args={
                    "application_name": "doorstep-scheduler-leader",
                    "options": _KEEPALIVE_OPTIONS,
                    "keepalives": 1,
                    "keepalives_idle": 10,
                    "keepalives_interval": 5,
                    "keepalives_count": 3,
                },
            )
        return self._engine

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.close()
