"""The invitation to book (issue 14, item 3) stays in GSM-7 and within two segments as the
SMS renderer sends it (with its "1 Choose a time" line), whatever description the landlord's
system sends: long, with curly quotes, accents, emoji or several lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.sms.render import render_sms
from flows import invitations as rules
from flows.messages import Option
from flows.sms import MAX_SEGMENTS, is_gsm7, non_gsm7
from flows.wording import invitations as words
from storage.enums import JobPriority

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
EMERGENCY_LINE = "0300 555 0199"
DESCRIPTIONS = [
    "Kitchen tap dripping",
    "Leak from the bathroom ceiling into the hall " * 10,
    "Tenant says \u201cthe boiler\u2019s making a bang\u201d \u2014 check flue\u2026 \U0001f525",
    "Ffenestr wedi torri yn yr ystafell wely; g\u0175r y t\u00eey yn poeni\nSecond line\tand tab",
    "Fen\u00eatre cass\u00e9e \u0142azienka \u4e2d\u6587",
    "",
]
NAMES = ["Bartholomew", "Featherstonehaugh-Montgomery"]


def _facts(description: str, name: str, priority: JobPriority) -> rules.JobFacts:
    return rules.JobFacts(
        job_id=123456,
        reference="HMS-123456789",
        description=description,
        priority=priority,
        resident_first_name=name,
        emergency_phone=EMERGENCY_LINE,
    )


def _messages(description: str, name: str) -> list[rules.JobMessage]:
    routine = _facts(description, name, JobPriority.ROUTINE)
    message, _ = rules.emergency(_facts(description, name, JobPriority.EMERGENCY), now=NOW)
    return [rules.invite(routine, now=NOW), rules.follow_up(routine, now=NOW), message]


@pytest.mark.parametrize("description", DESCRIPTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_every_invitation_is_gsm7_within_two_segments(description: str, name: str) -> None:
    for message in _messages(description, name):
        options = [
            Option(str(o["key"]), str(o["label"])) for o in message.payload.get("options", [])
        ]
        body = render_sms(message.text, options)
        assert is_gsm7(body.text), non_gsm7(body.text)
        assert body.segments <= MAX_SEGMENTS, body


def test_the_description_is_cut_to_one_bounded_line() -> None:
    cut = words.short_description("Leak from the bathroom ceiling into the hall " * 10)
    assert len(cut) <= words.DESCRIPTION_LIMIT and cut.endswith(" hall Leak...")
    assert words.short_description("Door  sticks.\nHinge loose.") == "Door sticks. Hinge loose"
    assert words.short_description("C\u00f4te \u201cfen\u00eatre\u201d \U0001f525") == (
        'Cote "fenetre"'
    )
    assert words.short_description("\U0001f525") == "a repair"


def test_invite_and_follow_up_offer_one_button_that_books_this_job() -> None:
    routine = _facts("Kitchen tap dripping", "Margaret", JobPriority.ROUTINE)
    for message in (rules.invite(routine, now=NOW), rules.follow_up(routine, now=NOW)):
        assert "Reply 1 to choose a time" in message.text
        assert message.payload["options"] == [{"key": "1", "label": "Choose a time"}]
        assert message.payload["menu"] == [["1", "Choose a time", "book", 123456]]
        assert (message.purpose, message.time_critical) == ("service", False)


def test_an_emergency_waits_for_no_reply() -> None:
    message, task = rules.emergency(
        _facts("Gas smell in kitchen", "Margaret", JobPriority.EMERGENCY), now=NOW
    )
    assert "options" not in message.payload and "menu" not in message.payload
    assert (message.purpose, message.time_critical) == ("urgent_safety", True)
    assert "We will call you today" in message.text and EMERGENCY_LINE in message.text
    assert task.urgent and "arrange it today" in task.summary
