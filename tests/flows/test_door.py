"""Checking the person at the door."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from simphone import Phone
from storage.db import Database
from storage.models import Appointment, AppointmentEvent, StaffTask

VISIT_DAY_10AM = "2026-12-01T10:00:00+00:00"


def _book_for_tuesday(phone: Phone, client: TestClient) -> Appointment:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")  # Tue 1 Dec, morning
    phone.inbox.clear()
    client.post("/simulator/api/clock", json={"set": VISIT_DAY_10AM})
    return _appointment(client)


def _appointment(client: TestClient) -> Appointment:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        return session.exec(select(Appointment).where(Appointment.status == "booked")).one()


def _alerts(client: TestClient) -> list[StaffTask]:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        return list(session.exec(select(StaffTask).where(StaffTask.kind == "alert")).all())


def test_who_is_at_the_door_then_the_right_code(phone: Phone, client: TestClient) -> None:
    appointment = _book_for_tuesday(phone, client)
    phone.say("there's a man at my door saying he's from you, is he legit?")
    identity = phone.pop()
    assert "Sam Carter, Brightwater Plumbing Ltd, badge 55101" in identity["text"]
    assert "has not set off yet" in identity["text"]
    assert identity["photo_url"]
    phone.say(appointment.visit_code)
    assert phone.pop_text().startswith("That matches. Sam Carter")
    assert _alerts(client) == []


def test_a_badge_number_identifies_the_operative_but_never_passes(
    phone: Phone, client: TestClient
) -> None:
    """Badges are public (visit page, confirmation) and sequential: only the code passes."""
    appointment = _book_for_tuesday(phone, client)
    phone.say("badge 55101?")
    answer = phone.pop_text()
    assert answer.startswith("That is the badge number of Sam Carter from Brightwater")
    assert "not proof" in answer and "Ask them for the visit code" in answer
    assert "keep the door shut" in answer
    assert "matches" not in answer.replace("Until it matches", "")
    phone.say("he says 55101")  # again, inside the check: still not a pass
    assert phone.pop_text().startswith("That is the badge number of Sam Carter")
    assert _alerts(client) == []  # the resident did nothing wrong
    assert _appointment(client).code_attempts == 0  # and loses none of their five tries
    phone.say(appointment.visit_code)
    assert phone.pop_text().startswith("That matches. Sam Carter")
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        checks = session.exec(
            select(AppointmentEvent).where(AppointmentEvent.kind == "door_check")
        ).all()
    assert [c.data.get("matched") for c in checks] == [False, False, True]
    assert [bool(c.data.get("badge")) for c in checks] == [True, True, False]


def test_the_identity_answer_asks_for_the_visit_code_not_the_badge(
    phone: Phone, client: TestClient
) -> None:
    _book_for_tuesday(phone, client)
    phone.say("there's a man at my door saying he's from you, is he legit?")
    identity = phone.pop_text()
    assert "Text me the visit code they give you." in identity
    assert "code or badge" not in identity
    phone.say("badge 55101")
    assert "not proof" in phone.pop_text()


def test_a_wrong_code_warns_and_alerts_and_five_lock(phone: Phone, client: TestClient) -> None:
    appointment = _book_for_tuesday(phone, client)
    wrong = "0000" if appointment.visit_code != "0000" else "9999"
    phone.say(f"check code {wrong}")
    first = phone.pop_text()
    assert first.startswith("That does NOT match. Do not let them in.")
    assert "0300 555 0140" in first
    assert len(_alerts(client)) == 1 and _alerts(client)[0].urgent
    for _ in range(4):
        phone.say(wrong)
    last = phone.pop_text() if len(phone.inbox) == 1 else phone.inbox[-1]["text"]
    assert "locked" in last
    locked = _appointment(client)
    assert locked.code_attempts == 5 and locked.code_locked_at is not None
    phone.inbox.clear()
    phone.say(f"check code {appointment.visit_code}")  # even the right code: locked now
    assert "locked" in phone.pop_text()
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        checks = session.exec(
            select(AppointmentEvent).where(AppointmentEvent.kind == "door_check")
        ).all()
    assert len(checks) == 5
    assert any("locked" in a.summary for a in _alerts(client))


def test_no_visit_today_means_do_not_let_them_in(phone: Phone, client: TestClient) -> None:
    phone.say("someone at my door says hes the gas man, is he from you")
    text = phone.pop_text()
    assert text.startswith("We have no visit booked for you today, so do not let them in.")
    (alert,) = _alerts(client)
    assert alert.urgent


def test_an_unknown_number_probing_learns_nothing(phone: Phone, client: TestClient) -> None:
    appointment = _book_for_tuesday(phone, client)
    stranger = Phone(client, "+447400555666")
    for probe in (
        f"check code {appointment.visit_code}",
        "is sam carter coming to flat 1 aire court today",
        "badge 55101",
        "what time is margarets appointment",
    ):
        reply = stranger.say(probe)[0]["text"]
        assert "We do not recognise this number" in reply
        for secret in ("Sam", "55101", appointment.visit_code, "Tue", "Aire", "Margaret"):
            assert secret not in reply


def test_nobody_came(phone: Phone, client: TestClient) -> None:
    _book_for_tuesday(phone, client)
    client.post("/simulator/api/clock", json={"set": "2026-12-01T12:30:00+00:00"})
    phone.say("nobody turned up, i waited in all morning")
    sorry, offer = phone.pop_text(), phone.pop()
    assert sorry.startswith("I am very sorry nobody came for your visit on Tue 1 Dec")
    assert "20 pounds" in offer["text"]  # the landlord's compensation policy
    assert [o["label"] for o in offer["options"]] == ["Book a new time", "No thanks"]
    (alert,) = _alerts(client)
    assert "nobody came" in alert.summary
    phone.say("1")
    assert "Which suits you?" in phone.pop_text()


def test_reply_1_when_the_operative_cannot_get_in(phone: Phone, client: TestClient) -> None:
    import asyncio
    from zoneinfo import ZoneInfo

    from bot.channels.senders import senders_from_settings
    from bot.outbound.dispatcher import Dispatcher
    from bot.outbound.planning import on_sent, plan

    appointment = _book_for_tuesday(phone, client)
    client.post(f"/simulator/api/visits/{appointment.id}/status", json={"status": "cant_get_in"})
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    plan(runtime.db, now=runtime.clock.now())
    dispatcher = Dispatcher(
        db=runtime.db,
        senders=senders_from_settings(runtime.settings),
        clock=runtime.clock,
        zone=ZoneInfo("Europe/London"),
        on_sent=on_sent,
    )
    asyncio.run(dispatcher.run_once())
    transcript = client.get("/simulator/api/transcript", params={"phone": phone.number}).json()
    assert transcript[-1]["text"].startswith("We are at your door now: Sam Carter is here")
    assert phone.say("1")[0]["text"] == "Thank you, we have told Sam you are in."
    db: Database = runtime.db
    with db.session() as session:
        kinds = [
            e.kind
            for e in session.exec(
                select(AppointmentEvent).where(AppointmentEvent.appointment_id == appointment.id)
            ).all()
        ]
    assert kinds[-2:] == ["cant_get_in", "resident_at_home"]


def _events(client: TestClient, kind: str) -> list[AppointmentEvent]:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        return list(session.exec(select(AppointmentEvent).where(AppointmentEvent.kind == kind)))


def test_nobody_here_yet_inside_the_window_is_not_a_missed_visit(
    phone: Phone, client: TestClient
) -> None:
    """10am in an 8am-12pm window: where the operative is, and an offer to check."""
    _book_for_tuesday(phone, client)
    (answer,) = phone.say("no ones here yet?? been waiting ages")
    text = answer["text"]
    assert "Your visit is today 8am-12pm" in text
    assert "Sam has not set off yet" in text
    for wrong in ("sorry nobody came", "recorded", "20 pounds", "new time"):
        assert wrong not in text
    assert [o["label"] for o in answer["options"]] == ["Yes, please check", "No thanks"]
    assert _events(client, "no_show_reported") == []
    assert _alerts(client) == []
    (checking,) = phone.say("yes please")
    assert "Our team will contact Sam" in checking["text"]
    (alert,) = _alerts(client)
    assert "waiting" in alert.summary and "Sam Carter" in alert.summary
    assert alert.appointment_id == _appointment(client).id
    assert len(_events(client, "resident_waiting")) == 1
    assert _events(client, "no_show_reported") == []


def test_nobody_here_yet_gives_the_operatives_expected_time(
    phone: Phone, client: TestClient
) -> None:
    appointment = _book_for_tuesday(phone, client)
    client.post(
        f"/simulator/api/visits/{appointment.id}/status",
        json={"status": "on_the_way", "eta_minutes": 20},
    )
    (answer,) = phone.say("engineer not here yet")
    assert "Sam is on the way, due about 10:20am" in answer["text"]
    phone.say("2")
    assert phone.inbox[-1]["text"] == "OK. Text us any time."
    assert _alerts(client) == [] and _events(client, "no_show_reported") == []


def test_before_the_window_the_visit_has_not_started(phone: Phone, client: TestClient) -> None:
    _book_for_tuesday(phone, client)
    client.post("/simulator/api/clock", json={"set": "2026-12-01T07:15:00+00:00"})
    (answer,) = phone.say("nobody has come yet")
    assert "today 8am-12pm, so it has not started yet" in answer["text"]
    assert _events(client, "no_show_reported") == []


def test_the_window_passing_turns_a_check_into_a_missed_visit(
    phone: Phone, client: TestClient
) -> None:
    """Offered a check inside the window, answered after it: recorded as missed then."""
    _book_for_tuesday(phone, client)
    client.post("/simulator/api/clock", json={"set": "2026-12-01T11:45:00+00:00"})
    phone.say("no ones here yet")
    phone.inbox.clear()
    client.post("/simulator/api/clock", json={"set": "2026-12-01T12:05:00+00:00"})
    phone.say("1")
    assert phone.pop_text().startswith("I am very sorry nobody came for your visit on Tue 1 Dec")
    assert len(_events(client, "no_show_reported")) == 1


def test_nobody_came_after_the_operative_reported_arriving_is_looked_into(
    phone: Phone, client: TestClient
) -> None:
    """The window passed with an arrival on record: the accounts differ, so staff look
    into it, and it is not recorded as a missed visit."""
    appointment = _book_for_tuesday(phone, client)
    client.post(f"/simulator/api/visits/{appointment.id}/status", json={"status": "arrived"})
    client.post("/simulator/api/clock", json={"set": "2026-12-01T12:30:00+00:00"})
    (answer,) = phone.say("nobody turned up, i waited in all morning")
    assert "Sam told us they arrived at 10:00am" in answer["text"]
    assert "look into it" in answer["text"]
    assert _events(client, "no_show_reported") == []
    assert len(_events(client, "no_show_disputed")) == 1
    (alert,) = _alerts(client)
    assert "nobody came" in alert.summary and "arrived" in alert.summary


def test_one_try_left_is_said_in_the_singular(phone: Phone, client: TestClient) -> None:
    appointment = _book_for_tuesday(phone, client)
    wrong = "0000" if appointment.visit_code != "0000" else "9999"
    for _ in range(3):
        phone.say(f"check code {wrong}")
    assert phone.inbox[-1]["text"].endswith("You can check 2 more times.")
    phone.say(wrong)
    assert phone.inbox[-1]["text"].endswith("You can check 1 more time.")


def test_what_reads_as_nobody_has_come() -> None:
    from flows.door import says_nobody_came

    for said in (
        "no ones here yet?? been waiting ages",
        "nobodys turned up",
        "hes not here",
        "engineer hasnt turned up yet",
        "the man never came",
        "still no sign of the plumber",
        "hes late",
        "been waiting for him all morning",
        "no show",
    ):
        assert says_nobody_came(said), said
    for said in (
        "is anyone coming today",  # a question about the visit, for the classifier
        "im not here tuesday",
        "he is not here on friday",
        "no one will be here on monday",
        "the boiler has not been fixed",
        "still waiting for a call back",
        "im running late",
        "no nothing thanks",
    ):
        assert not says_nobody_came(said), said
