"""The service and the dispatcher killed (SIGKILL) mid-work, restarted: nothing lost, nothing twice.

Inbound: `doorstep serve` takes a stream of signed Twilio webhooks while it is killed at
random moments and started again; Twilio's retries (same MessageSid) continue through
the outage. Afterwards every text is in the transcript once, processed once, and has
exactly its replies in the outbox (`reply:<id>:0..n-1`, no gaps, no repeats).

Outbound: a dispatcher process sending through the real Twilio client to the fake
Twilio is killed while Twilio holds one request open (accepted, not yet answered: the
worst moment); a second one, started later, reconciles what the first left `sending`,
sends on and is killed the same way; a third reconciles and finishes. The same text goes
to the same resident many times (as "Sorry, I did not understand" does), so matching on
recipient and text cannot tell those messages apart. Counted from what the fake Twilio
really received, per outbox row (the StatusCallback URL names the row): every row sent
once, none lost, none twice, every Twilio SID on one row, and on its own row.

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
from dataclasses import dataclass
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

#: Row i goes to SENDERS[i % 7] with OUT_TEXTS[(i // 7) % 3]: the same text to the same
#: resident every 21 rows, and no two of the (at most 20) rows one kill leaves `sending`
#: alike, so which Twilio message is whose is decidable and checked exactly.
OUT_TEXTS = (
    "Thanks, we have noted that.",
    "Sorry, I did not understand. Reply MENU to see what I can do.",
    "Your repair is booked.",
)
DUE = 60
#: Each doomed dispatcher: its clock, and which of its own sends Twilio accepts and then
#: holds open. It is killed then, knowing nothing of that message's SID; the batch being
#: sent and the next one it has claimed are left `sending`.
ROUNDS = ((AT, 12), (AT + timedelta(minutes=3), 15))
FINISH_AT = AT + timedelta(minutes=6)


def test_dispatcher_sigkilled_twice_mid_send_sends_every_row_exactly_once(
    crash_db: Database, tmp_path: Path
) -> None:
    assert load_demo(crash_db, now=AT)
    rows = _enqueue_due(crash_db, DUE)
    fake = FakeTwilio(now=lambda: AT).start()
    log_path = tmp_path / "dispatch.log"
    kills: list[tuple[int, int]] = []  # (accepted by Twilio in that life, rows left sending)
    try:
        for moment, hang_at in ROUNDS:
            fake.now = FixedClock(moment).now
            before = len(fake.created())
            fake.script.extend([*([None] * (hang_at - 1)), Hang(30)])  # type: ignore[list-item]
            process = start_dispatcher(crash_db.url, fake.base_url, moment, log_path)
            try:
                deadline = time.monotonic() + 60
                while len(fake.created()) < before + hang_at:
                    assert process.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.02)
            finally:
                sigkill(process)
            time.sleep(0.3)  # a request cut by the kill is dropped by the fake, not created
            assert fake.script == [], "every scripted answer was used"
            kills.append((len(fake.created()) - before, _count(crash_db, OutboxStatus.SENDING)))
            assert kills[-1][1] >= 1, kills

        later = FixedClock(FINISH_AT)
        fake.now = later.now
        settings = twilio_settings_for(crash_db.url, fake.base_url, rate=100)
        assert isinstance(settings, Settings)
        reconciled, sent = asyncio.run(_finish(crash_db, settings, later))
    finally:
        fake.stop()

    created = [c for c in fake.created() if c.body in OUT_TEXTS]
    final = _rows(crash_db)
    assert list(final) == rows
    # What matching on recipient and text can see: per (resident, text), rows marked sent
    # against messages Twilio took.
    marked = Counter((r.address, r.text) for r in final.values() if r.status == "sent")
    taken = Counter((c.to, c.body) for c in created)
    lost = sum((marked - taken).values())
    twice = sum((taken - marked).values())
    sids = Counter(r.provider_message_id for r in final.values() if r.provider_message_id)
    shared = sum(1 for n in sids.values() if n > 1)
    # What only our own reference can see: per row, the messages created for it.
    received = Counter(c.reference() for c in created)
    own = {c.reference(): c.sid for c in created}
    per_row = [received[str(row_id)] for row_id in final]
    misattributed = sum(
        1 for row_id, r in final.items() if r.provider_message_id != own.get(str(row_id))
    )
    print(
        f"\n[crash/dispatch {crash_db.dialect}] {DUE} due texts ({len(OUT_TEXTS)} texts to "
        f"{len(SENDERS)} residents); {len(kills)} SIGKILLs, each while Twilio held a send "
        f"open: Twilio accepted {[k[0] for k in kills]} in those lives, rows left sending "
        f"{[k[1] for k in kills]}; restart reconciled {reconciled} and sent {sent}. "
        f"Twilio received {len(created)}; rows sent {sum(marked.values())}; lost {lost}, "
        f"sent twice {twice}, SIDs on more than one row {shared}; per row by reference: "
        f"received once {per_row.count(1)}, never {per_row.count(0)}, more than once "
        f"{sum(1 for n in per_row if n > 1)}, SID not its own {misattributed}"
    )
    assert {r.status for r in final.values()} == {"sent"}, Counter(r.status for r in final.values())
    assert lost == 0, f"{lost} rows marked sent that Twilio never received"
    assert twice == 0, f"{twice} texts Twilio received more than once"
    assert shared == 0, f"{shared} Twilio SIDs recorded on more than one row"
    assert len(created) == DUE
    assert per_row == [1] * DUE, "each row reached Twilio exactly once, by its own reference"
    assert misattributed == 0, "and holds the SID of the message created for it"


@dataclass(frozen=True)
class _Row:
    address: str
    text: str
    status: str
    provider_message_id: str | None


def _enqueue_due(db: Database, count: int) -> list[int]:
    with db.session() as session:
        residents = {
            r.mobile: r
            for r in session.exec(select(Resident).where(col(Resident.mobile).in_(SENDERS))).all()
        }
        ids = []
        for index in range(count):
            resident = residents[SENDERS[index % len(SENDERS)]]
            outbox_id = enqueue(
                session,
                key=f"crash-test:{index}",
                kind="reply",
                purpose="reply",
                text=OUT_TEXTS[(index // len(SENDERS)) % len(OUT_TEXTS)],
                not_before=AT,
                now=AT,
                channel=Channel.SMS,
                address=resident.mobile,
                resident_id=resident.id,
                expires_at=AT + timedelta(hours=1),
            )
            assert outbox_id is not None
            ids.append(outbox_id)
    return ids


def _rows(db: Database) -> dict[int, _Row]:
    with db.session() as session:
        found = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.idempotency_key).startswith("crash-test:"))
            .order_by(col(OutboxMessage.id))
        ).all()
        return {
            r.id: _Row(r.address or "", r.text, str(r.status), r.provider_message_id)
            for r in found
            if r.id is not None
        }


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
