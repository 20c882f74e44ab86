"""What the running service does when what it depends on fails, and that nothing is lost.

- PostgreSQL stopped mid-traffic and started again: the webhook answers 503 while the
  database is away (Twilio tries again), and every text is processed once afterwards.
  Two outages: our database alone (connections cut and refused; safe beside other
  tests, always run) and the whole server stopped with pg_ctlcluster (cuts every other
  test's connections too, so only with DOORSTEP_TEST_PG_RESTART=1).
- Rasa down: the service configured for Rasa at a closed port still answers, with the
  built-in interpreter, and says so once in its log.
- Twilio answering 500 and 429 with Retry-After, Telegram answering 429 with
  retry_after: the replies wait at least as long as asked, then go exactly once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from channels.test_telegram_webhook import GARETH_ID, telegram_world
from reliability.harness import (
    Delivery,
    Service,
    Twilio,
    free_port,
    new_sid,
    service_env,
    twilio_settings_for,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import col, select

from bot.channels.sms.setup import sms_sender_from_settings
from bot.cli.demo import load_demo
from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.settings import Settings
from fakes.fake_telegram import FakeTelegram
from fakes.fake_twilio import Fail, FakeTwilio, running
from mandatory import unavailable
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import Channel, OutboxStatus
from storage.migrate import upgrade
from storage.models import OutboxMessage

SENDERS = [f"+4474001234{n}" for n in (56, 57, 58, 59, 60, 61, 63)]
TEXTS = ("hello", "when is my visit", "thanks", "what can you do")


@pytest.fixture(scope="module")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-nlu")


def _reply_keys(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        return [
            row[0]
            for row in connection.execute(
                text("SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE 'reply:%'")
            )
        ]


def _processed(db: Database, sids: set[str]) -> tuple[int, int]:
    """(stored, processed) among these MessageSids."""
    with db.engine.connect() as connection:
        rows = [
            row
            for row in connection.execute(
                text(
                    "SELECT channel_message_id, processed_at FROM messages "
                    "WHERE channel = 'sms' AND direction = 'in'"
                )
            )
            if row[0] in sids
        ]
    return len(rows), sum(1 for row in rows if row[1] is not None)


# -- PostgreSQL away --------------------------------------------------------------------


def _pg(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action == "stop":
        command += ["-m", "fast"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


@pytest.fixture
def own_database(postgres_server_url: str) -> Iterator[str]:
    """A database of this test's own, with no pooled admin connection to go stale."""
    name = f"doorstep_outage_{uuid.uuid4().hex[:8]}"
    with _admin(postgres_server_url) as admin:
        admin.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with _admin(postgres_server_url) as admin:
        admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _admin(url: str) -> Iterator[Connection]:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


class Outage:
    """The database away, then back: the whole server (pg_ctlcluster), or only ours."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.name = make_url(url).database
        self.server = make_url(url).set(database="postgres").render_as_string(hide_password=False)

    def begin(self) -> None:
        if self.kind == "server":
            _pg("stop")
            return
        with _admin(self.server) as admin:
            admin.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            )

    def end(self) -> None:
        if self.kind == "server":
            _pg("start")
            return
        with _admin(self.server) as admin:
            admin.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


@pytest.mark.parametrize("kind", ["database", "server"])
def test_webhooks_answer_503_while_postgresql_is_down_and_lose_nothing(
    kind: str, own_database: str, nlu_cache: Path, tmp_path: Path
) -> None:
    """`database`: our database refuses connections and its sessions are cut (safe beside
    other tests). `server`: the PostgreSQL server itself stopped and started, which cuts
    every other test's connections too, so it runs only with DOORSTEP_TEST_PG_RESTART=1."""
    if kind == "server":
        if os.environ.get("DOORSTEP_TEST_PG_RESTART") != "1":
            pytest.skip("stops the whole PostgreSQL server: set DOORSTEP_TEST_PG_RESTART=1")
        if not Path("/etc/postgresql").is_dir():
            unavailable("no pg_ctlcluster-managed PostgreSQL on this machine")
    outage = Outage(kind, own_database)
    db = Database(own_database)
    assert load_demo(db, now=datetime.now(UTC))
    fake = FakeTwilio().start()
    port = free_port()
    service = Service(
        service_env(
            db.url,
            port,
            fake.base_url,
            nlu_cache,
            # The production shape: the scheduler answers what an outage left unanswered.
            DOORSTEP_SCHEDULER_IN_PROCESS="true",
            DOORSTEP_RECOVER_AFTER_SECONDS="2",
            DOORSTEP_RECOVER_INTERVAL_SECONDS="1",
        ),
        tmp_path / "serve.log",
        port,
    )
    deliveries = [Delivery(new_sid(), SENDERS[i % len(SENDERS)], TEXTS[i % 4]) for i in range(60)]
    twilio = Twilio(service.base)
    seconds = 0.0
    try:
        service.start()
        deadline = time.monotonic() + 120

        def stream() -> None:
            for delivery in deliveries:
                twilio.deliver(delivery, until=deadline, pause=0.3)
                time.sleep(0.05)

        sender = threading.Thread(target=stream)
        sender.start()
        time.sleep(1.0)
        stopped = time.monotonic()
        try:
            outage.begin()
            time.sleep(3.0)
        finally:
            outage.end()  # whatever happened, the database is back
            seconds = time.monotonic() - stopped
        sender.join(timeout=130)
        assert not sender.is_alive()
        sids = {d.sid for d in deliveries}
        wait_until = time.monotonic() + 60
        while _processed(db, sids)[1] < len(sids) and time.monotonic() < wait_until:
            time.sleep(0.3)
        stored, processed = _processed(db, sids)
        keys = _reply_keys(db)
    finally:
        twilio.close()
        service.stop()
        fake.stop()
        db.dispose()

    codes = [code for d in deliveries for code in d.attempts]
    refusals = {code: codes.count(code) for code in set(codes) if code != "200"}
    print(
        f"\n[postgres {kind} down {seconds:.1f} s] {len(deliveries)} texts; "
        f"refused attempts {refusals}; "
        f"stored {stored}, processed {processed}, replies {len(keys)}"
    )
    assert "503" in refusals, "while the database was away the webhook said 503"
    assert set(refusals) <= {"503"}, "and nothing else: no 500, no dropped connection"
    assert all(d.attempts[-1] == "200" for d in deliveries), "every text acknowledged in the end"
    assert stored == processed == len(deliveries), "every text stored once and processed"
    assert len(keys) == len(set(keys)) >= len(deliveries), "every text answered, none twice"


# -- Rasa away --------------------------------------------------------------------------


def test_rasa_down_the_built_in_interpreter_answers_and_it_is_logged(
    demo_db: Database, nlu_cache: Path, tmp_path: Path
) -> None:
    closed = free_port()  # nothing listens here
    fake = FakeTwilio().start()
    port = free_port()
    env = service_env(
        demo_db.url,
        port,
        fake.base_url,
        nlu_cache,
        DOORSTEP_NLU="rasa",
        DOORSTEP_RASA_URL=f"http://127.0.0.1:{closed}",
        DOORSTEP_RASA_TIMEOUT_SECONDS="0.5",
    )
    service = Service(env, tmp_path / "serve.log", port)
    deliveries = [Delivery(new_sid(), SENDERS[i], TEXTS[i % 4]) for i in range(4)]
    twilio = Twilio(service.base)
    try:
        service.start()
        for delivery in deliveries:
            assert twilio.deliver(delivery, until=time.monotonic() + 30)
        sids = {d.sid for d in deliveries}
        wait_until = time.monotonic() + 30
        while _processed(demo_db, sids)[1] < len(sids) and time.monotonic() < wait_until:
            time.sleep(0.2)
        log = service.log()
    finally:
        twilio.close()
        service.stop()
        fake.stop()
    assert _processed(demo_db, sids) == (4, 4)
    assert len(_reply_keys(demo_db)) >= 4, "every text answered"
    warnings = [
        line for line in log.splitlines() if "Rasa NLU at" in line and "warning" in line.lower()
    ]
    assert len(warnings) == 1, "the outage is logged once, not once per message"


# -- providers pushing back -------------------------------------------------------------


@pytest.fixture
def fake_twilio(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


def test_twilio_500_and_429_retry_after_are_honoured_and_each_reply_goes_once(
    demo_db: Database, nlu_cache: Path, tmp_path: Path
) -> None:
    """Texts in through the running service; its replies out through a dispatcher whose
    clock the test moves, so Retry-After can be checked without waiting for it."""
    fake = FakeTwilio().start()
    port = free_port()
    service = Service(
        service_env(demo_db.url, port, fake.base_url, nlu_cache), tmp_path / "serve.log", port
    )
    deliveries = [Delivery(new_sid(), SENDERS[i], "hello") for i in range(3)]
    twilio = Twilio(service.base)
    try:
        service.start()
        for delivery in deliveries:
            assert twilio.deliver(delivery, until=time.monotonic() + 30)
        sids = {d.sid for d in deliveries}
        wait_until = time.monotonic() + 30
        while _processed(demo_db, sids)[1] < len(sids) and time.monotonic() < wait_until:
            time.sleep(0.2)
    finally:
        twilio.close()
        service.stop()
    replies = len(_reply_keys(demo_db))
    assert replies >= 3
    start = datetime.now(UTC) + timedelta(seconds=1)
    clock = FixedClock(start)
    fake.now = clock.now
    fake.script = [Fail(500), Fail(429, 20429, retry_after=120)]
    settings = twilio_settings_for(demo_db.url, fake.base_url, rate=100)
    assert isinstance(settings, Settings)

    async def dispatch_at(moment: datetime) -> int:
        clock.set(moment)
        sender = sms_sender_from_settings(settings, clock=clock)
        dispatcher = Dispatcher(
            db=demo_db, senders={Channel.SMS: sender}, clock=clock, zone=settings.zone
        )
        try:
            return (await dispatcher.run_once()).sent
        finally:
            await sender.aclose()

    try:
        first = asyncio.run(dispatch_at(start))
        held = _waiting(demo_db)
        at_31s = asyncio.run(dispatch_at(start + timedelta(seconds=31)))
        at_100s = asyncio.run(dispatch_at(start + timedelta(seconds=100)))
        at_121s = asyncio.run(dispatch_at(start + timedelta(seconds=121)))
    finally:
        fake.stop()
    bodies = [m["to"] + m["body"] for m in fake.accepted()]
    print(
        f"\n[twilio pushback] {replies} replies: sent {first} at once, {at_31s} after 31 s, "
        f"{at_100s} after 100 s, {at_121s} after 121 s (Retry-After 120); "
        f"{len(fake.sent())} requests, {len(bodies)} accepted"
    )
    assert first == replies - 2 and held == 2, "the two refused replies wait"
    assert at_31s == 1, "the 500 is tried again after the dispatcher's 30 s backoff"
    assert at_100s == 0, "the 429's Retry-After (120 s) is not cut short"
    assert at_121s == 1
    assert len(bodies) == len(set(bodies)) == replies, "each reply reached Twilio once"


def _waiting(db: Database) -> int:
    with db.session() as session:
        return len(
            session.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    col(OutboxMessage.idempotency_key).startswith("reply:"),
                    col(OutboxMessage.attempts) > 0,
                )
            ).all()
        )


def test_telegram_429_retry_after_is_honoured_and_the_reply_goes_once(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake_twilio: FakeTwilio,
) -> None:
    async def scenario(fake: FakeTelegram) -> tuple[int, int, int]:
        async with telegram_world(demo_db, clock, interpreter, fake, fake_twilio) as world:
            assert (await world.post(world.text("hello"))).status_code == 200
            fake.fail_next(
                "sendMessage", status=429, description="Too Many Requests", retry_after=90
            )
            await world.dispatch()
            early = len(fake.sent_to(GARETH_ID))
            clock.set(clock.now() + timedelta(seconds=60))
            await world.dispatch()
            still = len(fake.sent_to(GARETH_ID))
            clock.set(clock.now() + timedelta(seconds=31))
            await world.dispatch()
            await world.dispatch()
            return early, still, len(fake.sent_to(GARETH_ID))

    with FakeTelegram() as fake:
        early, still, finally_sent = asyncio.run(scenario(fake))
        refused = len(fake.calls_to("sendMessage"))
    print(
        f"\n[telegram 429 retry_after=90] delivered {early} at once, {still} after 60 s, "
        f"{finally_sent} after 91 s; {refused} sendMessage calls"
    )
    assert (early, still) == (0, 0), "Telegram's retry_after is waited out"
    assert finally_sent >= 1
    assert refused == finally_sent + 1, "one refused call, then each message once"
