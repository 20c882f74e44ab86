"""A resident books a repair visit by text, from Twilio's webhook to Twilio's API and back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import select

from bot.common.clock import FixedClock
from fakes.fake_twilio import MESSAGING_SERVICE_SID, FakeTwilio, running
from fakes.sms_harness import MARGARET, PUBLIC, SmsWorld, sms_settings, sms_world
from flows.sms import sms_cost
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import AppointmentStatus
from storage.models import Appointment, RepairJob


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


async def _say(world: SmsWorld, text: str) -> list[str]:
    """Text the service, let the dispatcher send the answers, return what the phone got."""
    before = len(world.fake.accepted())
    assert (await world.text(text)).status_code == 200
    stats = await world.dispatcher.run_once()
    assert stats.failed == 0 and stats.blocked == 0
    return [m["body"] for m in world.fake.accepted()[before:]]


def test_margaret_books_a_visit_by_sms(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            (check,) = await _say(world, "hi can someone come and fix my tap")
            assert "I use a wheelchair, please use the side ramp" in check
            assert check.splitlines()[-2].startswith("1 ") and check.splitlines()[-1].startswith(
                "2 "
            )

            (offer,) = await _say(world, "1")
            lines = offer.splitlines()
            assert "1 Tue 1 Dec, morning 8am-12pm" in lines
            assert "2 Wed 2 Dec, morning 8am-12pm" in lines
            assert "4 None of these" in lines

            (first,) = await _say(world, "2")  # one message of at most two segments
            assert first.startswith("Booked: Wed 2 Dec, morning 8am-12pm")
            assert "Sam Carter" in first and "badge 55101" in first
            assert first.endswith("1 Change the time\n2 Call the visit off")
            assert sms_cost(first).segments <= 2

            for request in world.fake.sent():
                assert request.one("To") == MARGARET
                assert request.one("MessagingServiceSid") == MESSAGING_SERVICE_SID
                callback = str(request.one("StatusCallback"))
                assert callback.startswith(PUBLIC + "/webhooks/twilio/status?outbox=")
                assert request.one("ValidityPeriod") == "36000"  # a day's validity, clamped
            transcript = [m.text for m in world.outbound()]
            assert transcript[-1] == first.split("\n1 ")[0]

        with demo_db.session() as session:
            job = session.exec(select(RepairJob).where(RepairJob.reference == "RH-10421")).one()
            (appointment,) = session.exec(
                select(Appointment).where(Appointment.job_id == job.id)
            ).all()
        assert appointment.status == AppointmentStatus.BOOKED
        assert appointment.day == date(2026, 12, 2)
        assert f"visit code {appointment.visit_code}" in first

    asyncio.run(scenario())
