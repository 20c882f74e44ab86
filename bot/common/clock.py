"""Clocks for the edge: the wall clock in production, a movable one for the simulator."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Wall clock plus an offset that the simulator API can move; thread-safe.

    An offset (rather than a frozen instant) keeps time flowing between requests, so
    the simulator behaves like a real day unless someone moves it.
    """

    def __init__(self, base: SystemClock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._base.now() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        return self.now()

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("the simulator clock needs a time with a zone, e.g. 2026-12-01T09:00Z")
        with self._lock:
            self._offset = moment - self._base.now()
        return self.now()


class FixedClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = moment

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = moment
        return self._now
