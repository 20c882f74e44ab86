"""Gather what the contact policy needs about outbox rows, a batch at a time.

The policy itself is pure (`flows.policy.decide`); this module is its bridge to the
database (its queries are `storage.repositories.contact_policy`'s). Loading per batch
(one query per table, not per row) is what lets several dispatchers sustain thousands
of messages a second on PostgreSQL. Contact hours are read in the deployment's zone
(DOORSTEP_TIMEZONE), which the caller passes in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlmodel import Session

from flows.invitations import JOB_KINDS
from flows.policy import (
    Candidate,
    ContactRules,
    Purpose,
    PurposeState,
    Reason,
    Recipient,
    Verdict,
    decide,
)
from storage.enums import AppointmentStatus, Channel, JobStatus, Nation
from storage.models import Appointment, Landlord, OutboxMessage, Resident
from storage.repositories import contact_policy, invitations

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
    #: The zone contact hours, quiet bands and visit days are read in (DOORSTEP_TIMEZONE).
    zone: ZoneInfo
    residents: dict[int, Resident] = field(default_factory=dict)
    nations: dict[int, Nation] = field(default_factory=dict)
    landlords: dict[int, Landlord] = field(default_factory=dict)
    appointments: dict[int, Appointment] = field(default_factory=dict)
    open_conversations: set[int] = field(default_factory=set)
    recent_sends: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    feedback_done: set[int] = field(default_factory=set)
    #: Operative briefings (issue 7): (operative id, ISO day) with a visit still booked.
    operative_days: set[tuple[int, str]] = field(default_factory=set)
    #: Invitations to book (issue 14): each job's status and whether a visit is booked.
    jobs: dict[int, tuple[JobStatus, bool]] = field(default_factory=dict)

    @classmethod
    def load(
        cls, session: Session, rows: Sequence[OutboxRow], now: datetime, *, zone: ZoneInfo
    ) -> PolicyInputs:
        """What the policy needs for `rows`; contact hours are read in `zone`."""
        inputs = cls(now=now, zone=zone)
        resident_ids = {r.resident_id for r in rows if r.resident_id is not None}
        appointment_ids = {r.appointment_id for r in rows if r.appointment_id is not None}
        if resident_ids:
            for resident in contact_policy.residents(session, ids=resident_ids):
                assert resident.id is not None
                inputs.residents[resident.id] = resident
            property_ids = {r.property_id for r in inputs.residents.values() if r.property_id}
            nations = contact_policy.nations(session, property_ids=property_ids)
            for resident in inputs.residents.values():
                assert resident.id is not None
                inputs.nations[resident.id] = Nation(
                    nations.get(resident.property_id or -1, Nation.ENGLAND)
                )
            landlord_ids = {r.landlord_id for r in inputs.residents.values()}
            for landlord in contact_policy.landlords(session, ids=landlord_ids):
                assert landlord.id is not None
                inputs.landlords[landlord.id] = landlord
            inputs.open_conversations = contact_policy.wrote_since(
                session, resident_ids=resident_ids, since=now - OPEN_CONVERSATION
            )
            for resident_id, at in contact_policy.service_sends_since(
                session, resident_ids=resident_ids, since=now - CAP_WINDOW
            ):
                inputs.recent_sends[resident_id].append(at)
        if appointment_ids:
            for appointment in contact_policy.appointments(session, ids=appointment_ids):
                assert appointment.id is not None
                inputs.appointments[appointment.id] = appointment
            inputs.feedback_done = contact_policy.feedback_given(
                session, appointment_ids=appointment_ids
            )
        # Operative briefings (issue 7): live while the operative has visits that day.
        briefed: set[int] = {
            r.operative_id
            for r in rows
            if r.purpose == OPERATIVE_BRIEFING and r.operative_id is not None
        }
        if briefed:
            inputs.operative_days = {
                (operative_id, day.isoformat())
                for operative_id, day in contact_policy.booked_days(session, operative_ids=briefed)
            }
        job_ids = {_job_id(r) for r in rows if r.kind in JOB_KINDS}
        if job_ids:
            inputs.jobs = invitations.job_states(session, job_ids=job_ids)
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
            zone=self.zone,
        )
        if row.purpose == OPERATIVE_BRIEFING:  # issue 7: an operative's working day
            rules = ContactRules.from_config(OPERATIVE_HOURS, None, zone=self.zone)
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
        if row.kind in JOB_KINDS:  # issue 14: the resident's own repair, still unbooked
            return self._job_purpose(row)
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

    def _job_purpose(self, row: OutboxRow) -> PurposeState:
        found = self.jobs.get(_job_id(row))
        if found is None:
            return PurposeState(exists=False)
        status, booked = found
        if status in (JobStatus.CANCELLED, JobStatus.COMPLETED):
            return PurposeState(exists=True, active=False)
        if booked or status == JobStatus.BOOKED:
            return PurposeState(exists=True, still_needed=False, unneeded_reason=Reason.JOB_BOOKED)
        return PurposeState(exists=True, still_needed=status == JobStatus.OPEN)


def _job_id(row: OutboxRow) -> int:
    value = (row.payload or {}).get("job_id")
    return value if isinstance(value, int) else -1


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
