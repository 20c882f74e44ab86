"""A misreading must not change what Doorstep does; the real requests still work.

Handing the conversation to a person and raising an alert act at once only on a
confident reading, or when the resident sent just the number of that menu option;
otherwise the resident is asked first (numbers, never YES/STOP words as the prompt).
Opting out in words is always asked first; the carrier keywords stay exact and immediate.
The confirmation of an opt-out is a reply and always reaches the resident, even though the
opt-out is recorded before it goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from bot.common.clock import FixedClock
from fakes.fake_twilio import FakeTwilio, running
from fakes.sms_harness import MARGARET, sms_settings, sms_world
from flows.messages import OPT_OUT_CONFIRMATION
from nlu.builtin import BuiltinInterpreter
from simphone import Phone
from storage.db import Database
from storage.enums import Decision, TaskKind
from storage.models import ContactDecision, Conversation, OutboxMessage, Resident, StaffTask

STOP_CONFIRMED = "we will not send you any more messages here"


def _resident(db: Database, number: str) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.mobile == number)).one()


def _tasks(db: Database) -> list[StaffTask]:
    with db.session() as session:
        return list(session.exec(select(StaffTask)).all())


def _paused(db: Database, number: str) -> bool:
    with db.session() as session:
        conversation = session.exec(
            select(Conversation).where(Conversation.address == number)
        ).one()
        return conversation.paused


def _labels(reply: dict[str, object]) -> list[str]:
    options = reply["options"]
    assert isinstance(options, list)
    return [str(o["label"]) for o in options]


# --- the three misreadings ----------------------------------------------------------------


def test_sql_in_a_text_does_not_opt_the_resident_out(phone: Phone, demo_db: Database) -> None:
    phone.say("'; DROP TABLE messages; --")
    reply = phone.pop()
    assert STOP_CONFIRMED not in str(reply["text"])
    assert _resident(demo_db, phone.number).sms_opted_out_at is None
    if "stop sending you messages" in str(reply["text"]):  # asked, never assumed
        phone.say("2")
        assert "keep sending you updates" in phone.pop_text()
    assert _resident(demo_db, phone.number).sms_opted_out_at is None
    phone.say("when is my appointment")  # the messages table is fine, and so are we
    assert "no visits booked" in phone.pop_text()


def test_big_id_raises_no_alert_until_the_resident_says_someone_is_there(
    phone: Phone, demo_db: Database
) -> None:
    phone.say("big id")
    question = phone.pop()
    assert _tasks(demo_db) == []  # no urgent bogus-caller alert from two words
    if "at your door now" in str(question["text"]):
        assert _labels(question) == ["Yes, someone is here", "No"]
        phone.say("2")
        assert phone.pop_text() == "OK. Text us any time."
    assert _tasks(demo_db) == []


def test_a_number_inside_a_greeting_does_not_hand_the_conversation_over(
    phone: Phone, demo_db: Database
) -> None:
    phone.say("hello #4")
    reply = phone.pop()
    assert not any(t.kind == TaskKind.HANDOFF for t in _tasks(demo_db))
    assert not _paused(demo_db, phone.number)
    if "member of our team" in str(reply["text"]):
        assert _labels(reply) == ["Yes, please", "No thanks"]
        phone.say("no thanks")
        assert phone.pop_text() == "OK. Text us any time."
    assert not any(t.kind == TaskKind.HANDOFF for t in _tasks(demo_db))
    phone.say("when is my appointment")  # still answered: nothing was paused
    assert "no visits booked" in phone.pop_text()


# --- asked first, then done on "1" ----------------------------------------------------------


def test_an_unsure_handoff_is_asked_first_and_done_on_1(phone: Phone, demo_db: Database) -> None:
    phone.say("hello #4")
    question = phone.pop_text()
    assert question == "Do you want a member of our team to contact you?"
    phone.say("1")
    assert phone.pop_text().startswith("Our team will contact you")
    (handoff,) = [t for t in _tasks(demo_db) if t.kind == TaskKind.HANDOFF]
    assert "hello #4" in handoff.summary
    assert _paused(demo_db, phone.number)


def test_an_unsure_caller_check_with_no_visit_alerts_on_1(phone: Phone, demo_db: Database) -> None:
    phone.say("big id")
    question = phone.pop_text()
    assert question.startswith("We have no visit booked for you today.")
    assert "Is someone at your door now saying they are from us?" in question
    phone.say("yes")
    warning = phone.pop_text()
    assert warning.startswith("We have no visit booked for you today, so do not let them in.")
    (alert,) = _tasks(demo_db)
    assert alert.kind == TaskKind.ALERT and alert.urgent


def test_the_question_expires(phone: Phone, client: TestClient, demo_db: Database) -> None:
    phone.say("hello #4")
    phone.pop()
    client.post("/simulator/api/clock", json={"advance_minutes": 90})
    phone.say("1")  # an hour and a half later, "1" is the main menu's "Book a repair visit"
    assert not any(t.kind == TaskKind.HANDOFF for t in _tasks(demo_db))


# --- the real requests still act at once ------------------------------------------------


@pytest.mark.parametrize(
    ("words", "answer"),
    [("please stop texting me", "1"), ("stop sending me messages", "yes"), ("unsubscribe me", "1")],
)
def test_asking_to_stop_in_words_is_confirmed_then_done(
    words: str, answer: str, phone: Phone, demo_db: Database
) -> None:
    phone.say(words)
    question = phone.pop()
    assert question["text"] == (
        "Do you want us to stop sending you messages here about your repairs?"
    )
    assert _labels(question) == ["Yes, no more messages", "No, keep them coming"]
    assert _resident(demo_db, phone.number).sms_opted_out_at is None
    phone.say(answer)
    assert STOP_CONFIRMED in phone.pop_text()
    assert _resident(demo_db, phone.number).sms_opted_out_at is not None


@pytest.mark.parametrize("keyword", ["STOP", "stopall", "Unsubscribe", "END", "QUIT", "optout"])
def test_carrier_keywords_are_exact_and_immediate(
    keyword: str, phone: Phone, demo_db: Database
) -> None:
    assert phone.say(keyword) == []  # the carrier has answered them; we stay silent
    assert _resident(demo_db, phone.number).sms_opted_out_at is not None


def test_asking_for_a_person_hands_over_at_once(phone: Phone, demo_db: Database) -> None:
    phone.say("can I speak to a real person please")
    assert phone.pop_text().startswith("Our team will contact you")
    assert [t.kind for t in _tasks(demo_db)] == [TaskKind.HANDOFF]
    assert _paused(demo_db, phone.number)


def test_option_4_of_the_menu_hands_over_at_once(phone: Phone, demo_db: Database) -> None:
    phone.say("hi")
    phone.pop()
    phone.say("4")
    assert phone.pop_text().startswith("Our team will contact you")
    assert [t.kind for t in _tasks(demo_db)] == [TaskKind.HANDOFF]


# --- the opt-out confirmation always goes -------------------------------------------------


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


def test_the_opt_out_confirmation_reaches_the_resident_by_sms(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        async with sms_world(
            sms_settings(demo_db.url, fake), demo_db, clock, interpreter, fake
        ) as world:
            for text in ("please stop texting me", "1"):
                await world.text(text)
                stats = await world.dispatcher.run_once()
                assert stats.blocked == 0
        bodies = [m["body"] for m in fake.accepted()]
        assert len(bodies) == 2
        assert bodies[0].startswith("Do you want us to stop sending you messages here")
        assert STOP_CONFIRMED in bodies[1]
        assert all(m["to"] == MARGARET for m in fake.accepted())

    asyncio.run(scenario())
    assert _resident(demo_db, MARGARET).sms_opted_out_at is not None
    with demo_db.session() as session:
        row = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == OPT_OUT_CONFIRMATION)
        ).one()
        decision = session.exec(
            select(ContactDecision).where(ContactDecision.outbox_id == row.id)
        ).one()
    assert decision.decision == Decision.SEND
