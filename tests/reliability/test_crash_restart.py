"""The service and the dispatcher killed (SIGKILL) mid-work, restarted: nothing lost, nothing twice.

Inbound: `doorstep serve` takes a stream of signed Twilio webhooks while it is killed at
random moments and started again; Twilio's retries (same MessageSid) continue through
the outage. Afterwards every text is in the transcript once, processed once, and has
exactly its replies in the outbox (`reply:<id>:0..n-1`, no gaps, no repeats).

Outbound: a dispatcher process sending through the real Twilio client to the fake
Twilio is killed while Twilio holds one request open (accepted, not yet answered: the
worst moment). A new dispatcher reconciles the rows left `sending` and finishes: the
fake Twilio received every due message exactly once.

The figures are printed (run with -s to see them) and quoted in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reliability.harness import (
    Delivery,
    Service,
    Twilio,
    free_port,
    new_sid,
    service_env,
    sigkill,
    start_dispatcher,
    twilio_settings_for,
)
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from bot.channels.sms.setup import sms_sender_from_settings
from bot.cli.demo import load_demo
from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.settings import Settings
from fakes.fake_twilio import FakeTwilio, Hang
from storage.db import Database
from storage.enums import Channel, OutboxStatus
from storage.models import OutboxMessage, Resident
from storage.repositories.outbox import enqueue

#: Demo residents who take texts (Priya Shah, +447400123462, has opted out of SMS).
SENDERS = [f"+4474001234{n}" for n in (56, 57, 58, 59, 60, 61, 63)]
#: Texts that get an answer and start nothing that pauses a conversation.
TEXTS = ("hello", "when is my visit", "hi there", "thanks", "what can you do", "menu")
MESSAGES = 120
#: Seconds each of the four senders waits between texts, so the stream outlasts the kills.
PACE = 0.12
KILLS = 3
AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday morning: in everyone's hours
DUE = 40
_REPLY = re.compile(r"^reply:(\d+):(\d+)$")


def _fresh(url: str) -> Database:
    from sqlmodel import SQLModel

    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()
    return Database(url)


@pytest.fixture(params=["postgresql", "sqlite"])
def crash_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database the service processes can share (a file for SQLite)."""
    if request.param == "sqlite":
        from storage.migrate import upgrade

        url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        upgrade(url)
        db = Database(url)
    else:
        db = _fresh(str(request.getfixturevalue("postgres_database_url")))
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-nlu")


def test_inbound_texts_survive_sigkill_exactly_once(
    crash_db: Database, nlu_cache: Path, tmp_path: Path
) -> None:
    assert load_demo(crash_db, now=datetime.now(UTC))  # the service runs on the real clock
    fake = FakeTwilio().start()
    port = free_port()
    service = Service(
        service_env(crash_db.url, port, fake.base_url, nlu_cache), tmp_path / "serve.log", port
    )
    rng = random.Random(8)
    deliveries = [
        Delivery(new_sid(), SENDERS[i % len(SENDERS)], rng.choice(TEXTS)) for i in range(MESSAGES)
    ]
    twilio = Twilio(service.base)
    done = threading.Event()
    try:
        service.start()
        orphaned = 0  # texts acknowledged but not yet processed when the service died
        started = time.monotonic()
        deadline = started + 120

        def stream() -> list[bool]:
            # Four at a time, each retried until acknowledged, as Twilio does.
            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(lambda d: paced(d), deliveries))

        def paced(delivery: Delivery) -> bool:
            time.sleep(PACE)
            return twilio.deliver(delivery, until=deadline)

        with ThreadPoolExecutor(1) as runner:
            result = runner.submit(stream)
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.2, 1.0))
                if result.done():
                    break
                service.kill()
                orphaned += _stored_unprocessed(crash_db)
                time.sleep(rng.uniform(0.1, 0.5))  # Twilio's requests fail meanwhile
                service.start()
            acknowledged = result.result()
        done.set()
        sending_seconds = time.monotonic() - started
        assert all(acknowledged), "every text was acknowledged in the end"
        unprocessed = _wait_processed(crash_db, [d.sid for d in deliveries], timeout=60)
        report = _inbound_report(crash_db, deliveries)
    finally:
        done.set()
        twilio.close()
        service.stop()
        fake.stop()

    failed_posts = sum(1 for d in deliveries for a in d.attempts if a != "200")
    print(
        f"\n[crash/inbound {crash_db.dialect}] {MESSAGES} texts, {service.starts - 1} SIGKILLs "
        f"in {sending_seconds:.1f} s ({orphaned} acknowledged but unprocessed at a kill); "
        f"{failed_posts} webhook attempts failed and were retried; "
        f"stored {report['stored']}, processed {report['processed']}, "
        f"replies {report['replies']}, unanswered {report['unanswered']}, "
        f"duplicated replies {report['duplicates']}"
    )
    assert service.starts - 1 >= 1, "the service was killed at least once mid-stream"
    assert unprocessed == [], (
        f"{len(unprocessed)} acknowledged texts were never processed after the restart "
        "(is Pipeline.process_pending() called at start-up?)"
    )
    assert report["stored"] == len({d.sid for d in deliveries}) == MESSAGES
    assert report["processed"] == MESSAGES
    assert report["unanswered"] == 0
    assert report["duplicates"] == 0
    assert report["gaps"] == 0


def _stored_unprocessed(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM messages WHERE channel = 'sms' AND direction = 'in' "
                    "AND processed_at IS NULL"
                )
            ).scalar_one()
        )


def _wait_processed(db: Database, sids: list[str], *, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT channel_message_id FROM messages WHERE channel = 'sms' "
                    "AND direction = 'in' AND processed_at IS NOT NULL"
                )
            ).all()
        left = sorted(set(sids) - {row[0] for row in rows})
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _inbound_report(db: Database, deliveries: list[Delivery]) -> dict[str, int]:
    sids = {d.sid for d in deliveries}
    with db.engine.connect() as connection:
        inbound = [
            (row[0], row[1], row[2])
            for row in connection.execute(
                text(
                    "SELECT id, channel_message_id, processed_at FROM messages "
                    "WHERE channel = 'sms' AND direction = 'in'"
                )
            )
            if row[1] in sids
        ]
        keys = [
            row[0]
            for row in connection.execute(
                text("SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE 'reply:%'")
            )
        ]
    replies: dict[int, list[int]] = {}
    for key in keys:
        match = _REPLY.match(key)
        assert match is not None, key
        replies.setdefault(int(match[1]), []).append(int(match[2]))
    ids = [row[0] for row in inbound]
    per_message = [sorted(replies.get(message_id, [])) for message_id in ids]
    return {
        "stored": len(inbound),
        "processed": sum(1 for row in inbound if row[2] is not None),
        "replies": sum(len(numbers) for numbers in per_message),
        "unanswered": sum(1 for numbers in per_message if not numbers),
        "duplicates": sum(len(numbers) - len(set(numbers)) for numbers in per_message),
        "gaps": sum(1 for numbers in per_message if numbers != list(range(len(numbers)))),
    }


# -- outbound ---------------------------------------------------------------------------


def test_dispatcher_sigkilled_mid_send_sends_every_due_message_once(
    crash_db: Database, tmp_path: Path
) -> None:
    assert load_demo(crash_db, now=AT)
    texts = _enqueue_due(crash_db, DUE)
    # Twilio takes message 12 and then holds the request open: the dispatcher is killed
    # knowing nothing of the sid, with its row left `sending`.
    fake = FakeTwilio(now=lambda: AT, script=[*([None] * 11), Hang(30)]).start()  # type: ignore[list-item]
    process = start_dispatcher(crash_db.url, fake.base_url, AT, tmp_path / "dispatch.log")
    try:
        deadline = time.monotonic() + 60
        while len(fake.accepted()) < 12 and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "dispatch.log").read_text()
            time.sleep(0.02)
        sigkill(process)
        before = len(fake.accepted())
        stuck = _count(crash_db, OutboxStatus.SENDING)
        assert before >= 12 and stuck >= 1, (before, stuck)

        later = FixedClock(AT + timedelta(minutes=3))
        fake.now = later.now
        settings = twilio_settings_for(crash_db.url, fake.base_url, rate=100)
        assert isinstance(settings, Settings)
        reconciled, sent = asyncio.run(_finish(crash_db, settings, later))
    finally:
        sigkill(process)
        fake.stop()

    received = Counter(m["body"] for m in fake.accepted())
    print(
        f"\n[crash/dispatch {crash_db.dialect}] {DUE} due texts; dispatcher SIGKILLed after "
        f"Twilio accepted {before} with {stuck} rows left sending; restart reconciled "
        f"{reconciled} and sent {sent}; Twilio received {sum(received.values())} "
        f"({len(received)} distinct, {sum(1 for n in received.values() if n > 1)} twice)"
    )
    assert set(received) == set(texts), "every due message reached Twilio"
    assert all(count == 1 for count in received.values()), "and none twice"
    assert _count(crash_db, OutboxStatus.PENDING) == _count(crash_db, OutboxStatus.SENDING) == 0


def _enqueue_due(db: Database, count: int) -> list[str]:
    with db.session() as session:
        residents = session.exec(
            select(Resident).where(col(Resident.mobile).in_(SENDERS)).order_by(col(Resident.id))
        ).all()
        texts = []
        for index in range(count):
            resident = residents[index % len(residents)]
            body = f"Doorstep test message {index:03d}: your repair is booked."
            assert enqueue(
                session,
                key=f"crash-test:{index}",
                kind="reply",
                purpose="reply",
                text=body,
                not_before=AT,
                now=AT,
                channel=Channel.SMS,
                address=resident.mobile,
                resident_id=resident.id,
                expires_at=AT + timedelta(hours=1),
            )
            texts.append(body)
    return texts


async def _finish(db: Database, settings: Settings, clock: FixedClock) -> tuple[int, int]:
    sender = sms_sender_from_settings(settings, clock=clock)
    dispatcher = Dispatcher(
        db=db, senders={Channel.SMS: sender}, clock=clock, zone=settings.zone, worker_id="after"
    )
    try:
        reconciled = await dispatcher.reconcile_stuck()
        sent = 0
        for _ in range(10):
            stats = await dispatcher.run_once()
            sent += stats.sent
            if not stats.handled:
                break
        return reconciled, sent
    finally:
        await sender.aclose()


def _count(db: Database, status: OutboxStatus) -> int:
    with db.session() as session:
        return len(
            session.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == status,
                    col(OutboxMessage.idempotency_key).startswith("crash-test:"),
                )
            ).all()
        )
