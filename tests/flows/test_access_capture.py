"""Access-need capture (issue 15, item 5), as transcripts and as the readers' rules.

What a resident notices: "no nothing thanks" is nothing to record; who lets the operative
in is an arrangement we note; "what do u tell the engineer about me" is answered; asking
for texts in Polish sets their language and is never a note for the operative; the
consent question and the confirmation say the same; changing consent never adds a copy.

Demo residents (bot/cli/demo.py): Margaret ...456 has one need on record (shared), Gareth
...463 has none. The readers' examples below are not in nlu/data (they are unseen variants).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from flows.access_reading import (
    arrangement_category,
    asks_what_is_shared,
    asks_why_we_ask,
    consent_change,
    is_access_arrangement,
    language_asked,
    says_nothing_to_add,
)
from flows.wording import visits
from nlu.builtin.normalise import normalise
from simphone import Phone
from storage.db import Database
from storage.enums import AccessNeedCategory
from storage.models import AccessNeed, LandlordEvent, Resident
from storage.repositories.resident_records import record_need, share_active_needs

MARGARET = "+447400123456"
GARETH = "+447400123463"
MARGARETS_NEED = "I use a wheelchair, please use the side ramp"


def _resident(db: Database, mobile: str) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.mobile == mobile)).one()


def _needs(db: Database, mobile: str, *, active: bool = True) -> list[AccessNeed]:
    resident = _resident(db, mobile)
    with db.session() as session:
        query = select(AccessNeed).where(AccessNeed.resident_id == resident.id)
        if active:
            query = query.where(col(AccessNeed.active).is_(True))
        return list(session.exec(query.order_by(col(AccessNeed.id))))


def _texts(replies: list[dict[str, object]]) -> str:
    return " ".join(str(r["text"]) for r in replies)


# --- the readers, on words nobody trained them on ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "no nothing thanks",
        "nah all good",
        "none",
        "Nothing.",
        "nope all good ta",
        "no thats all",
        "not that i can think of",
        "nah ur alright",
        "nothing really cheers x",
        "no im fine thanks",
        "0",
        "all fine",
    ],
)
def test_saying_there_is_nothing_is_not_a_need(text: str) -> None:
    assert says_nothing_to_add(text)


@pytest.mark.parametrize(
    "text",
    [
        "no stairs please",
        "no dogs",
        "im not good on my feet",
        "not good with loud noises",
        "nothing before 10 please",
        "i use a wheelchair",
        "my son will let u in",
        "no calls please text only",
    ],
)
def test_a_need_said_in_the_negative_is_still_a_need(text: str) -> None:
    assert not says_nothing_to_add(text)


@pytest.mark.parametrize(
    "text",
    [
        "my son will let u in, im at work all week",
        "my daughter will be in to let them in",
        "im at work all day my neighbour has a spare key",
        "my husband will be home",
        "mum will answer the door",
        "i wont be in but my partner will",
        "hubby's home all day tues",
        "nobody will be home on tuesday",
        "my sons got a key",
    ],
)
def test_who_will_let_the_operative_in_is_an_arrangement(text: str) -> None:
    assert is_access_arrangement(text)


@pytest.mark.parametrize(
    "text",
    [
        "i use a wheelchair",
        "when is my appointment",
        "my son let him in earlier and he was great",
        "can someone come and fix my tap",
        "no ones here yet",
        "no one is here yet",
        "i will be in all day",
    ],
)
def test_other_messages_are_not_arrangements(text: str) -> None:
    assert not is_access_arrangement(text)


def test_an_arrangement_is_filed_as_the_person_it_names() -> None:
    assert arrangement_category("my son will let u in") == "other"
    assert arrangement_category("my carer will let them in") == "carer"
    assert arrangement_category("im out, theres a key safe by the door") == "key_safe"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("can u text me in polish please", "pl"),
        ("pls text me in polish from now on", "pl"),
        ("i dont read english well can u message me in polish", "pl"),
        ("polish please", "pl"),
        ("in welsh pls", "cy"),
        ("cymraeg plis", "cy"),
        ("send me messages in urdu", "ur"),
        ("can i have my texts in romanian", "ro"),
        ("plz msg me in portuguese", "pt"),
        ("can u write to me in arabic", "ar"),
        ("text me in english", "en"),
    ],
)
def test_asking_for_our_messages_in_a_language(text: str, code: str) -> None:
    choice = language_asked(text)
    assert choice is not None and choice.code == code


@pytest.mark.parametrize(
    "text",
    [
        "i need a polish interpreter",
        "the engineer needs to speak polish",
        "i speak arabic only",
        "can the plumber speak urdu",
        "my mum only speaks punjabi she needs an interpreter",
        "polish the floor",
    ],
)
def test_a_language_for_the_visit_is_a_need_not_our_messages(text: str) -> None:
    assert language_asked(text) is None


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("actually dont share it", False),
        ("keep my needs private pls", False),
        ("stop sharing my info", False),
        ("i dont want u to share that", False),
        ("rather you didnt share it", False),
        ("dont tell the engineer about me", False),
        ("you can share it with the engineer now", True),
        ("please share my needs with the plumber", True),
        ("dont share it please", False),
        ("u can share it", True),
        ("happy for you to share my needs", True),
        ("i dont mind u sharing it", True),
    ],
)
def test_a_change_of_consent(text: str, share: bool) -> None:
    assert consent_change(text) is share


@pytest.mark.parametrize(
    "text",
    [
        "you didnt tell me the time",
        "can you tell me the code",
        "pls tell me whos coming",
        "the engineer did not show",
        "could you share the code with me",
        "i use a wheelchair",
        "tell the engineer i have a dog",
        "you can tell the engineer the gate code is 1234",
        "dont tell the engineer to come early",
    ],
)
def test_other_messages_change_no_consent(text: str) -> None:
    assert consent_change(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "what do u tell the engineer about me",
        "what do you tell the engineer about me",
        "wot do u share about me with the plumber",
        "what info do u have on me",
        "whats on record",
        "what does the engineer know about me",
        "do you share my needs with the plumber",
        "wat have u told them abt me",
        "what r u telling the engineer",
    ],
)
def test_asking_what_is_shared(text: str) -> None:
    assert asks_what_is_shared(text)


@pytest.mark.parametrize(
    "text",
    [
        "what time is the engineer coming",
        "what did the engineer say",
        "can you tell me when my visit is",
        "what is the code",
        "tell the engineer im deaf",
        "what have u got on record for my repair",
        "what info do you have about my complaint",
    ],
)
def test_other_questions_are_not_about_what_is_shared(text: str) -> None:
    assert not asks_what_is_shared(text)


@pytest.mark.parametrize(
    "text", ["why do u need to know", "why", "wat do u mean", "what sort of things", "why u asking"]
)
def test_asking_back_why_we_ask(text: str) -> None:
    assert asks_why_we_ask(text)


@pytest.mark.parametrize("text", ["i use a wheelchair", "no", "my son will let u in"])
def test_answers_are_not_questions_back(text: str) -> None:
    assert not asks_why_we_ask(text)


def test_sms_spellings_are_whole_words() -> None:
    assert normalise("what do u tell the engineer") == normalise("what do you tell the engineer")
    assert normalise("r u ok") == "are you okay"
    assert normalise("ur son pls") == "your son please"
    assert normalise("ppl at the door") == "people at the door"
    # inside a word nothing changes
    assert normalise("urgent rupture") == "urgent rupture"


# --- the wording agrees --------------------------------------------------------------


def test_the_consent_question_and_every_confirmation_say_the_same_scope() -> None:
    question = visits.ask_consent("I have a big dog").text
    noted = visits.need_noted("I have a big dog", shared=True, review="1 Dec 2027").text
    brief = visits.need_noted_briefly(shared=True).text
    for text in (question, noted, brief):
        assert visits.FOR_EACH_VISIT in text
        assert "this visit only" not in text


# --- as transcripts --------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["no nothing thanks", "nah all good", "none"])
def test_nothing_to_add_goes_straight_to_the_times(
    client: TestClient, demo_db: Database, answer: str
) -> None:
    gareth = Phone(client, GARETH)
    assert "should know" in _texts(gareth.say("want to book my repair"))
    replies = gareth.say(answer)
    assert "share" not in _texts(replies).lower()
    assert "Which suits you" in _texts(replies) or "free" in _texts(replies)
    assert _needs(demo_db, GARETH) == []


def test_who_lets_the_operative_in_is_noted_as_an_arrangement(
    client: TestClient, demo_db: Database
) -> None:
    gareth = Phone(client, GARETH)
    gareth.say("booking a repair please")
    asked = _texts(gareth.say("my son will let u in, im at work all week"))
    assert 'May we share "my son will let u in, im at work all week"' in asked
    assert visits.FOR_EACH_VISIT in asked
    noted = _texts(gareth.say("yes"))
    assert visits.FOR_EACH_VISIT in noted
    (need,) = _needs(demo_db, GARETH)
    assert need.own_words == "my son will let u in, im at work all week"
    assert need.category == AccessNeedCategory.OTHER
    assert need.consent_to_share


def test_an_arrangement_said_out_of_the_blue_is_asked_about(
    client: TestClient, demo_db: Database
) -> None:
    gareth = Phone(client, GARETH)
    asked = _texts(gareth.say("fyi my daughter will be in to let the plumber in, im at work"))
    assert "May we share" in asked
    assert "private" in _texts(gareth.say("no keep it private"))
    (need,) = _needs(demo_db, GARETH)
    assert not need.consent_to_share


def test_what_do_u_tell_the_engineer_about_me(client: TestClient) -> None:
    margaret = Phone(client, MARGARET)
    for question in ("what do u tell the engineer about me", "wot info do u have on me"):
        answer = _texts(margaret.say(question))
        assert MARGARETS_NEED in answer
        assert "(shared with" in answer


def test_text_me_in_polish_sets_the_language_and_is_no_need(
    client: TestClient, demo_db: Database
) -> None:
    gareth = Phone(client, GARETH)
    answer = _texts(gareth.say("can u text me in polish please"))
    assert "Polish" in answer and "noted" in answer
    assert "share" not in answer.lower()
    assert _resident(demo_db, GARETH).language == "pl"
    assert _needs(demo_db, GARETH) == []
    gareth.say("pls text me in polish")  # again: nothing changes, no second event
    with demo_db.session() as session:
        events = session.exec(
            select(LandlordEvent).where(LandlordEvent.kind == "resident.language_changed")
        ).all()
    assert [e.data for e in events] == [
        {"resident": _resident(demo_db, GARETH).reference, "language": "pl"}
    ]


def test_a_language_given_as_the_answer_to_the_needs_question_sets_it_and_books_on(
    client: TestClient, demo_db: Database
) -> None:
    gareth = Phone(client, GARETH)
    gareth.say("can someone come to fix my repair")
    replies = _texts(gareth.say("pls text me in welsh"))
    assert "Welsh" in replies
    assert "May we share" not in replies
    assert "Which suits you" in replies or "free" in replies
    assert _resident(demo_db, GARETH).language == "cy"
    assert _needs(demo_db, GARETH) == []


def test_an_interpreter_for_the_visit_stays_a_need(client: TestClient, demo_db: Database) -> None:
    gareth = Phone(client, GARETH)
    assert "May we share" in _texts(gareth.say("i need a polish interpreter for the visit"))
    gareth.say("yes")
    (need,) = _needs(demo_db, GARETH)
    assert need.category == AccessNeedCategory.INTERPRETER
    assert _resident(demo_db, GARETH).language == "en"


def test_changing_consent_changes_the_same_record(client: TestClient, demo_db: Database) -> None:
    margaret = Phone(client, MARGARET)
    margaret.say("what do u tell the engineer about me")
    stopped = _texts(margaret.say("actually dont share it"))
    assert "no longer share" in stopped
    (need,) = _needs(demo_db, MARGARET, active=False)
    assert need.own_words == MARGARETS_NEED and not need.consent_to_share

    shared = _texts(margaret.say("2"))  # "Reply 2 to share them again"
    assert visits.FOR_EACH_VISIT in shared
    (need,) = _needs(demo_db, MARGARET, active=False)
    assert need.consent_to_share


def test_telling_the_same_need_again_with_other_consent_adds_no_copy(
    client: TestClient, demo_db: Database
) -> None:
    margaret = Phone(client, MARGARET)
    assert "May we share" in _texts(margaret.say(MARGARETS_NEED))
    assert "private" in _texts(margaret.say("no"))
    (need,) = _needs(demo_db, MARGARET, active=False)
    assert not need.consent_to_share


def test_change_my_needs_replaces_what_is_on_record(client: TestClient, demo_db: Database) -> None:
    margaret = Phone(client, MARGARET)
    margaret.say("what do you know about me")
    assert "own words" in _texts(margaret.say("1"))  # Change my needs
    margaret.say("i use a wheelchair and have a guide dog now")
    margaret.say("yes")
    (need,) = _needs(demo_db, MARGARET)
    assert need.own_words == "i use a wheelchair and have a guide dog now"
    assert len(_needs(demo_db, MARGARET, active=False)) == 2  # the old one kept, retired


# --- storage -----------------------------------------------------------------------------


def test_record_need_updates_the_same_words_in_place(demo_db: Database) -> None:
    resident = _resident(demo_db, GARETH)
    assert resident.id is not None
    at = datetime(2026, 11, 30, 10, tzinfo=UTC)
    with demo_db.session() as session:
        for consent in (True, False, True):
            record_need(
                session,
                resident_id=resident.id,
                category=AccessNeedCategory.PET,
                own_words="  I have a BIG dog " if consent else "i have a big dog",
                consent=consent,
                at=at,
                review_by=date(2027, 11, 30),
                source="resident (sms)",
            )
        session.commit()
    (need,) = _needs(demo_db, GARETH, active=False)
    assert need.consent_to_share
    with demo_db.session() as session:
        assert share_active_needs(session, resident_id=resident.id, consent=False) == 1
        session.commit()
    (need,) = _needs(demo_db, GARETH, active=False)
    assert not need.consent_to_share


# --- "Before we book: we have noted ... Is that still right?" ---------------------------


def test_no_nothings_changed_keeps_the_needs_on_record(
    client: TestClient, demo_db: Database
) -> None:
    margaret = Phone(client, MARGARET)
    assert "still right" in _texts(margaret.say("can u send sum1 for my tap"))
    replies = _texts(margaret.say("no nothings changed"))
    assert "own words" not in replies
    assert "Which suits you" in replies or "free" in replies
    (need,) = _needs(demo_db, MARGARET)
    assert need.own_words == MARGARETS_NEED


def test_yes_and_a_new_need_keeps_the_old_one_and_asks_about_the_new(
    client: TestClient, demo_db: Database
) -> None:
    margaret = Phone(client, MARGARET)
    margaret.say("can u send sum1 for my tap")
    asked = _texts(margaret.say("yes and theres a cat now too so keep the door shut"))
    assert "May we share" in asked and "cat" in asked
    margaret.say("yes")
    assert sorted(n.category for n in _needs(demo_db, MARGARET)) == [
        AccessNeedCategory.PET,
        AccessNeedCategory.WHEELCHAIR,
    ]


def test_no_with_the_new_need_replaces_the_old_one(client: TestClient, demo_db: Database) -> None:
    margaret = Phone(client, MARGARET)
    margaret.say("can u send sum1 for my tap")
    asked = _texts(margaret.say("no i use a walking frame now, not the chair"))
    assert "May we share" in asked
    margaret.say("1")
    (need,) = _needs(demo_db, MARGARET)
    assert need.own_words == "no i use a walking frame now, not the chair"
    assert need.category == AccessNeedCategory.MOBILITY


def test_asking_why_or_what_we_share_while_asked_about_needs_records_nothing(
    client: TestClient, demo_db: Database
) -> None:
    gareth = Phone(client, GARETH)
    gareth.say("book my repair in pls")
    why = _texts(gareth.say("why do u need to know"))
    assert "only if you say yes" in why and "should know" in why
    shared = _texts(gareth.say("what do u tell the engineer about me"))
    assert "share nothing" in shared and "should know" in shared
    assert "May we share" not in why + shared
    assert "Which suits you" in _texts(gareth.say("ok nothing then"))
    assert _needs(demo_db, GARETH) == []


@pytest.mark.parametrize(
    "text",
    [
        "im at work till 5 can the plumber come after 6 tuesday",
        "i wont be in on monday can we change it",
        "im away next week so can u rebook",
    ],
)
def test_being_away_said_with_a_booking_request_is_left_to_booking(
    client: TestClient, demo_db: Database, text: str
) -> None:
    replies = _texts(Phone(client, MARGARET).say(text))
    assert "May we share" not in replies
    assert len(_needs(demo_db, MARGARET)) == 1
