"""Plan and dispatch N evening reminders to a fake channel; print messages/s and integrity.

    .venv/bin/python benchmarks/dispatch.py [--n 50000] [--processes 1 2 4]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--no-sqlite]
        [--rate 200 --rate-n 2000]

For each database (a fresh SQLite file; a fresh PostgreSQL database, dropped afterwards)
it loads N residents with one booked visit each, runs the real planner at 18:00 the
evening before (every reminder due), and then runs 1, 2 and 4 dispatcher PROCESSES
(the real Dispatcher with a RecordingSender standing in for Twilio) until the outbox is
empty. Printed: plan time, dispatch messages/s, duplicates (a key sent twice) and
missing (a key never sent); both must be 0. Then, with the sender paced to R messages
a second (as a provider's rate limit would), the wall time against the ideal N/R.
Loopback only; bounded by N.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, delete, insert, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.planning import plan
from flows.windows import window_named
from storage.db import Database
from storage.enums import Channel
from storage.migrate import upgrade
from storage.models import (
    Appointment,
    ContactDecision,
    Contractor,
    Landlord,
    Message,
    Operative,
    OutboxMessage,
    Property,
    RepairJob,
    Resident,
)

LONDON = ZoneInfo("Europe/London")
VISIT_DAY = date(2026, 12, 2)  # a Wednesday, far from clock changes and holidays
BOOKED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PLAN_AT = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # the evening before: reminders due


def load(db: Database, n: int) -> None:
    """N residents, each with one booked morning visit on VISIT_DAY, in bulk inserts."""
    starts, ends = window_named("morning").bounds(VISIT_DAY)
    with db.engine.begin() as conn:
        landlord = conn.execute(
            insert(Landlord.__table__).returning(Landlord.__table__.c.id),  # type: ignore[attr-defined]
            {
                "reference": "bench",
                "name": "Bench Homes",
                "phone": "01130000000",
                "emergency_phone": "01130000001",
                "contact_hours": {},
                "visit_windows": {},
                "created_at": BOOKED_AT,
            },
        ).scalar_one()
        home = conn.execute(
            insert(Property.__table__).returning(Property.__table__.c.id),  # type: ignore[attr-defined]
            {"landlord_id": landlord, "address": "1 Bench St", "postcode": "LS1 1AA"},
        ).scalar_one()
        contractor = conn.execute(
            insert(Contractor.__table__).returning(Contractor.__table__.c.id),  # type: ignore[attr-defined]
            {"landlord_id": landlord, "name": "Bench Repairs"},
        ).scalar_one()
        operative = conn.execute(
            insert(Operative.__table__).returning(Operative.__table__.c.id),  # type: ignore[attr-defined]
            {
                "landlord_id": landlord,
                "contractor_id": contractor,
                "name": "Sam Carter",
                "badge_number": "B1",
                "trades": [],
            },
        ).scalar_one()
        step = 5000
        for first in range(0, n, step):
            count = min(step, n - first)
            conn.execute(
                insert(Resident.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "id": first + i + 1,
                        "landlord_id": landlord,
                        "property_id": home,
                        "name": f"Resident {first + i}",
                        "mobile": f"+4474{first + i:08d}",
                        "preferred_channel": "sms",
                        "language": "en",
                        "contact_hours": {},
                        "created_at": BOOKED_AT,
                    }
                    for i in range(count)
                ],
            )
            conn.execute(
                insert(RepairJob.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "id": first + i + 1,
                        "landlord_id": landlord,
                        "reference": f"BJ-{first + i}",
                        "property_id": home,
                        "resident_id": first + i + 1,
                        "description": "Dripping tap",
                        "trade": "plumbing",
                        "priority": "routine",
                        "status": "booked",
                        "history": [],
                        "created_at": BOOKED_AT,
                    }
                    for i in range(count)
                ],
            )
            conn.execute(
                insert(Appointment.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "id": first + i + 1,
                        "job_id": first + i + 1,
                        "operative_id": operative,
                        "day": VISIT_DAY,
                        "window": "morning",
                        "starts_at": starts,
                        "ends_at": ends,
                        "status": "booked",
                        "version": 1,
                        "visit_code": "4821",
                        "code_attempts": 0,
                        "created_at": BOOKED_AT,
                        "updated_at": BOOKED_AT,
                    }
                    for i in range(count)
                ],
            )
        if db.dialect == "postgresql":
            for table in ("residents", "repair_jobs", "appointments"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n + 1})")
                )


def reset_outbox(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(Message.__table__))  # type: ignore[attr-defined]
        conn.execute(delete(ContactDecision.__table__))  # type: ignore[attr-defined]
        conn.execute(delete(OutboxMessage.__table__))  # type: ignore[attr-defined]


def worker(url: str, name: str, rate: float | None, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """One dispatcher process: drain the outbox, report the keys it sent."""
    db = Database(url)
    sender = RecordingSender(rate=rate)
    dispatcher = Dispatcher(
        db=db,
        senders={Channel.SMS: sender},
        clock=FixedClock(PLAN_AT + timedelta(minutes=1)),
        zone=LONDON,
        worker_id=name,
        batch_size=500,
        concurrency=500,
    )
    asyncio.run(dispatcher.run_once())
    span = sender.sent_times[-1] - sender.sent_times[0] if len(sender.sent_times) > 1 else 0.0
    out.put(([m.idempotency_key for m in sender.sent], span))
    db.dispose()


def dispatch(url: str, processes: int, rate: float | None = None) -> tuple[float, list[str], float]:
    """Wall time (process start to last report), keys sent, and the longest send span."""
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [
        ctx.Process(target=worker, args=(url, f"bench-{i}", rate, out)) for i in range(processes)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    keys: list[str] = []
    span = 0.0
    for _ in procs:
        sent, sending = out.get(timeout=1800)
        keys.extend(sent)
        span = max(span, sending)
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    return elapsed, keys, span


def expected_keys(n: int) -> set[str]:
    return {f"{i + 1}:1:reminder_evening" for i in range(n)}


def run_database(label: str, url: str, n: int, processes: list[int]) -> None:
    db = Database(url)
    load(db, n)
    want = expected_keys(n)
    for count in processes:
        reset_outbox(db)
        started = time.perf_counter()
        stats = plan(db, now=PLAN_AT, zone=LONDON)
        planned = time.perf_counter() - started
        assert stats.queued == n, stats
        # Warm-up (process start, imports) is part of the wall time: it is what a run costs.
        elapsed, keys, _ = dispatch(url, count)
        counts = Counter(keys)
        duplicates = sum(c - 1 for c in counts.values() if c > 1)
        missing = len(want - set(counts))
        print(
            f"{label:10} dispatchers={count}  plan {n / planned:8.0f} msgs/s ({planned:6.1f} s)  "
            f"dispatch {n / elapsed:8.0f} msgs/s ({elapsed:6.1f} s)  "
            f"duplicates={duplicates} missing={missing}",
            flush=True,
        )
    db.dispose()


def run_paced(url: str, n: int, rate: float) -> None:
    db = Database(url)
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    with db.engine.begin() as conn:  # keep only the first n reminders for the paced run
        cutoff = conn.execute(
            select(table.c.id).order_by(table.c.id).offset(n).limit(1)
        ).scalar_one_or_none()
        if cutoff is not None:
            conn.execute(update(table).where(table.c.id >= cutoff).values(status="blocked"))
    db.dispose()
    elapsed, keys, span = dispatch(url, 1, rate=rate)
    ideal = len(keys) / rate
    # The first send opens the first 1/R slot, so N sends span (N - 1)/R at best.
    ideal_span = (len(keys) - 1) / rate
    print(
        f"paced      rate={rate:g}/s  n={len(keys)}  first-to-last send {span:6.2f} s  "
        f"ideal {ideal_span:6.2f} s  over ideal {100 * (span - ideal_span) / ideal_span:+5.1f}%"
        f"  (wall incl. process start {elapsed:5.2f} s vs N/R {ideal:5.2f} s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rate-n", type=int, default=2000)
    args = parser.parse_args()

    paced_url = None
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            upgrade(url)
            run_database("sqlite", url, args.n, args.processes)
    if not args.no_postgres:
        name = f"doorstep_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            run_database("postgresql", url, args.n, args.processes)
            paced_url = url
            reset_outbox(Database(url))
            plan(Database(url), now=PLAN_AT, zone=LONDON)
            run_paced(paced_url, args.rate_n, args.rate)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
