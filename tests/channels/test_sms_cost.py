"""What texts cost, as Twilio is asked to send them (issue 15, item 8).

A resident's own words quoted back (an emoji, a curly apostrophe, a Polish letter) must not
switch the reply to UCS-2: the quote is made GSM-7 first. The common replies of a booking
take one segment each and the confirmation at most two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.common.clock import FixedClock
from fakes.fake_twilio import FakeTwilio, running
from fakes.sms_harness import SmsWorld, sms_settings, sms_world
from flows.sms import is_gsm7, non_gsm7, sms_cost
from nlu.builtin import BuiltinInterpreter
from storage.db import Database

#: What a phone's keyboard really sends: an emoji, curly quotes and apostrophe, an en dash,
#: and a Polish letter.
MESSY_NEED = (
    "I use a wheelchair \U0001f44d please ring twice \u2013 my dog\u2019s called "
    "\u201cRex\u201d, he\u2019s friendly. M\u00f3wi\u0119 po polsku"
)


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


def _segments(body: str) -> int:
    assert is_gsm7(body), non_gsm7(body)
    return sms_cost(body).segments


def test_a_quoted_need_keeps_gsm7_and_a_booking_costs_one_segment_a_reply(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            (greeting,) = await _say(world, "hiya")
            assert _segments(greeting) == 1 and "RH-10421" in greeting

            (check,) = await _say(world, "book a visit pls")
            assert _segments(check) == 1 and "wheelchair" in check
            (ask,) = await _say(world, "2")  # change it
            assert _segments(ask) == 1

            # Her words come back quoted in the consent question: still GSM-7, one segment.
            (consent,) = await _say(world, MESSY_NEED)
            assert _segments(consent) == 1
            assert "my dog's called" in consent or "I use a wheelchair please ring" in consent

            replies = await _say(world, "1")  # yes, share it
            assert all(_segments(body) == 1 for body in replies), replies
            offer = replies[-1]
            assert "None of these" in offer

            (booked,) = await _say(world, "1")
            assert booked.startswith("Booked:") and _segments(booked) <= 2

    asyncio.run(scenario())
