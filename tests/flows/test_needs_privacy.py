"""Which messages carry an access need (flows/needs_privacy.py), read as transcripts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.operatives.briefing import SharedNeed, VisitBrief, visit_text
from flows.context import AccessNeedView, LandlordView, ResidentView
from flows.messages import Reply
from flows.needs_privacy import Said, carrying_needs, one_carries_need, quotes_a_need
from flows.wording import common, door, safety, visits

NEED = AccessNeedView(1, "wheelchair", "I use a wheelchair, please use the side ramp", True)
RESIDENT = ResidentView(id=1, name="Margaret Okafor", access_needs=(NEED,))
LANDLORD = LandlordView(name="Riverside Homes", phone="0300 555 0140", emergency_phone="999")

LONG_NEED = (
    "My son is autistic and gets very distressed by loud noises, so please knock softly "
    "and tell me before you use any power tools"
)


@pytest.mark.parametrize(
    "reply",
    [
        visits.needs_check((NEED,)),
        visits.ask_consent(LONG_NEED),
        visits.need_noted(LONG_NEED, shared=True, review="1 Dec 2027"),
        visits.need_noted(LONG_NEED, shared=False, review="1 Dec 2027"),
        visits.needs_on_record((NEED,)),
    ],
    ids=["needs_check", "ask_consent", "noted_shared", "noted_private", "on_record"],
)
def test_every_template_that_quotes_a_need_is_recognised(reply: Reply) -> None:
    assert quotes_a_need(reply.text)


def test_templates_that_quote_nothing_are_not_taken_for_a_need() -> None:
    others = [
        common.greeting(RESIDENT),
        common.menu(RESIDENT),
        common.help_text(RESIDENT),
        visits.ask_needs(),
        visits.ask_new_needs(),
        visits.needs_on_record(()),
        safety.opted_out(),
        safety.confirm_opt_out(),
        safety.confirm_handoff(),
        door.no_visit_today(LANDLORD),
        door.confirm_caller_at_door(LANDLORD, visit_today=False),
    ]
    for reply in others:
        assert not one_carries_need(reply.text, on_record=[NEED.own_words]), reply.text


def test_an_operatives_briefing_listing_needs_is_recognised() -> None:
    brief = VisitBrief(
        appointment_id=1,
        window="morning",
        starts_at=datetime(2026, 12, 1, 8, tzinfo=UTC),
        address="Flat 1, Aire Court, Leeds",
        job="Kitchen tap dripping",
        visit_code="4821",
        needs=(SharedNeed(1, "I am deaf, please text me, do not ring"),),
        previous_jobs=(),
        completed_jobs=0,
        complaints=0,
        has_password=False,
    )
    assert quotes_a_need(visit_text(brief, 1))
    assert not quotes_a_need(visit_text(replace(brief, needs=()), 1))


def test_the_answer_to_our_question_about_needs_carries_one() -> None:
    lines = [
        Said("in", "book a visit", "book_visit"),
        Said("out", visits.ask_needs().text),
        Said("in", "my son is autistic, please knock softly", "give_feedback"),
        Said("out", visits.ask_consent("my son is autistic, please knock softly").text),
        Said("in", "1", "affirm"),
        Said("out", "Thank you, we have noted that."),
    ]
    assert carrying_needs(lines) == [False, False, True, True, False, False]


def test_nothing_to_add_is_not_a_need() -> None:
    lines = [Said("out", visits.ask_needs().text), Said("in", "0", "out_of_scope")]
    assert carrying_needs(lines) == [False, False]


def test_a_need_on_record_is_found_in_other_words_around_it() -> None:
    lines = [
        Said("in", "hi", "greet"),
        Said("in", "Reminder:  I am DEAF, please text me,   do not ring. thanks", "thank"),
        Said("out", "Due today: Sam Carter ... text me the code"),
        Said("out", f'We have noted "{LONG_NEED[:57]}..." for your visit'),
    ]
    found = carrying_needs(lines, on_record=["I am deaf, please text me, do not ring", LONG_NEED])
    assert found == [False, True, False, True]


def test_a_short_need_matches_whole_words_only() -> None:
    assert one_carries_need("My dog will be in the kitchen", on_record=["dog"])
    assert not one_carries_need("He was dogged about it", on_record=["dog"])
    assert not one_carries_need("ok thanks", on_record=["ok"])  # too short to look for


def test_the_telling_intent_carries_a_need_and_its_quote_follows() -> None:
    lines = [
        Said("in", "I have a big dog", "inform_access_needs"),
        Said("out", "Noted: I have a big dog. Anything else?"),
    ]
    assert carrying_needs(lines) == [True, True]


def test_saying_there_is_nothing_in_other_words_carries_no_need() -> None:
    for answer in ("no nothing thanks", "nah all good", "not that i can think of"):
        lines = [Said("out", visits.ask_needs().text), Said("in", answer, "deny")]
        assert carrying_needs(lines) == [False, False], answer


def test_an_answer_to_the_question_as_it_was_worded_before_still_carries_a_need() -> None:
    (former,) = visits.FORMER_ASK_NEEDS
    lines = [Said("out", former), Said("in", "my son will let u in, im at work", "inform_time")]
    assert carrying_needs(lines) == [False, True]
