"""The operative side of the Telegram webhook: linking, `/today` and the visit buttons.

The webhook asks `OperativeDesk.accept` first. It takes `/link <code>` from anyone, every
update from a Telegram user linked to an operative, and any press on an operative button
(data `v:<action>:<visit>[:<minutes>]`, or the same behind the outbox's `o:<id>:` prefix);
everything else is left to the resident side unchanged. A press by someone who is not
the visit's operative is answered exactly like a stale resident press, so it reveals
nothing.

All database work happens in `accept` (one transaction, in a worker thread): a status
report is recorded before the webhook answers 200, so a crash cannot lose it. Updates
are stored in the transcript (the link code never is), unique on the update or the
callback query id, so a redelivered update changes nothing. What remains, the answer to
the operative, is an `OperativeAnswer` delivered after the 200.

The residents hear about each report through the planner, the contact policy and the
dispatcher (`bot.outbound.planning`), not from here.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.common.events import Disposition, InboundMessage, Ingest
from bot.operatives import link_codes
from bot.operatives.briefing import (
    conduct_text,
    heading,
    load_day,
    local_day,
    record_disclosures,
    visit_text,
)
from bot.operatives.visit_status import StatusRefused, VisitStatus, record_status
from flows.clock import Clock
from flows.local_time import LONDON
from storage.db import Database
from storage.enums import AppointmentStatus, Channel
from storage.models import Appointment, AppointmentEvent, Message, Operative, RepairJob, Resident
from storage.repositories import landlord_events, operative_desk
from storage.repositories.people import resident_by_address

log = logging.getLogger(__name__)

PREFIX = "v"
ETA_CHOICES = (15, 30, 45, 60)
NO_ACCESS_WAIT = timedelta(minutes=10)
MAX_LINK_FAILURES = 5
LINK_FAILURE_WINDOW = timedelta(hours=24)
INTENT = "operative"  # what bot.inbound.ingest records for Disposition.OPERATIVE
LINK_REFUSED = "operative_link_refused"

EXPIRED = "That choice has expired"
NOT_YOURS = "This visit is not on your list for today."
HELP = "Send /today for today's visits and their status buttons."
LINKED = "Linked. You will get your briefing each morning. " + HELP
BAD_CODE = "That code is not valid or has expired. Please ask the office for a new one."
TOO_MANY = "Too many wrong codes. Please ask the office to help you link this account."
ALREADY = "This Telegram account is already linked to an operative. " + HELP
RESIDENT_ACCOUNT = "This Telegram account is linked to a tenancy; please use another account."
HOW_TO_LINK = "Send /link followed by the code the office gave you, e.g. /link ABCDE-FGHJK"


class Action:
    ON_MY_WAY = "omw"
    ARRIVED = "arr"
    LATE = "late"
    CANT_GET_IN = "cgi"
    NO_ACCESS = "na"
    DONE = "done"


_STATUS = {
    Action.ON_MY_WAY: VisitStatus.ON_THE_WAY,
    Action.ARRIVED: VisitStatus.ARRIVED,
    Action.LATE: VisitStatus.RUNNING_LATE,
    Action.CANT_GET_IN: VisitStatus.CANT_GET_IN,
    Action.DONE: VisitStatus.DONE,
}
_NEEDS_ETA = frozenset({Action.ON_MY_WAY, Action.LATE})
_ETA_TEXTS = frozenset(str(m) for m in ETA_CHOICES)
#: The largest id a row of ours can have (PostgreSQL `integer` primary keys): a forged
#: button naming a bigger one is refused here, not by the database with a 500.
ROW_ID_MAX = 2**31 - 1
_ROW_ID = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Press:
    action: str
    appointment_id: int
    minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    chat_id: int
    text: str
    #: Rows of (label, callback data).
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()


class OperativeChat(Protocol):
    """The Telegram bot the answer goes out through (the channel's sender)."""

    @property
    def bot(self) -> Bot: ...

    async def start(self) -> None: ...

    async def send_text(
        self, chat_id: int, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class OperativeAnswer:
    """What to tell the operative once the update is stored and acknowledged."""

    callback_query_id: str | None = None
    notice: str | None = None
    messages: tuple[Outgoing, ...] = ()

    async def deliver(self, sender: OperativeChat) -> None:
        try:
            await sender.start()
            if self.callback_query_id is not None:
                await sender.bot.answer_callback_query(self.callback_query_id, text=self.notice)
        except TelegramError as exc:  # too old (over ~15 s) or already answered
            log.info("answerCallbackQuery failed: %s", exc)
        for message in self.messages:
            markup = (
                InlineKeyboardMarkup(
                    [
                        [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                        for row in message.buttons
                    ]
                )
                if message.buttons
                else None
            )
            try:
                await sender.send_text(message.chat_id, message.text, reply_markup=markup)
            except TelegramError as exc:
                log.warning("telegram answer to operative failed: %s", exc)


#: A redelivered update: already done, nothing to say.
NOTHING = OperativeAnswer()


def press_data(action: str, appointment_id: int, minutes: int | None = None) -> str:
    suffix = f":{minutes}" if minutes is not None else ""
    return f"{PREFIX}:{action}:{appointment_id}{suffix}"


def parse_press(data: str | None) -> Press | None:
    """An operative button's payload, bare or behind the outbox's `o:<id>:` prefix.

    Anything we did not make is None: the numbers must be ASCII digits (`str.isdigit`
    also takes "²", which `int` refuses) and the visit id one a row can have.
    """
    if not data or len(data) > 64:
        return None
    parts = data.split(":")
    if parts[0] == "o" and len(parts) >= 3:
        parts = parts[2:]
    if len(parts) not in (3, 4) or parts[0] != PREFIX or not _ROW_ID.fullmatch(parts[2]):
        return None
    if parts[1] not in {*_STATUS, Action.NO_ACCESS}:
        return None
    appointment_id = int(parts[2])
    if appointment_id > ROW_ID_MAX:
        return None
    minutes = None
    if len(parts) == 4:
        if parts[3] not in _ETA_TEXTS:
            return None
        minutes = int(parts[3])
    return Press(parts[1], appointment_id, minutes)


def visit_buttons(appointment_id: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    def b(label: str, action: str) -> tuple[str, str]:
        return label, press_data(action, appointment_id)

    return (
        (b("On my way", Action.ON_MY_WAY), b("Arrived", Action.ARRIVED)),
        (b("Running late", Action.LATE), b("Can't get in", Action.CANT_GET_IN)),
        (b("Done", Action.DONE),),
    )


def eta_buttons(action: str, appointment_id: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    return (tuple((f"{m} min", press_data(action, appointment_id, m)) for m in ETA_CHOICES),)


class OperativeDesk:
    """Decides whether an update is the operatives' business and, if so, does it."""

    def __init__(
        self, *, db: Database, clock: Clock, ingest: Ingest, zone: ZoneInfo = LONDON
    ) -> None:
        self.db = db
        self.clock = clock
        #: How updates are stored: `bot.inbound.ingest.ingest`, handed in by the webhook.
        self.ingest = ingest
        self.zone = zone

    def accept(self, update: Update) -> OperativeAnswer | None:
        """None when the update is not for operatives (the resident side takes it)."""
        query = update.callback_query
        if query is not None:
            press = parse_press(query.data)
            with self.db.session() as session:
                operative = _operative(session, query.from_user.id)
                if operative is None:
                    # A resident's stale press on one of their own buttons is not ours.
                    return OperativeAnswer(query.id, EXPIRED) if press is not None else None
                if press is None:
                    return OperativeAnswer(query.id, EXPIRED)
                return self._press(session, operative, query.id, query.from_user.id, press)
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        if message.chat.type != ChatType.PRIVATE:
            return None
        text = (message.text or "").strip()
        command, _, argument = text.partition(" ")
        command = command.split("@")[0].lower()
        user_id = message.from_user.id
        with self.db.session() as session:
            operative = _operative(session, user_id)
            if command == "/link":
                return self._link(session, update.update_id, user_id, operative, argument)
            if operative is None:
                return None
            now = self.clock.now()
            if self._record(session, user_id, text or "(not text)", str(update.update_id)) is None:
                return NOTHING
            if command == "/today":
                return self._today(session, operative, user_id, now)
            return OperativeAnswer(messages=(Outgoing(user_id, HELP),))

    # --- linking ---------------------------------------------------------------------

    def _link(
        self,
        session: Session,
        update_id: int,
        user_id: int,
        operative: Operative | None,
        code: str,
    ) -> OperativeAnswer | None:
        now = self.clock.now()
        # The code is a secret: the transcript keeps the command, never the code.
        message_id = self._record(session, user_id, "/link", str(update_id))
        if message_id is None:
            return NOTHING
        if operative is not None:
            return _say(user_id, ALREADY)
        if resident_by_address(session, channel=Channel.TELEGRAM, address=str(user_id)):
            return _say(user_id, RESIDENT_ACCOUNT)
        if not code.strip():
            return _say(user_id, HOW_TO_LINK)
        if _recent_link_failures(session, str(user_id), now) >= MAX_LINK_FAILURES:
            _mark(session, message_id, LINK_REFUSED)
            return _say(user_id, TOO_MANY)
        found = link_codes.find_operative(session, code.strip(), now=now)
        if found is None:
            _mark(session, message_id, LINK_REFUSED)
            log.info("operative link refused for telegram user %s", user_id)
            return _say(user_id, BAD_CODE)
        link_codes.consume(session, found, telegram_id=user_id)
        log.info("operative %s linked to telegram user %s", found.id, user_id)
        return _say(user_id, LINKED)

    # --- /today ----------------------------------------------------------------------

    def _today(
        self, session: Session, operative: Operative, chat_id: int, now: datetime
    ) -> OperativeAnswer:
        brief = load_day(session, operative, now=now)
        record_disclosures(session, brief, now=now)
        messages = [Outgoing(chat_id, heading(brief))]
        messages.extend(
            Outgoing(chat_id, visit_text(v, i, self.zone), visit_buttons(v.appointment_id))
            for i, v in enumerate(brief.visits, start=1)
        )
        if brief.visits:
            messages.append(Outgoing(chat_id, conduct_text(brief.conduct_url)))
        return OperativeAnswer(messages=tuple(messages))

    # --- the buttons -----------------------------------------------------------------

    def _press(
        self, session: Session, operative: Operative, query_id: str, chat_id: int, press: Press
    ) -> OperativeAnswer | None:
        now = self.clock.now()
        appointment = session.get(Appointment, press.appointment_id)
        if (
            appointment is None
            or appointment.operative_id != operative.id
            or appointment.day != local_day(now, self.zone)
        ):
            return OperativeAnswer(query_id, NOT_YOURS)
        label = f"(pressed {press.action} for visit {press.appointment_id})"
        if self._record(session, chat_id, label, f"opress:{query_id}") is None:
            return NOTHING
        if press.action in _NEEDS_ETA and press.minutes is None:
            question = "When will you get there?"
            return OperativeAnswer(
                query_id,
                None,
                (Outgoing(chat_id, question, eta_buttons(press.action, press.appointment_id)),),
            )
        if press.action == Action.NO_ACCESS:
            return OperativeAnswer(query_id, self._no_access(session, operative, appointment, now))
        try:
            record_status(
                session,
                appointment=appointment,
                status=_STATUS[press.action],
                now=now,
                actor=f"operative:{operative.id}",
                eta_minutes=press.minutes,
            )
        except StatusRefused:
            return OperativeAnswer(
                query_id, f"This visit is {appointment.status}: nothing recorded."
            )
        return self._recorded(query_id, chat_id, press, now)

    def _recorded(
        self, query_id: str, chat_id: int, press: Press, now: datetime
    ) -> OperativeAnswer:
        at = self._hhmm(now)
        if press.action == Action.CANT_GET_IN:
            wait_until = self._hhmm(now + NO_ACCESS_WAIT)
            text = (
                f"Recorded at {at}: you can't get in. We are messaging the resident to say you "
                f"are at the door. If they have not answered by {wait_until}, you can record "
                "no access."
            )
            button = (("Record no access", press_data(Action.NO_ACCESS, press.appointment_id)),)
            return OperativeAnswer(
                query_id, "Recorded: can't get in", (Outgoing(chat_id, text, (button,)),)
            )
        notices = {
            Action.ARRIVED: "Recorded: arrived. The resident is told who is at the door.",
            Action.DONE: "Recorded: visit done. Thank you.",
        }
        if press.minutes is not None:
            eta = self._hhmm(now + timedelta(minutes=press.minutes))
            what = "on your way" if press.action == Action.ON_MY_WAY else "running late"
            notice = f"Recorded: {what}, arriving about {eta}. The resident is told."
        else:
            notice = notices[press.action]
        return OperativeAnswer(query_id, notice)

    def _no_access(
        self, session: Session, operative: Operative, appointment: Appointment, now: datetime
    ) -> str:
        """Only after "Can't get in" and 10 minutes without an answer from the resident."""
        if appointment.status != AppointmentStatus.BOOKED:
            return f"This visit is {appointment.status}: nothing recorded."
        assert appointment.id is not None
        knocked = operative_desk.latest_event(
            session, appointment_id=appointment.id, kind=VisitStatus.CANT_GET_IN.value
        )
        if knocked is None:
            return "Press Can't get in first, so the resident can answer."
        waited = now - knocked.at
        if waited < NO_ACCESS_WAIT:
            left = math.ceil((NO_ACCESS_WAIT - waited).total_seconds() / 60)
            minutes = "1 minute" if left == 1 else f"{left} minutes"
            return f"Not yet: please wait {minutes} more for the resident to answer."
        if _resident_answered_since(session, appointment, knocked.at):
            return "The resident has answered. Please try the door again or call the office."
        appointment.status = AppointmentStatus.NO_ACCESS
        appointment.updated_at = now
        session.add(appointment)
        session.add(
            AppointmentEvent(
                appointment_id=appointment.id,
                kind="no_access",
                at=now,
                actor=f"operative:{operative.id}",
                data={
                    "cant_get_in_at": knocked.at.isoformat(),
                    "waited_minutes": int(waited.total_seconds() // 60),
                },
            )
        )
        job = session.get(RepairJob, appointment.job_id)
        if job is not None:
            job.history = [*job.history, {"at": now.isoformat(), "event": "no_access"}]
            session.add(job)
        # The landlord hears of it with the evidence (issue 14): when the operative knocked,
        # how long they waited, and that the resident did not answer us meanwhile.
        landlord_events.record_for_appointment(
            session,
            appointment=appointment,
            kind=landlord_events.VISIT_NO_ACCESS,
            by="operative",
            now=now,
            extra={
                "evidence": {
                    "cant_get_in_at": knocked.at.isoformat(),
                    "no_access_at": now.isoformat(),
                    "waited_minutes": int(waited.total_seconds() // 60),
                    "resident_answered": False,
                }
            },
        )
        return "Recorded: no access. Thank you for waiting."

    # --- helpers ---------------------------------------------------------------------

    def _record(self, session: Session, user_id: int, text: str, message_id: str) -> int | None:
        inbound = InboundMessage(
            channel=Channel.TELEGRAM,
            address=str(user_id),
            text=text,
            channel_message_id=message_id,
            received_at=self.clock.now(),
        )
        stored_id = self.ingest(session, inbound, disposition=Disposition.OPERATIVE)
        if stored_id is not None:
            session.flush()
        return stored_id

    def _hhmm(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M")


def _say(chat_id: int, text: str) -> OperativeAnswer:
    return OperativeAnswer(messages=(Outgoing(chat_id, text),))


def _operative(session: Session, telegram_id: int) -> Operative | None:
    return operative_desk.active_operative(session, telegram_id=telegram_id)


def _mark(session: Session, message_id: int, intent: str) -> None:
    stored = session.get(Message, message_id)
    if stored is None:
        return
    stored.intent = intent
    session.add(stored)
    session.flush()


def _recent_link_failures(session: Session, address: str, now: datetime) -> int:
    return operative_desk.telegram_inbound_count(
        session, address=address, intent=LINK_REFUSED, since=now - LINK_FAILURE_WINDOW
    )


def _resident_answered_since(session: Session, appointment: Appointment, since: datetime) -> bool:
    job = session.get(RepairJob, appointment.job_id)
    resident = session.get(Resident, job.resident_id) if job and job.resident_id else None
    if resident is None or resident.id is None:
        return False
    addresses: Sequence[str] = [a for a in (resident.mobile, str(resident.telegram_id or "")) if a]
    return operative_desk.wrote_since(
        session, addresses=addresses, resident_id=resident.id, since=since
    )
