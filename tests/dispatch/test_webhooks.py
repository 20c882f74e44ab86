"""Webhooks to a landlord's system (issue 14): a real HTTP receiver on 127.0.0.1 gets every
event signed (and the signature verifies with the ten-line check), and a receiver that is
down, slow or answering 500 gets every event once it recovers, in order per job; after the
limit a delivery is dead, on the dead-letter list, and a resend delivers it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli.main import app
from bot.common.clock import FixedClock
from bot.common.webhook_signing import sign, verify
from bot.outbound.dispatcher import Backoff
from bot.outbound.webhooks import SubscriptionRefused, WebhookWorker, check_url, subscribe
from fakes.webhook_receiver import Receiver
from simphone import Phone
from storage.db import Database
from storage.models import Landlord, RepairJob, WebhookDelivery
from storage.repositories import landlord_events
from storage.repositories import webhooks as webhook_rows


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.up()
    yield r
    r.down()


def _demo(db: Database) -> int:
    with db.session() as session:
        landlord = session.exec(select(Landlord).where(Landlord.reference == "demo")).one()
        assert landlord.id is not None
        return landlord.id


def _subscribe(db: Database, clock: FixedClock, url: str, kinds: tuple[str, ...] = ()) -> str:
    with db.session() as session:
        return subscribe(
            session, landlord_id=_demo(db), url=url, kinds=kinds, now=clock.now()
        ).secret


def _jobs(db: Database, n: int) -> list[RepairJob]:
    with db.session() as session:
        jobs = session.exec(select(RepairJob).order_by(RepairJob.id).limit(n)).all()
        return list(jobs)


def _event(db: Database, clock: FixedClock, job: RepairJob | None, n: int) -> int:
    """An event of the demo landlord, through the one writer (what a flow would do)."""
    with db.session() as session:
        event = landlord_events.record(
            session,
            landlord_id=job.landlord_id if job else _demo(db),
            kind=landlord_events.CALLBACK_REQUESTED,
            now=clock.now(),
            data={"n": n},
            job=job,
        )
        assert event.id is not None
        return event.id


def _worker(db: Database, clock: FixedClock, **kw: Any) -> WebhookWorker:
    kw.setdefault("timeout", 0.5)
    return WebhookWorker(db=db, clock=clock, **kw)


def _run(worker: WebhookWorker) -> Any:
    return asyncio.run(worker.run_once())


def _statuses(db: Database) -> dict[int, tuple[str, int]]:
    with db.session() as session:
        rows = session.exec(select(WebhookDelivery).order_by(WebhookDelivery.event_id)).all()
        return {r.event_id: (r.status, r.attempts) for r in rows}


def _ids(receiver: Receiver) -> list[int]:
    return [r.event["id"] for r in receiver.got]


def test_a_booking_arrives_signed_and_verifies(
    client: TestClient, phone: Phone, demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    secret = _subscribe(demo_db, clock, receiver.url)
    assert secret.startswith("whsec_") and len(secret) > 40
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")
    phone.say("I need to cancel my appointment")
    phone.say("1")
    stats = _run(_worker(demo_db, clock))
    assert stats.delivered == 2
    booked, cancelled = receiver.got
    assert booked.event["type"] == "appointment.booked"
    assert cancelled.event["type"] == "appointment.cancelled"
    assert booked.event["job"] == cancelled.event["job"] and booked.event["landlord"] == "demo"
    now = clock.now().timestamp()
    for got in receiver.got:
        headers = {k.lower(): v for k, v in got.headers.items()}
        assert headers["content-type"] == "application/json"
        assert headers["doorstep-event-id"] == str(got.event["id"])
        assert headers["doorstep-event-type"] == got.event["type"]
        assert headers["doorstep-delivery-attempt"] == "1"
        signature = headers["doorstep-signature"]
        assert signature.startswith(f"t={int(now)},v1=")
        assert verify(secret, signature, got.body, now=now)
        assert _ten_line_receiver(secret, signature, got.body, now)
        # Tampered, replayed five minutes later, or checked with another secret: refused.
        assert not verify(secret, signature, got.body.replace(b"demo", b"acme"), now=now)
        assert not verify(secret, signature, got.body, now=now + 301)
        assert not verify(secret, signature, got.body, now=now - 301)
        assert not verify(secret + "x", signature, got.body, now=now)
        assert not _ten_line_receiver(secret, signature, got.body + b" ", now)
    # The same envelope the feed gives.
    with demo_db.session() as session:
        rows = landlord_events.page(session, landlord_id=_demo(demo_db), after=0, limit=10)
        assert [landlord_events.envelope(r, landlord_reference="demo") for r in rows] == [
            g.event for g in receiver.got
        ]
    # Nothing is sent twice.
    assert _run(_worker(demo_db, clock)).delivered == 0
    assert len(receiver.got) == 2


def _ten_line_receiver(secret: str, header: str, body: bytes, now: float) -> bool:
    """The receiver docs/integration.md shows, with the clock passed in."""
    import hashlib
    import hmac

    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    t = next((v for k, v in parts if k.strip() == "t"), "")
    if not t.isdigit() or abs(now - int(t)) > 300:
        return False
    mac = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256)
    return any(k.strip() == "v1" and hmac.compare_digest(v, mac.hexdigest()) for k, v in parts)


def test_malformed_signatures_do_not_verify() -> None:
    body = b'{"id":1}'
    good = sign("whsec_x", body, timestamp=1000)
    assert verify("whsec_x", good, body, now=1000)
    for header in ("", "t=,v1=", "v1=abc", "t=1000", "t=abc,v1=x", "t=１０００,v1=x", good + "x"):
        assert not verify("whsec_x", header, body, now=1000), header
    assert verify("whsec_x", f"t=1000,v1=nope,{good.split(',')[1]}", body, now=1000)


def test_a_receiver_that_is_down_gets_every_event_in_order_once_it_is_back(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    a, b = _jobs(demo_db, 2)
    receiver.down()
    events = [_event(demo_db, clock, job, n) for n, job in enumerate((a, a, b, a, b, None))]
    stats = _run(_worker(demo_db, clock))
    # Only the first waiting event of each job (and of "no job") was tried.
    assert (stats.delivered, stats.retried) == (0, 3)
    first_try = _statuses(demo_db)
    assert [first_try[e] for e in events] == [
        ("pending", 1),
        ("pending", 0),
        ("pending", 1),
        ("pending", 0),
        ("pending", 0),
        ("pending", 1),
    ]
    # Backoff: nothing is due again for 30 s.
    clock.advance(timedelta(seconds=29))
    assert _run(_worker(demo_db, clock)).retried == 0
    clock.advance(timedelta(seconds=1))
    assert _run(_worker(demo_db, clock)).retried == 3  # still down: next try in a minute
    with demo_db.session() as session:
        row = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == events[0]))
        first = row.one()
    assert first.not_before == clock.now() + timedelta(seconds=60)
    assert first.last_status_code is None and "connect" in (first.last_error or "")
    receiver.up()
    clock.advance(timedelta(seconds=60))
    assert _run(_worker(demo_db, clock)).delivered == 6
    assert sorted(_ids(receiver)) == events
    _assert_in_order_per_job(receiver)
    # A later try says which attempt it is.
    first_got = next(r for r in receiver.got if r.event["id"] == events[0])
    assert first_got.headers["Doorstep-Delivery-Attempt"] == "3"


def _assert_in_order_per_job(receiver: Receiver) -> None:
    by_job: dict[str | None, list[int]] = {}
    for got in receiver.got:
        by_job.setdefault(got.event["job"], []).append(got.event["id"])
    for ids in by_job.values():
        assert ids == sorted(ids)


def test_a_receiver_answering_500_is_retried_then_gets_them_in_order(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    (job,) = _jobs(demo_db, 1)
    receiver.mode = "500"
    events = [_event(demo_db, clock, job, n) for n in range(4)]
    for _ in range(3):
        assert _run(_worker(demo_db, clock)).retried == 1
        clock.advance(timedelta(hours=1))
    with demo_db.session() as session:
        first = session.exec(
            select(WebhookDelivery).where(WebhookDelivery.event_id == events[0])
        ).one()
    assert (first.status, first.attempts) == ("pending", 3)
    assert (first.last_status_code, first.last_error) == (500, "HTTP 500")
    receiver.mode = "ok"
    assert _run(_worker(demo_db, clock)).delivered == 4
    assert _ids(receiver) == events
    assert all(s == ("delivered", a) for s, a in [(v, v[1]) for v in _statuses(demo_db).values()])


def test_a_slow_receiver_times_out_and_is_retried(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    (job,) = _jobs(demo_db, 1)
    receiver.mode = "slow"
    events = [_event(demo_db, clock, job, n) for n in range(2)]
    started = time.monotonic()
    assert _run(_worker(demo_db, clock, timeout=0.3)).retried == 1
    assert time.monotonic() - started < 1.5  # the worker did not wait for the slow answer
    with demo_db.session() as session:
        first = session.exec(
            select(WebhookDelivery).where(WebhookDelivery.event_id == events[0])
        ).one()
    assert first.status == "pending" and (first.last_error or "").startswith("timeout")
    receiver.mode = "ok"
    clock.advance(timedelta(seconds=30))
    assert _run(_worker(demo_db, clock)).delivered == 2
    assert _ids(receiver) == events


def test_a_flaky_receiver_gets_every_event_of_each_job_in_order(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    """Down, up, 500 and up again while events keep coming: once it stays up, every event
    has arrived, and each job's arrived in the order they happened."""
    _subscribe(demo_db, clock, receiver.url)
    jobs = _jobs(demo_db, 3)
    events: list[int] = []
    worker = _worker(demo_db, clock, backoff=Backoff(base=timedelta(seconds=10)))
    for round_, mode in enumerate(("down", "ok", "500", "ok", "down", "500", "ok")):
        if mode == "down":
            receiver.down()
        else:
            if receiver._server is None:
                receiver.up()
            receiver.mode = mode
        events += [_event(demo_db, clock, jobs[(round_ + i) % 3], i) for i in range(3)]
        _run(worker)
        clock.advance(timedelta(minutes=2))
    for _ in range(10):
        _run(worker)
        clock.advance(timedelta(hours=1))
    assert sorted(_ids(receiver)) == sorted(events)
    _assert_in_order_per_job(receiver)


def test_dead_after_the_limit_then_resent_from_the_dead_letter_list(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    (job,) = _jobs(demo_db, 1)
    receiver.mode = "500"
    first, second = (_event(demo_db, clock, job, n) for n in range(2))
    worker = _worker(demo_db, clock, max_attempts=2)
    assert _run(worker).retried == 1
    clock.advance(timedelta(minutes=1))
    stats = _run(worker)
    # The first is dead after two tries; a dead delivery does not hold its job's next one.
    assert stats.dead == 1 and stats.retried == 1
    clock.advance(timedelta(minutes=1))
    assert _run(worker).dead == 1
    assert _statuses(demo_db) == {first: ("dead", 2), second: ("dead", 2)}
    with demo_db.session() as session:
        dead = webhook_rows.dead_letters(session, limit=1)
        older = webhook_rows.dead_letters(session, before_id=dead[0].delivery.id, limit=1)
    assert [d.delivery.event_id for d in dead + older] == [second, first]
    assert dead[0].event_kind == "callback.requested" and dead[0].job_reference == job.reference
    assert dead[0].delivery.last_error == "HTTP 500"
    receiver.mode = "ok"
    with demo_db.session() as session:
        for row in (*older, *dead):
            assert row.delivery.id is not None
            assert webhook_rows.resend(session, delivery_id=row.delivery.id, now=clock.now())
            assert not webhook_rows.resend(session, delivery_id=row.delivery.id, now=clock.now())
    assert _run(worker).delivered == 2
    assert _ids(receiver) == [first, second]
    with demo_db.session() as session:
        assert webhook_rows.dead_letters(session) == []


def test_a_delivery_older_than_a_day_is_dead_at_its_next_failure(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    receiver.mode = "500"
    event = _event(demo_db, clock, None, 0)
    worker = _worker(demo_db, clock)
    _run(worker)
    clock.advance(timedelta(hours=24))
    assert _run(worker).dead == 1
    assert _statuses(demo_db)[event] == ("dead", 2)


def test_a_dead_workers_claim_is_delivered_again(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    event = _event(demo_db, clock, None, 0)
    with demo_db.session() as session:
        claimed = webhook_rows.claim_due(
            session, now=clock.now(), size=10, worker_id="crashed", skip_locked=False
        )
    assert [c.event.id for c in claimed] == [event]
    assert _run(_worker(demo_db, clock)).delivered == 0  # still someone else's
    clock.advance(timedelta(minutes=6))
    stats = _run(_worker(demo_db, clock))
    assert (stats.released, stats.delivered) == (1, 1)
    assert _ids(receiver) == [event]
    assert receiver.got[0].headers["Doorstep-Delivery-Attempt"] == "2"


def test_a_subscription_gets_only_the_types_it_asked_for(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url, ("appointment.booked",))
    _event(demo_db, clock, None, 0)
    assert _run(_worker(demo_db, clock)).delivered == 0
    assert receiver.got == []


def test_urls_and_types_a_subscription_may_not_have(demo_db: Database, clock: FixedClock) -> None:
    assert check_url("https://hms.example.org/hooks?x=1") == "https://hms.example.org/hooks?x=1"
    assert check_url("http://localhost:8080/h") == "http://localhost:8080/h"
    for bad in (
        "http://hms.example.org/hooks",
        "ftp://127.0.0.1/",
        "https://user:pw@hms.example.org/",
        "https://",
        "https://x.org/" + "a" * 2000,
        "https://x.org/a b",
        "not a url",
        "http://[::1/",
    ):
        with pytest.raises(SubscriptionRefused):
            check_url(bad)
    with demo_db.session() as session, pytest.raises(SubscriptionRefused, match="unknown event"):
        subscribe(
            session,
            landlord_id=_demo(demo_db),
            url="https://x.org/",
            kinds=["nope"],
            now=clock.now(),
        )


def test_removing_a_subscription_stops_its_deliveries(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    event = _event(demo_db, clock, None, 0)
    with demo_db.session() as session:
        (sub,) = webhook_rows.subscriptions(session)
        assert sub.id is not None
        assert webhook_rows.remove_subscription(session, subscription_id=sub.id, now=clock.now())
    _event(demo_db, clock, None, 1)  # queued for no one
    assert _run(_worker(demo_db, clock)).delivered == 0
    assert _statuses(demo_db) == {event: ("dead", 0)}
    with demo_db.session() as session:
        assert webhook_rows.dead_letters(session) == []  # removed: not on the list


# -- the CLI --------------------------------------------------------------------------------


def test_the_cli_adds_lists_removes_and_resends(
    demo_db: Database,
    clock: FixedClock,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", demo_db.url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "webhooks",
            "add",
            "--landlord",
            "demo",
            "--url",
            receiver.url,
            "--events",
            "callback.requested,appointment.booked",
        ],
    )
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    assert "callback.requested, appointment.booked" in added.output
    listed = runner.invoke(app, ["webhooks", "list"])
    assert listed.exit_code == 0 and receiver.url in listed.output
    assert secret not in listed.output
    refused = runner.invoke(
        app, ["webhooks", "add", "--landlord", "demo", "--url", "http://hms.example.org/"]
    )
    assert refused.exit_code == 2 and "https" in refused.output
    nobody = runner.invoke(app, ["webhooks", "add", "--landlord", "nope", "--url", receiver.url])
    assert nobody.exit_code == 2 and "no landlord" in nobody.output
    # A delivery dies, and is resent from the command line.
    receiver.mode = "500"
    event = _event(demo_db, clock, None, 0)
    _run(_worker(demo_db, clock, max_attempts=1))
    dead = runner.invoke(app, ["webhooks", "dead"])
    assert "callback.requested" in dead.output and "HTTP 500" in dead.output
    delivery_id = dead.output.split("\t", 1)[0]
    receiver.mode = "ok"
    resent = runner.invoke(app, ["webhooks", "resend", delivery_id])
    assert resent.exit_code == 0, resent.output
    assert _run(_worker(demo_db, clock)).delivered == 1
    assert _ids(receiver) == [event]
    again = runner.invoke(app, ["webhooks", "resend", "999999"])
    assert again.exit_code == 2
    subscription_id = listed.output.split("\t", 1)[0]
    removed = runner.invoke(app, ["webhooks", "remove", subscription_id])
    assert removed.exit_code == 0 and "removed" in removed.output
    assert runner.invoke(app, ["webhooks", "list"]).output.strip() == ""
    assert runner.invoke(app, ["webhooks", "remove", subscription_id]).exit_code == 2


def test_the_running_scheduler_delivers_webhooks(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    from zoneinfo import ZoneInfo

    from bot.common.flowset import default_flows
    from bot.outbound.fake import RecordingSender
    from bot.outbound.scheduler import Intervals, Scheduler
    from storage.enums import Channel

    _subscribe(demo_db, clock, receiver.url)
    event = _event(demo_db, clock, None, 0)
    every = 60.0
    jobs = Scheduler(
        db=demo_db,
        clock=clock,
        zone=ZoneInfo("Europe/London"),
        flows=default_flows(),
        senders={Channel.SMS: RecordingSender()},
        intervals=Intervals(
            plan=every, dispatch=every, reconcile=every, timeouts=every, leader=every, webhooks=0.2
        ),
        worker_id="solo",
    )

    async def run() -> None:
        await jobs.start()
        for _ in range(50):
            await asyncio.sleep(0.1)
            if receiver.got:
                break
        await jobs.shutdown()

    asyncio.run(run())
    assert _ids(receiver) == [event]


def test_two_workers_at_once_send_each_event_once_in_order_per_job(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    """Two instances' workers share the deliveries (SKIP LOCKED on PostgreSQL): no event
    goes twice and no job's events overtake each other."""
    _subscribe(demo_db, clock, receiver.url)
    jobs = _jobs(demo_db, 4)
    events = [_event(demo_db, clock, jobs[i % 4], i) for i in range(40)]
    one = _worker(demo_db, clock, worker_id="one", batch_size=3, concurrency=2)
    two = _worker(demo_db, clock, worker_id="two", batch_size=3, concurrency=2)

    async def both() -> None:
        await asyncio.gather(one.run_once(), two.run_once())

    asyncio.run(both())
    for _ in range(5):  # a worker that found a job's next event blocked leaves it for later
        asyncio.run(both())
    assert sorted(_ids(receiver)) == events
    _assert_in_order_per_job(receiver)


def test_a_busy_receivers_retry_after_is_honoured_and_a_redirect_is_not_followed(
    demo_db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    _subscribe(demo_db, clock, receiver.url)
    event = _event(demo_db, clock, None, 0)
    receiver.mode = "busy"
    worker = _worker(demo_db, clock)
    assert _run(worker).retried == 1
    with demo_db.session() as session:
        row = session.exec(select(WebhookDelivery)).one()
    assert row.not_before == clock.now() + timedelta(seconds=600)  # not the 30 s backoff
    assert (row.last_status_code, row.last_error) == (503, "HTTP 503")
    receiver.mode = "moved"
    clock.advance(timedelta(seconds=600))
    assert _run(worker).retried == 1
    with demo_db.session() as session:
        row = session.exec(select(WebhookDelivery)).one()
    assert (row.status, row.last_status_code) == ("pending", 301)
    receiver.mode = "ok"
    clock.advance(timedelta(hours=1))
    assert _run(worker).delivered == 1
    assert _ids(receiver) == [event]


def test_the_worker_logs_no_body_secret_or_url(
    demo_db: Database,
    clock: FixedClock,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = _subscribe(demo_db, clock, receiver.url + "?token=receiver-token")
    with demo_db.session() as session:
        landlord_events.record(
            session,
            landlord_id=_demo(demo_db),
            kind=landlord_events.COMPLAINT_RAISED,
            now=clock.now(),
            data={"text": "the operative was rude to my daughter"},
        )
    receiver.mode = "500"
    with caplog.at_level(logging.DEBUG):
        _run(_worker(demo_db, clock, max_attempts=1))
    # Ours: httpx's own lines (which name the URL) are held at WARNING by configure_logging.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "webhook delivery failed" in ours and "HTTP 500" in ours
    for secret_thing in (secret, "rude to my daughter", "receiver-token", str(receiver.port)):
        assert secret_thing not in ours
