"""Operatives on Telegram, end to end: the real app and PTB against the fake Bot API.

The operative links with the code staff issued, asks for `/today`, and reports status
with the buttons; residents hear about it through the planner, the contact policy and
the dispatcher (SMS through the fake Twilio). Demo data at Mon 30 Nov 2026 09:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from channels.test_telegram_webhook import Sent, TelegramWorld, sent_to
from sqlmodel import Session, col, select

from bot.operatives import link_codes
from bot.operatives.morning import PURPOSE, send_morning_briefings
from bot.outbound.planning import plan
from flows.windows import LONDON, window_named
from storage.enums import AppointmentStatus, Channel, OutboxStatus
from storage.models import (
    AccessNeed,
    Appointment,
    AppointmentEvent,
    Disclosure,
    Operative,
    OutboxMessage,
    RepairJob,
    Resident,
)
from storage.repositories.transcript import record_inbound

OPERATIVE_TG = 655000001
STRANGER_TG = 812345678
MARGARET = "+447400123456"  # wheelchair need, consented
ARTHUR = "+447400123461"  # mobility need, NOT consented
AISHA = "+447400123458"  # pet need, consented (visit tomorrow)


def _operative(session: Session) -> Operative:
    operative = session.exec(select(Operative).order_by(col(Operative.id))).first()
    assert operative is not None
    return operative


def _visit(session: Session, mobile: str, day: date, window: str, code: str, now: datetime) -> int:
    resident = session.exec(select(Resident).where(Resident.mobile == mobile)).one()
    job = session.exec(select(RepairJob).where(RepairJob.resident_id == resident.id)).first()
    assert job is not None and job.id is not None
    starts, ends = window_named(window).bounds(day)
    appointment = Appointment(
        job_id=job.id,
        operative_id=_operative(session).id or 0,
        day=day,
        window=window,
        starts_at=starts,
        ends_at=ends,
        status=AppointmentStatus.BOOKED,
        visit_code=code,
        created_at=now - timedelta(days=3),
        updated_at=now - timedelta(days=3),
    )
    session.add(appointment)
    session.flush()
    assert appointment.id is not None
    return appointment.id


def setup_day(world: TelegramWorld, *, link: bool = True) -> dict[str, int]:
    """Today: Margaret (morning) and Arthur (afternoon); tomorrow: Aisha."""
    now = world.clock.now()
    today = now.astimezone(LONDON).date()
    with world.db.session() as session:
        visits = {
            "margaret": _visit(session, MARGARET, today, "morning", "4821", now),
            "arthur": _visit(session, ARTHUR, today, "afternoon", "5932", now),
            "aisha": _visit(session, AISHA, today + timedelta(days=1), "morning", "6043", now),
        }
        if link:
            operative = _operative(session)
            operative.telegram_id = OPERATIVE_TG
            session.add(operative)
    return visits


def issue_code(world: TelegramWorld) -> str:
    with world.db.session() as session:
        return link_codes.issue(session, _operative(session), now=world.clock.now())


def last_notice(world: TelegramWorld) -> str | None:
    calls = world.fake.calls_to("answerCallbackQuery")
    assert calls, "the press was not answered"
    text: str | None = calls[-1].params.get("text")
    return text


def events(world: TelegramWorld, appointment_id: int) -> list[AppointmentEvent]:
    rows: list[AppointmentEvent] = world.query(
        lambda s: list(
            s.exec(
                select(AppointmentEvent)
                .where(AppointmentEvent.appointment_id == appointment_id)
                .order_by(col(AppointmentEvent.id))
            )
        )
    )
    return rows


def resident_rows(world: TelegramWorld, appointment_id: int, kind: str) -> list[OutboxMessage]:
    rows: list[OutboxMessage] = world.query(
        lambda s: list(
            s.exec(
                select(OutboxMessage).where(
                    OutboxMessage.appointment_id == appointment_id, OutboxMessage.kind == kind
                )
            )
        )
    )
    return rows


async def today(world: TelegramWorld) -> list[Sent]:
    before = len(sent_to(world.fake, OPERATIVE_TG))
    await world.post(world.text("/today", user_id=OPERATIVE_TG))
    return sent_to(world.fake, OPERATIVE_TG)[before:]


def visit_message(messages: list[Sent], code: str) -> Sent:
    return next(m for m in messages if code in m.params["text"])


def button(message: Sent, label: str) -> str:
    markup = message.params["reply_markup"]
    for row in markup["inline_keyboard"]:
        for b in row:
            if b["text"] == label:
                return str(b["callback_data"])
    raise AssertionError(f"no button {label!r}")


async def press(world: TelegramWorld, message: Sent, label: str) -> None:
    await world.post(world.press(message, button(message, label), user_id=OPERATIVE_TG))


# --- linking ----------------------------------------------------------------------------


def test_linking_takes_the_code_once_and_refuses_a_wrong_one(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        setup_day(world, link=False)
        code = issue_code(world)
        await world.post(world.text("/link ZZZZZ-ZZZZZ", user_id=OPERATIVE_TG))
        assert "not valid" in sent_to(world.fake, OPERATIVE_TG)[-1].params["text"]
        assert world.query(lambda s: _operative(s).telegram_id) is None

        await world.post(world.text(f"/link {code.lower()}", user_id=OPERATIVE_TG))
        assert "Linked" in sent_to(world.fake, OPERATIVE_TG)[-1].params["text"]
        assert world.query(lambda s: _operative(s).telegram_id) == OPERATIVE_TG

        await world.post(world.text(f"/link {code}", user_id=STRANGER_TG))
        assert "not valid" in sent_to(world.fake, STRANGER_TG)[-1].params["text"]
        # The code never reaches the transcript.
        texts = [m.text for m in world.telegram_inbound()]
        assert not any(code.replace("-", "") in t.replace("-", "").upper() for t in texts)

    run(scenario)


def test_an_unlinked_user_pressing_an_operative_button_learns_nothing(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        visits = setup_day(world)
        listed = await today(world)
        card = visit_message(listed, "4821")
        data = button(card, "Arrived")
        await world.post(world.press(card, data, user_id=STRANGER_TG))
        assert last_notice(world) == "That choice has expired"
        assert sent_to(world.fake, STRANGER_TG) == []
        assert [e.kind for e in events(world, visits["margaret"])] == []

    run(scenario)


# --- /today and what is shared -----------------------------------------------------------


def test_today_lists_todays_visits_with_consented_needs_and_records_what_was_shared(
    run: Any,
) -> None:
    async def scenario(world: TelegramWorld) -> None:
        visits = setup_day(world)
        listed = await today(world)
        texts = "\n".join(m.params["text"] for m in listed)
        assert "You have 2 visits today" in texts
        margaret = visit_message(listed, "4821")
        assert "side ramp" in margaret.params["text"]
        assert "Show your ID badge" in texts
        # Arthur did not consent; Aisha's visit (and her need) is tomorrow's.
        assert "slow to get to the door" not in texts
        assert "6043" not in texts and "big dog" not in texts
        assert button(margaret, "On my way").startswith("v:")

        shared = world.query(lambda s: list(s.exec(select(Disclosure))))
        assert [(d.appointment_id, d.wording) for d in shared] == [
            (visits["margaret"], "I use a wheelchair, please use the side ramp")
        ]
        need = world.query(lambda s: s.get(AccessNeed, shared[0].access_need_id))
        assert need.consent_to_share
        await today(world)  # shown again: the same disclosure, not a second row
        assert len(world.query(lambda s: list(s.exec(select(Disclosure))))) == 1

    run(scenario)


# --- status buttons ------------------------------------------------------------------------


def test_on_my_way_with_an_eta_reaches_the_resident_through_the_policy(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        visits = setup_day(world)
        card = visit_message(await today(world), "4821")
        await press(world, card, "On my way")
        question = sent_to(world.fake, OPERATIVE_TG)[-1]
        assert "When will you get there" in question.params["text"]
        await press(world, question, "30 min")
        assert "arriving about 09:30" in (last_notice(world) or "")

        (event,) = [e for e in events(world, visits["margaret"]) if e.kind == "on_the_way"]
        assert event.at == world.clock.now() and event.actor.startswith("operative:")
        assert event.data["eta"] == (world.clock.now() + timedelta(minutes=30)).isoformat()

        plan(world.db, now=world.clock.now())
        (row,) = resident_rows(world, visits["margaret"], "on_the_way")
        assert "is on the way" in row.text and "9:30am" in row.text
        await world.dispatch()
        sent = world.query(lambda s: s.get(OutboxMessage, row.id))
        assert sent.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED)

    run(scenario)


def test_arrived_tells_the_resident_who_is_at_the_door_and_the_visit_code(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        visits = setup_day(world)
        card = visit_message(await today(world), "4821")
        await press(world, card, "Arrived")
        assert "arrived" in (last_notice(world) or "")
        plan(world.db, now=world.clock.now())
        (row,) = resident_rows(world, visits["margaret"], "arrived")
        name = world.query(lambda s: _operative(s).name)
        assert name in row.text and "4821" in row.text

    run(scenario)


def test_cant_get_in_messages_the_resident_and_no_access_waits_ten_minutes(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        visits = setup_day(world)
        card = visit_message(await today(world), "4821")
        await press(world, card, "Can't get in")
        offer = sent_to(world.fake, OPERATIVE_TG)[-1]
        assert "09:10" in offer.params["text"]
        plan(world.db, now=world.clock.now())
        assert resident_rows(world, visits["margaret"], "cant_get_in")

        world.clock.advance(timedelta(minutes=4))
        await press(world, offer, "Record no access")
        assert "6 minutes" in (last_notice(world) or "")
        status = world.query(lambda s: s.get(Appointment, visits["margaret"]).status)
        assert status == AppointmentStatus.BOOKED

        world.clock.advance(timedelta(minutes=6))
        await press(world, offer, "Record no access")
        assert "no access" in (last_notice(world) or "")
        appointment = world.query(lambda s: s.get(Appointment, visits["margaret"]))
        assert appointment.status == AppointmentStatus.NO_ACCESS
        kinds = [e.kind for e in events(world, visits["margaret"])]
        assert kinds == ["cant_get_in", "no_access"]

    run(scenario)


def test_no_access_is_refused_when_the_resident_answered(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        visits = setup_day(world)
        card = visit_message(await today(world), "4821")
        await press(world, card, "Can't get in")
        offer = sent_to(world.fake, OPERATIVE_TG)[-1]
        world.clock.advance(timedelta(minutes=2))
        # Margaret texts back "1" (stored as the SMS webhook stores it).
        with world.db.session() as session:
            record_inbound(
                session,
                channel=Channel.SMS,
                address=MARGARET,
                text="1",
                channel_message_id="SMtest-answer",
                at=world.clock.now(),
            )
        world.clock.advance(timedelta(minutes=9))
        await press(world, offer, "Record no access")
        assert "answered" in (last_notice(world) or "")
        status = world.query(lambda s: s.get(Appointment, visits["margaret"]).status)
        assert status == AppointmentStatus.BOOKED

    run(scenario)


def test_done_completes_the_visit_and_plans_the_feedback_request(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        visits = setup_day(world)
        card = visit_message(await today(world), "4821")
        await press(world, card, "Done")
        appointment = world.query(lambda s: s.get(Appointment, visits["margaret"]))
        assert appointment.status == AppointmentStatus.COMPLETED
        plan(world.db, now=world.clock.now())
        (row,) = resident_rows(world, visits["margaret"], "feedback_request")
        assert row.not_before == world.clock.now() + timedelta(hours=2)
        # A second press on the finished visit records nothing more.
        await press(world, card, "Arrived")
        assert [e.kind for e in events(world, visits["margaret"])] == ["done"]

    run(scenario)


# --- the morning briefing ------------------------------------------------------------------


def test_the_morning_briefing_goes_through_the_outbox_once_per_day(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        setup_day(world)
        seven = datetime(2026, 11, 30, 7, 0, tzinfo=LONDON)
        world.clock.set(seven)
        first = send_morning_briefings(world.db, now=seven)
        again = send_morning_briefings(world.db, now=seven)
        assert (first.queued, again.queued, again.already_queued) == (1, 0, 1)
        await world.dispatch()
        (row,) = world.query(
            lambda s: list(s.exec(select(OutboxMessage).where(OutboxMessage.purpose == PURPOSE)))
        )
        assert row.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED)
        (briefing,) = sent_to(world.fake, OPERATIVE_TG)
        assert "You have 2 visits today" in briefing.params["text"]
        assert "side ramp" in briefing.params["text"]
        assert "slow to get to the door" not in briefing.params["text"]

    run(scenario)
