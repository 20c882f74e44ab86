"""Gather what the contact policy needs about outbox rows, a batch at a time.

The policy itself is pure (`flows.policy.decide`); this module is its bridge to the
database. Loading per batch (one query per table, not per row) is what lets several
dispatchers sustain thousands of messages a second on PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, or_
from sqlmodel import Session, col, select

from flows.policy import Candidate, ContactRules, Purpose, PurposeState, Recipient, Verdict, decide
from storage.enums import AppointmentStatus, Channel, Nation, OutboxStatus
from storage.models import (
    Appointment,
    Conversation,
    Feedback,
    Landlord,
    OutboxMessage,
    Property,
    Resident,
)

#: An outbox row as an ORM object or as a plain Core row with the same columns: the
#: dispatcher reads thousands a second and only needs the values.
OutboxRow = OutboxMessage | Row[Any]

#: A conversation the resident wrote in within this long counts as opened by them.
OPEN_CONVERSATION = timedelta(hours=24)
CAP_WINDOW = timedelta(days=7)
PURPOSES = {"reply": Purpose.REPLY, "urgent_safety": Purpose.URGENT_SAFETY}
#: Kinds that only make sense while the visit is still booked.
WHILE_BOOKED = frozenset(
    {
        "reminder_evening",
        "reminder_morning",
        "reminder_broadcast",
        "nominee_copy",
        "needs_review",
        "disruption",
        "on_the_way",
        "arrived",
        "running_late",
        "cant_get_in",
    }
)
#: Operatives' morning briefings (bot/operatives, issue 7): sent from 07:00 on their day.
OPERATIVE_BRIEFING = "operative_briefing"
OPERATIVE_HOURS = {"weekday": ["07:00", "20:00"], "sunday": ["07:00", "20:00"]}
#: Telling the resident about a change staff made must go even when the change was to
#: cancel the visit.
ABOUT_THE_CHANGE = frozenset({"change_confirmation"})


@dataclass
class PolicyInputs:
    """Everything the policy needs for a batch of rows, loaded in a handful of queries."""

    now: datetime
    residents: dict[int, Resident] = field(default_factory=dict)
    nations: dict[int, Nation] = field(default_factory=dict)
    landlords: dict[int, Landlord] = field(default_factory=dict)
    appointments: dict[int, Appointment] = field(default_factory=dict)
    open_conversations: set[int] = field(default_factory=set)
    recent_sends: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    feedback_done: set[int] = field(default_factory=set)
    #: Operative briefings (issue 7): (operative id, ISO day) with a visit still booked.
    operative_days: set[tuple[int, str]] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, rows: Sequence[OutboxRow], now: datetime) -> PolicyInputs:
        inputs = cls(now=now)
        resident_ids = {r.resident_id for r in rows if r.resident_id is not None}
        appointment_ids = {r.appointment_id for r in rows if r.appointment_id is not None}
        if resident_ids:
            for resident in session.exec(
                select(Resident).where(col(Resident.id).in_(resident_ids))
            ).all():
                assert resident.id is not None
                inputs.residents[resident.id] = resident
            property_ids = {r.property_id for r in inputs.residents.values() if r.property_id}
            nations = {
                p.id: p.nation
                for p in session.exec(
                    select(Property).where(col(Property.id).in_(property_ids))
                ).all()
            }
            for resident in inputs.residents.values():
                assert resident.id is not None
                inputs.nations[resident.id] = Nation(
                    nations.get(resident.property_id or -1, Nation.ENGLAND)
                )
            landlord_ids = {r.landlord_id for r in inputs.residents.values()}
            for landlord in session.exec(
                select(Landlord).where(col(Landlord.id).in_(landlord_ids))
            ).all():
                assert landlord.id is not None
                inputs.landlords[landlord.id] = landlord
            inputs.open_conversations = {
                resident_id
                for resident_id in session.exec(
                    select(Conversation.resident_id).where(
                        col(Conversation.resident_id).in_(resident_ids),
                        col(Conversation.updated_at) >= now - OPEN_CONVERSATION,
                    )
                ).all()
                if resident_id is not None
            }
            # Rows another dispatcher is sending right now count as sent: caps must hold
            # across batches and across dispatchers.
            for resident_id, sent_at, claimed_at in session.exec(
                select(
                    OutboxMessage.resident_id, OutboxMessage.sent_at, OutboxMessage.claimed_at
                ).where(
                    col(OutboxMessage.resident_id).in_(resident_ids),
                    col(OutboxMessage.status).in_(
                        [OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.SENDING]
                    ),
                    col(OutboxMessage.purpose) != "reply",
                    or_(
                        col(OutboxMessage.sent_at) >= now - CAP_WINDOW,
                        col(OutboxMessage.claimed_at) >= now - CAP_WINDOW,
                    ),
                )
            ).all():
                at = sent_at or claimed_at
                if resident_id is not None and at is not None:
                    inputs.recent_sends[resident_id].append(at)
        if appointment_ids:
            for appointment in session.exec(
                select(Appointment).where(col(Appointment.id).in_(appointment_ids))
            ).all():
                assert appointment.id is not None
                inputs.appointments[appointment.id] = appointment
            inputs.feedback_done = {
                f
                for f in session.exec(
                    select(Feedback.appointment_id).where(
                        col(Feedback.appointment_id).in_(appointment_ids),
                        col(Feedback.completed_at).is_not(None),
                    )
                ).all()
            }
        # Operative briefings (issue 7): live while the operative has visits that day.
        briefed = {r.operative_id for r in rows if r.purpose == OPERATIVE_BRIEFING}
        if briefed:
            inputs.operative_days = {
                (operative_id, day.isoformat())
                for operative_id, day in session.exec(
                    select(col(Appointment.operative_id), col(Appointment.day)).where(
                        col(Appointment.operative_id).in_(briefed),
                        Appointment.status == AppointmentStatus.BOOKED,
                    )
                ).all()
            }
        return inputs

    def note_sent(self, row: OutboxRow, at: datetime) -> None:
        """Count a send made in this batch towards the caps of the next rows."""
        if row.resident_id is not None and row.purpose != "reply":
            self.recent_sends[row.resident_id].append(at)

    def verdict(self, row: OutboxRow, channel: Channel, address: str) -> Verdict:
        resident = self.residents.get(row.resident_id or -1)
        landlord = self.landlords.get(resident.landlord_id) if resident else None
        rules = ContactRules.from_config(
            landlord.contact_hours if landlord else None,
            resident.contact_hours if resident else None,
        )
        if row.purpose == OPERATIVE_BRIEFING:  # issue 7: an operative's working day
            rules = ContactRules.from_config(OPERATIVE_HOURS, None)
        appointment = self.appointments.get(row.appointment_id or -1)
        candidate = Candidate(
            purpose=PURPOSES.get(row.purpose, Purpose.SERVICE),
            kind=row.kind,
            channel=channel,
            address=address,
            not_before=row.not_before,
            expires_at=row.expires_at,
            time_critical=row.time_critical,
            visit_day=appointment.day if appointment else None,
            appointment_version=row.appointment_version,
        )
        recipient = Recipient(
            nation=self.nations.get(row.resident_id or -1, Nation.ENGLAND),
            opted_out=opted_out(resident),
            unreachable=unreachable(resident),
            open_conversation=row.resident_id in self.open_conversations,
            recent_service_sends=tuple(self.recent_sends.get(row.resident_id or -1, ())),
        )
        return decide(candidate, recipient, self._purpose(row, appointment), rules, now=self.now)

    def _purpose(self, row: OutboxRow, appointment: Appointment | None) -> PurposeState | None:
        if row.purpose == OPERATIVE_BRIEFING:  # issue 7
            day = str((row.payload or {}).get("day", ""))
            return PurposeState(exists=(row.operative_id or -1, day) in self.operative_days)
        if row.appointment_id is None:
            return None
        if appointment is None:
            return PurposeState(exists=False)
        active = appointment.status != AppointmentStatus.CANCELLED or row.kind in ABOUT_THE_CHANGE
        needed = True
        if row.kind in WHILE_BOOKED:
            needed = appointment.status == AppointmentStatus.BOOKED
        elif row.kind == "feedback_request":
            needed = (
                appointment.status == AppointmentStatus.COMPLETED
                and appointment.id not in self.feedback_done
            )
        return PurposeState(
            exists=True, current_version=appointment.version, active=active, still_needed=needed
        )


def opted_out(resident: Resident | None) -> frozenset[Channel]:
    if resident is None:
        return frozenset()
    channels = set()
    if resident.sms_opted_out_at is not None:
        channels.add(Channel.SMS)
    if resident.telegram_opted_out_at is not None:
        channels.add(Channel.TELEGRAM)
    return frozenset(channels)


def unreachable(resident: Resident | None) -> frozenset[Channel]:
    if resident is None:
        return frozenset()
    channels = set()
    if resident.sms_unreachable_at is not None:
        channels.add(Channel.SMS)
    if resident.telegram_unreachable_at is not None or resident.telegram_id is None:
        channels.add(Channel.TELEGRAM)
    return frozenset(channels)


def evaluate_row(
    session: Session,
    row: OutboxMessage,
    now: datetime,
    *,
    available: frozenset[Channel] = frozenset(Channel),
) -> Verdict:
    """The policy's verdict on one row as the database stands (the planner uses this)."""
    inputs = PolicyInputs.load(session, [row], now)
    channel, address = route(row, inputs.residents.get(row.resident_id or -1), available)
    return inputs.verdict(row, channel, address)


def route(
    row: OutboxRow,
    resident: Resident | None,
    available: frozenset[Channel] = frozenset(Channel),
) -> tuple[Channel, str]:
    """Which channel and address a row goes to: its own, or the resident's preferred one,
    falling back from Telegram to SMS when Telegram cannot be used or is not running."""
    if row.channel is not None and row.address:
        return Channel(row.channel), row.address
    if resident is None:
        return Channel(row.channel or Channel.SMS), row.address or ""
    telegram_ok = resident.telegram_id is not None and Channel.TELEGRAM not in opted_out(
        resident
    ) | unreachable(resident)
    wants_telegram = row.channel == Channel.TELEGRAM or (
        row.channel is None and resident.preferred_channel == Channel.TELEGRAM
    )
    if wants_telegram and telegram_ok:
        return Channel.TELEGRAM, str(resident.telegram_id)
    return Channel.SMS, resident.mobile or ""
