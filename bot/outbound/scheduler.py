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
- **webhooks** runs on every instance too: it delivers landlord events to their webhook
  subscriptions (bot/outbound/webhooks.py), claiming deliveries the same way, in order
  per job.
- **retention** runs daily on the leader only, at `DOORSTEP_RETENTION_AT` (03:30 UK time
  by default, after the quiet band): it deletes or anonymises what has outlived its
  retention period (bot/outbound/retention.py) and logs the figures per kind.
- Nothing is planned and no conversation is timed out between 01:00 and 03:00 UK time,
  when the clocks change. The dispatcher keeps running (replies go at any hour; the
  policy holds service messages out of that band).

Job options are chosen, not defaulted: `max_instances=1` (a slow run is never overlapped
by the next), `coalesce=True` (runs missed while the loop was busy collapse into one),
and `misfire_grace_time` of one interval (a run more than an interval late is dropped,
because the next is due anyway).

The scheduler is given its parts (database, clock, zone, flows, senders, metrics, the
recovery callable); `bot.app.build_scheduler` wires them from a runtime and settings.
The leader lock itself is `storage.leader_lock.LeaderLock`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.common.metrics import Metrics
from bot.operatives.morning import BriefingStats, send_morning_briefings
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.planning import PlanStats, on_sent, plan
from bot.outbound.retention import RetentionFigures, RetentionPolicy, run_retention
from bot.outbound.sending import Sender
from bot.outbound.sweeps import expire_conversations
from bot.outbound.webhooks import WebhookStats, WebhookWorker
from flows.clock import Clock
from flows.engine import FlowRegistry
from flows.local_time import in_quiet_band
from storage.db import Database
from storage.enums import Channel
from storage.leader_lock import PLANNER_LOCK_KEY, LeaderLock

__all__ = ["PLANNER_LOCK_KEY", "Intervals", "LeaderLock", "Scheduler"]

log = logging.getLogger(__name__)

LEADER_EVERY = 15.0
RECONCILE_EVERY = 60.0
TIMEOUTS_EVERY = 60.0
WEBHOOKS_EVERY = 10.0
#: Operatives' morning briefing, UK wall clock (issue 7).
BRIEFING_AT = time(7, 0)
BRIEFING_UNTIL = time(12, 0)
#: Retention's daily run, UK wall clock, unless DOORSTEP_RETENTION_AT says otherwise.
RETENTION_AT = time(3, 30)


@dataclass(frozen=True, slots=True)
class Intervals:
    plan: float
    dispatch: float
    reconcile: float = RECONCILE_EVERY
    timeouts: float = TIMEOUTS_EVERY
    leader: float = LEADER_EVERY
    recover: float = 60.0
    webhooks: float = WEBHOOKS_EVERY


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
        retention: RetentionPolicy | None = None,
        retention_at: time = RETENTION_AT,
    ) -> None:
        self.db = db
        self.retention = retention
        self.retention_at = retention_at
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
        self.webhooks = WebhookWorker(db=db, clock=clock, worker_id=worker_id) if dispatch else None
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
        if self.webhooks is not None:
            jobs.append(("webhooks", self.webhooks_job, self.intervals.webhooks))
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
        # Retention (issue 16): daily, leader only, in the quiet hours after the band.
        if self.retention is not None:
            scheduler.add_job(
                _guarded("retention", self.retention_job),
                CronTrigger(
                    hour=self.retention_at.hour,
                    minute=self.retention_at.minute,
                    timezone=self.zone,
                ),
                id="retention",
                name="retention",
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

    async def retention_job(self) -> RetentionFigures | None:
        """Delete or anonymise what has outlived its period (bot/outbound/retention.py);
        the figures are logged per kind and kept as an audit event."""
        if self.retention is None or not self.leader.held:
            return None
        return await asyncio.to_thread(
            run_retention, self.db, policy=self.retention, now=self.clock.now(), zone=self.zone
        )

    async def dispatch_job(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.run_once()

    async def reconcile_job(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.reconcile_stuck()

    async def webhooks_job(self) -> WebhookStats | None:
        """Landlord events to their webhook subscriptions (issue 14)."""
        if self.webhooks is None:
            return None
        return await self.webhooks.run_once()


def _guarded(name: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """A job that fails is logged and runs again next interval; it never stops the others."""

    async def run() -> None:
        try:
            await job()
        except Exception:  # a scheduler boundary: log it and keep the service up
            log.exception("scheduled job failed job=%s", name)

    run.__name__ = f"doorstep_{name}"
    return run
