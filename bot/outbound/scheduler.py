"""The background jobs: plan, dispatch, reconcile, time conversations out.

APScheduler 3.11's `AsyncIOScheduler` with jobs in memory: every instance adds the same
jobs at start-up, so nothing needs persisting, and the database (the outbox, the
idempotency keys, the advisory lock) is the only shared state.

- **planner** and **timeouts** run on the leader only. On PostgreSQL the leader is the
  instance holding a session-level advisory lock (`pg_try_advisory_lock`) on a dedicated
  connection. Everyone else retries every `leader_every` seconds (15 s), and PostgreSQL
  drops the lock when the holder's connection ends, so a new leader takes over within a
  minute of the old one dying: a crashed process closes its socket at once, and a
  vanished host is noticed by the server's TCP keepalives (set per connection to about
  25 s). On SQLite there is one process, and it is always the leader.
- **dispatcher** and **reconcile** run on every instance: dispatchers share the outbox
  safely (SKIP LOCKED on PostgreSQL).
- Nothing is planned and no conversation is timed out between 01:00 and 03:00 UK time,
  when the clocks change. The dispatcher keeps running (replies go at any hour; the
  policy holds service messages out of that band).

Job options are chosen, not defaulted: `max_instances=1` (a slow run is never overlapped
by the next), `coalesce=True` (runs missed while the loop was busy collapse into one),
and `misfire_grace_time` of one interval (a run more than an interval late is dropped,
because the next is due anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bot.common.metrics import Metrics
from bot.operatives.morning import BriefingStats, send_morning_briefings
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.planning import PlanStats, on_sent, plan
from bot.outbound.sending import Sender
from bot.outbound.sweeps import expire_conversations
from flows.clock import Clock
from flows.engine import FlowRegistry
from flows.local_time import in_quiet_band
from storage.db import Database
from storage.enums import Channel

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

#: The advisory lock's key: any fixed 64-bit number, the same in every instance.
PLANNER_LOCK_KEY = 0x646F6F7273746570  # "doorstep"
LEADER_EVERY = 15.0
RECONCILE_EVERY = 60.0
TIMEOUTS_EVERY = 60.0
#: Operatives' morning briefing, UK wall clock (issue 7).
BRIEFING_AT = time(7, 0)
BRIEFING_UNTIL = time(12, 0)
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


@dataclass(frozen=True, slots=True)
class Intervals:
    plan: float
    dispatch: float
    reconcile: float = RECONCILE_EVERY
    timeouts: float = TIMEOUTS_EVERY
    leader: float = LEADER_EVERY
    recover: float = 60.0


class Scheduler:
    """One instance's background jobs; `start()` inside a running event loop."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        zone: ZoneInfo,
        flows: FlowRegistry,
        senders: Mapping[Channel, Sender],
        intervals: Intervals,
        worker_id: str,
        dispatch: bool = True,
        metrics: Metrics | None = None,
        recover: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self.db = db
        self.recover = recover
        self.clock = clock
        self.zone = zone
        self.flows = flows
        self.intervals = intervals
        self.worker_id = worker_id
        self.leader = LeaderLock(db.url)
        self.dispatcher = (
            Dispatcher(
                db=db,
                senders=senders,
                clock=clock,
                zone=zone,
                worker_id=worker_id,
                on_sent=on_sent,
                metrics=metrics,
            )
            if dispatch
            else None
        )
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def is_leader(self) -> bool:
        return self.leader.held

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        # APScheduler times its triggers on the wall clock; the jobs read the injected one.
        first = datetime.now(UTC)
        jobs: list[tuple[str, Callable[[], Awaitable[Any]], float]] = [
            ("leader", self.leader_job, self.intervals.leader),
            ("planner", self.plan_job, self.intervals.plan),
            ("timeouts", self.timeouts_job, self.intervals.timeouts),
            ("recover", self.recover_job, self.intervals.recover),
        ]
        if self.dispatcher is not None:
            jobs += [
                ("dispatcher", self.dispatch_job, self.intervals.dispatch),
                ("reconcile", self.reconcile_job, self.intervals.reconcile),
            ]
        for offset, (name, job, every) in enumerate(jobs):
            scheduler.add_job(
                _guarded(name, job),
                IntervalTrigger(seconds=every, timezone=UTC),
                id=name,
                name=name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(every)),
                # The leader check first, so the planner's first run already knows.
                next_run_time=first + timedelta(milliseconds=200 * offset),
            )
        # Operatives' morning briefings (issue 7): 07:00 UK, leader only; keyed per day.
        scheduler.add_job(
            _guarded("briefings", self.briefings_job),
            CronTrigger(hour=BRIEFING_AT.hour, minute=BRIEFING_AT.minute, timezone=self.zone),
            id="briefings",
            name="briefings",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started worker=%s jobs=%s", self.worker_id, [j[0] for j in jobs])

    async def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await asyncio.to_thread(self.leader.release)

    # -- the jobs (public so tests can run each one once, on their own clock) ----------

    async def leader_job(self) -> bool:
        return await asyncio.to_thread(self.leader.check)

    async def plan_job(self) -> PlanStats | None:
        now = self.clock.now()
        if not self.leader.held or in_quiet_band(now, self.zone):
            return None
        stats = await asyncio.to_thread(plan, self.db, now=now, zone=self.zone)
        # A scheduler that starts after 07:00 (a deploy, a crash) still briefs operatives
        # that morning; the briefing's key is per operative per day, so this adds nothing
        # when the 07:00 run already did it.
        if BRIEFING_AT <= now.astimezone(self.zone).time() < BRIEFING_UNTIL:
            await self.briefings_job()
        return stats

    async def recover_job(self) -> int:
        """Inbound messages acknowledged but never answered (the database went away
        between the two): answer them now rather than at the next restart."""
        if self.recover is None or not self.leader.held:
            return 0
        return await self.recover()

    async def timeouts_job(self) -> int | None:
        now = self.clock.now()
        if not self.leader.held or in_quiet_band(now, self.zone):
            return None
        return await asyncio.to_thread(expire_conversations, self.db, self.flows, now=now)

    async def briefings_job(self) -> BriefingStats | None:
        """Operatives' morning briefings (bot/operatives/morning.py, issue 7)."""
        if not self.leader.held:
            return None
        return await asyncio.to_thread(send_morning_briefings, self.db, now=self.clock.now())

    async def dispatch_job(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.run_once()

    async def reconcile_job(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.reconcile_stuck()


def _guarded(name: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """A job that fails is logged and runs again next interval; it never stops the others."""

    async def run() -> None:
        try:
            await job()
        except Exception:  # a scheduler boundary: log it and keep the service up
            log.exception("scheduled job failed job=%s", name)

    run.__name__ = f"doorstep_{name}"
    return run


def build_scheduler(runtime: Runtime, *, worker_id: str, dispatch: bool = True) -> Scheduler:
    """The jobs for a running service, with the channels its settings configure."""
    from bot.channels.senders import senders_from_settings
    from bot.common.flowset import default_flows

    settings = runtime.settings
    return Scheduler(
        db=runtime.db,
        clock=runtime.clock,
        zone=settings.zone,
        flows=default_flows(),
        senders=senders_from_settings(settings, clock=runtime.clock) if dispatch else {},
        intervals=Intervals(
            plan=settings.plan_interval_seconds,
            dispatch=settings.dispatch_interval_seconds,
            recover=settings.recover_interval_seconds,
        ),
        worker_id=worker_id,
        dispatch=dispatch,
        metrics=runtime.metrics,
        recover=lambda: runtime.pipeline.process_pending(
            older_than=timedelta(seconds=settings.recover_after_seconds)
        ),
    )


async def start_in_process(runtime: Runtime) -> Scheduler | None:
    """`doorstep serve`'s jobs, unless DOORSTEP_SCHEDULER_IN_PROCESS=false (then run
    `doorstep scheduler` separately)."""
    if not runtime.settings.scheduler_in_process:
        return None
    scheduler = build_scheduler(runtime, worker_id=f"serve-{os.getpid()}")
    await scheduler.start()
    return scheduler
