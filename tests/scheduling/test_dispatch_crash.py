"""Two dispatchers never send a message twice; a dispatcher killed mid-send loses nothing.

The killed dispatcher is a real process: it runs the real Dispatcher against the test
database with a sender that stands in for the provider (it writes each message it
"receives" to a file) and then hangs, as a process stuck on a provider call would. The
test SIGKILLs it, and a new dispatcher reconciles the rows it left `sending` by asking
the provider, which is that file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.sending import OutgoingMessage, SendReceipt
from storage.db import Database
from storage.enums import Channel
from storage.models import OutboxMessage, Resident
from storage.repositories.outbox import enqueue

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def queue(db: Database, count: int) -> set[str]:
    keys = set()
    with db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == "+447400123456")).one()
        for n in range(count):
            key = f"crash:{n}"
            enqueue(
                session,
                key=key,
                kind="reply",
                purpose="reply",
                text=f"Message {n}",
                not_before=NOW,
                now=NOW,
                channel=Channel.SMS,
                address="+447400123456",
                resident_id=resident.id,
                expires_at=NOW + timedelta(days=1),
            )
            keys.add(key)
    return keys


@pytest.mark.postgres
def test_two_dispatchers_send_each_message_once(demo_db: Database) -> None:
    if demo_db.dialect != "postgresql":
        pytest.skip("concurrent claiming is PostgreSQL's SKIP LOCKED")
    keys = queue(demo_db, 400)
    senders = [RecordingSender(), RecordingSender()]

    def run(sender: RecordingSender, name: str) -> None:
        dispatcher = Dispatcher(
            db=demo_db,
            senders={Channel.SMS: sender},
            clock=FixedClock(NOW),
            zone=LONDON,
            worker_id=name,
            batch_size=20,
        )
        asyncio.run(dispatcher.run_once())

    threads = [threading.Thread(target=run, args=(s, f"w{i}")) for i, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sent = [m.idempotency_key for s in senders for m in s.sent]
    assert sorted(sent) == sorted(keys)  # every one, none twice
    assert all(s.sent for s in senders), "both dispatchers took a share"


CHILD = textwrap.dedent(
    """
    import asyncio, itertools, sys
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from bot.outbound.sending import SendReceipt
    from bot.common.clock import FixedClock
    from bot.outbound.dispatcher import Dispatcher
    from storage.db import Database
    from storage.enums import Channel

    url, provider_log, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
    calls = itertools.count(1)

    class HangingProvider:
        channel = Channel.SMS

        async def send(self, message):
            n = next(calls)
            if n <= 7:  # the provider gets it...
                with open(provider_log, "a") as log:
                    log.write(message.idempotency_key + "\\n")
            if n <= 5:
                return SendReceipt(provider_message_id=f"P{n}", status="sent")
            await asyncio.Event().wait()  # ...and then the call hangs

        async def reconcile(self, message, *, since):
            return None

    dispatcher = Dispatcher(
        db=Database(url), senders={Channel.SMS: HangingProvider()},
        clock=FixedClock(now), zone=ZoneInfo("Europe/London"), worker_id="doomed",
        batch_size=10,
    )
    asyncio.run(dispatcher.run_once())
    """
)


class ProviderLog:
    """The provider as the new dispatcher sees it: what reached it, from its own record."""

    channel = Channel.SMS

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sent: list[OutgoingMessage] = []

    def received(self) -> list[str]:
        return self.path.read_text().split() if self.path.exists() else []

    async def send(self, message: OutgoingMessage) -> SendReceipt:
        self.sent.append(message)
        with self.path.open("a") as log:
            log.write(message.idempotency_key + "\n")
        return SendReceipt(provider_message_id=f"N{len(self.sent)}", status="sent")

    async def reconcile(self, message: OutgoingMessage, *, since: datetime) -> SendReceipt | None:
        if message.idempotency_key in self.received():
            return SendReceipt(provider_message_id=f"P:{message.idempotency_key}", status="sent")
        return None


def test_a_dispatcher_killed_mid_send_loses_and_duplicates_nothing(
    demo_db: Database, tmp_path: Path
) -> None:
    keys = queue(demo_db, 20)
    provider_log = tmp_path / "provider.log"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, demo_db.url, str(provider_log), NOW.isoformat()],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while len(ProviderLog(provider_log).received()) < 7:
            assert child.poll() is None, "the dispatcher process ended before it hung"
            assert time.monotonic() < deadline, "the dispatcher process never reached the provider"
            time.sleep(0.05)
        time.sleep(0.2)  # the three calls that never reach the provider are hanging too
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    with demo_db.session() as session:
        stuck = session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending")).all()
    # Both claimed batches: the one hanging at the provider (5 of which it took) and the
    # next, which the dispatcher claims while the first is being sent.
    assert len(stuck) == 20

    provider = ProviderLog(provider_log)
    later = FixedClock(NOW + timedelta(minutes=5))
    dispatcher = Dispatcher(
        db=demo_db, senders={Channel.SMS: provider}, clock=later, zone=LONDON, worker_id="new"
    )
    assert asyncio.run(dispatcher.reconcile_stuck()) == 20
    asyncio.run(dispatcher.run_once())
    received = provider.received()
    assert sorted(received) == sorted(keys)  # nothing lost, nothing twice
    with demo_db.session() as session:
        statuses = {r.status for r in session.exec(select(OutboxMessage)).all()}
    assert statuses == {"sent"}
