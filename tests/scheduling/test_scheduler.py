"""The scheduler's jobs and its leader election on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.common.clock import FixedClock
from bot.common.flowset import default_flows
from bot.outbound.fake import RecordingSender
from bot.outbound.scheduler import Intervals, Scheduler, in_quiet_band
from storage.db import Database
from storage.enums import Channel
from storage.models import OutboxMessage

LONDON = ZoneInfo("Europe/London")
MakeVisit = Callable[..., int]  # the make_visit fixture (conftest.py)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def scheduler(db: Database, clock: FixedClock, name: str, every: float = 60.0) -> Scheduler:
    return Scheduler(
        db=db,
        clock=clock,
        zone=LONDON,
        flows=default_flows(),
        senders={Channel.SMS: RecordingSender()},
        intervals=Intervals(
            plan=every, dispatch=every, reconcile=every, timeouts=every, leader=every
        ),
        worker_id=name,
    )


def planned(db: Database) -> int:
    with db.session() as session:
        return len(session.exec(select(OutboxMessage)).all())


def test_the_running_scheduler_plans_and_sends(demo_db: Database, make_visit: MakeVisit) -> None:
    make_visit(date(2026, 12, 1), window="afternoon")
    clock = FixedClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    jobs = scheduler(demo_db, clock, "solo", every=0.2)

    async def run() -> None:
        await jobs.start()
        for _ in range(50):
            await asyncio.sleep(0.1)
            if jobs.dispatcher is not None and planned(demo_db) and _sent(demo_db):
                break
        await jobs.shutdown()

    asyncio.run(run())
    assert jobs.is_leader or demo_db.dialect == "postgresql"
    assert _sent(demo_db) == ["reminder_morning"]


def _sent(db: Database) -> list[str]:
    with db.session() as session:
        return [
            r.kind
            for r in session.exec(select(OutboxMessage).where(OutboxMessage.status == "sent"))
        ]


def test_nothing_is_planned_in_the_quiet_band(demo_db: Database, make_visit: MakeVisit) -> None:
    make_visit(date(2026, 12, 2))
    clock = FixedClock(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 01:30 GMT, repeated hour
    assert in_quiet_band(clock.now(), LONDON)
    jobs = scheduler(demo_db, clock, "night")
    asyncio.run(jobs.leader_job())
    assert asyncio.run(jobs.plan_job()) is None
    clock.set(datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    stats = asyncio.run(jobs.plan_job())
    assert stats is not None and stats.planned == 2
    asyncio.run(jobs.shutdown())


@pytest.mark.postgres
def test_only_one_of_two_schedulers_plans_and_the_other_takes_over(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    if demo_db.dialect != "postgresql":
        pytest.skip("leader election is a PostgreSQL matter; SQLite is always leader")
    make_visit(date(2026, 12, 2))
    clock = FixedClock(MONDAY)
    first, second = scheduler(demo_db, clock, "a"), scheduler(demo_db, clock, "b")

    async def scenario() -> tuple[bool, bool, object, object, bool]:
        a, b = await first.leader_job(), await second.leader_job()
        by_a, by_b = await first.plan_job(), await second.plan_job()
        await first.shutdown()  # the leader goes away: its connection, and the lock, close
        takeover = await second.leader_job()
        await second.shutdown()
        return a, b, by_a, by_b, takeover

    a, b, by_a, by_b, takeover = asyncio.run(scenario())
    assert (a, b) == (True, False)
    assert by_a is not None and by_b is None
    assert takeover is True
    assert planned(demo_db) == 2


@pytest.mark.postgres
def test_a_dead_leader_connection_frees_the_lock(demo_db: Database) -> None:
    if demo_db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    clock = FixedClock(MONDAY)
    first, second = scheduler(demo_db, clock, "a"), scheduler(demo_db, clock, "b")
    assert first.leader.check() and not second.leader.check()
    with demo_db.engine.connect() as admin:
        admin.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'doorstep-scheduler-leader' AND pid <> pg_backend_pid() "
            "AND datname = current_database()"
        )
        admin.commit()
    # pg_terminate_backend only signals the session; its lock goes when it has exited.
    deadline = time.monotonic() + 10
    while not second.leader.check() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert second.leader.held  # the killed session's lock is gone
    assert not first.leader.check()  # the old leader notices and steps down
    first.leader.release()
    second.leader.release()
