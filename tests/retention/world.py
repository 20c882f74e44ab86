"""A small world for retention tests: one landlord, and residents with repairs, visits,
transcripts, outbox rows and the rest, each row dated where the test says."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.outbound.retention import RetentionFigures, RetentionPolicy, run_retention
from bot.settings import load_settings
from storage.db import Database
from storage.enums import (
    AccessNeedCategory,
    AppointmentStatus,
    Channel,
    Decision,
    Direction,
    JobStatus,
    OutboxStatus,
    TaskKind,
    TaskStatus,
)
from storage.models import (
    AccessNeed,
    Appointment,
    AppointmentEvent,
    Complaint,
    ContactDecision,
    Contractor,
    Conversation,
    Disclosure,
    Feedback,
    Landlord,
    Message,
    Operative,
    OutboxMessage,
    Property,
    RepairJob,
    Resident,
    StaffTask,
)

LONDON = ZoneInfo("Europe/London")
#: When the world's rows were written, unless a test says otherwise.
T0 = datetime(2020, 1, 6, 10, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def policy(**days: int) -> RetentionPolicy:
    """The default periods (bot.settings), with `batch_size` or any setting overridden."""
    overrides = {f"retention_{k}": v for k, v in days.items()}
    return RetentionPolicy.from_settings(load_settings(**overrides))  # type: ignore[arg-type]


def run(db: Database, now: datetime, *, dry_run: bool = False, **days: int) -> RetentionFigures:
    return run_retention(db, policy=policy(**days), now=now, zone=LONDON, dry_run=dry_run)


def figures(result: RetentionFigures) -> dict[str, tuple[int, int, int, int, int]]:
    """kind -> (examined, deleted, anonymised, kept for complaint, kept active)."""
    return {
        k.kind.value: (k.examined, k.deleted, k.anonymised, k.kept_for_complaint, k.kept_active)
        for k in result.kinds
    }


@dataclass(frozen=True)
class Visit:
    """Ids of one resident's repair with one visit and everything written about it."""

    landlord_id: int
    resident_id: int
    mobile: str
    job_id: int
    appointment_id: int
    conversation_id: int
    message_ids: tuple[int, ...]
    outbox_id: int
    feedback_id: int
    need_id: int


def landlord(session: Session) -> tuple[int, int, int]:
    """(landlord id, property id, operative id)."""
    n = next(_numbers)
    home = Landlord(
        reference=f"L{n}",
        name="Riverside Homes",
        phone="0300 000 0000",
        emergency_phone="0300 000 0001",
        contact_hours={},
        created_at=T0,
    )
    session.add(home)
    session.flush()
    assert home.id is not None
    prop = Property(
        landlord_id=home.id, reference=f"P{n}", address="1 High St", postcode="SW1A 1AA"
    )
    firm = Contractor(landlord_id=home.id, name="Fixers Ltd")
    session.add_all([prop, firm])
    session.flush()
    assert prop.id is not None and firm.id is not None
    op = Operative(landlord_id=home.id, contractor_id=firm.id, name="Dev", badge_number=f"B{n}")
    session.add(op)
    session.flush()
    assert op.id is not None
    return home.id, prop.id, op.id


def visit(
    db: Database,
    *,
    at: datetime = T0,
    job_status: JobStatus = JobStatus.COMPLETED,
    tenancy_ended_on: date | None = None,
    opted_out: bool = False,
) -> Visit:
    """A resident, a repair and its visit, all written at `at`: two messages about the
    visit and one about nothing in particular, an outbox row with its decision, the
    visit's timeline, a disclosed access need, feedback with a comment and a closed task."""
    n = next(_numbers)
    mobile = f"+4474009{n:05d}"
    with db.session() as session:
        landlord_id, property_id, operative_id = landlord(session)
        resident = Resident(
            landlord_id=landlord_id,
            reference=f"R{n}",
            property_id=property_id,
            name=f"Resident {n}",
            mobile=mobile,
            nominee_name="Sian",
            nominee_phone="+447400000001",
            created_at=at,
            tenancy_ended_on=tenancy_ended_on,
            sms_opted_out_at=at if opted_out else None,
        )
        session.add(resident)
        session.flush()
        assert resident.id is not None
        job = RepairJob(
            landlord_id=landlord_id,
            reference=f"J{n}",
            property_id=property_id,
            resident_id=resident.id,
            description="Dripping tap",
            status=job_status,
            created_at=at,
            updated_at=at,
        )
        session.add(job)
        session.flush()
        assert job.id is not None
        appointment = Appointment(
            job_id=job.id,
            operative_id=operative_id,
            day=at.date(),
            window="morning",
            starts_at=at,
            ends_at=at + timedelta(hours=4),
            status=AppointmentStatus.COMPLETED,
            visit_code="1234",
            created_at=at,
            updated_at=at,
        )
        conversation = Conversation(
            channel=Channel.SMS, address=mobile, resident_id=resident.id, updated_at=at
        )
        session.add_all([appointment, conversation])
        session.flush()
        assert appointment.id is not None and conversation.id is not None
        outbox = OutboxMessage(
            resident_id=resident.id,
            appointment_id=appointment.id,
            conversation_id=conversation.id,
            kind="reminder",
            purpose="service",
            channel=Channel.SMS,
            address=mobile,
            text="Reminder: your visit",
            idempotency_key=f"k{n}",
            not_before=at,
            status=OutboxStatus.SENT,
            created_at=at,
            sent_at=at,
        )
        session.add(outbox)
        session.flush()
        assert outbox.id is not None
        session.add(
            ContactDecision(
                outbox_id=outbox.id, decision=Decision.SEND, reason_code="within_policy", at=at
            )
        )
        messages = [
            _message(resident.id, conversation.id, mobile, at, appointment.id, outbox_id=outbox.id),
            _message(resident.id, conversation.id, mobile, at, appointment.id),
            _message(resident.id, conversation.id, mobile, at, None),
        ]
        need = AccessNeed(
            resident_id=resident.id,
            category=AccessNeedCategory.HEARING,
            own_words="I am deaf, please text",
            recorded_at=at,
        )
        feedback = Feedback(
            appointment_id=appointment.id,
            resident_id=resident.id,
            rating=2,
            comment="He was rude",
            conversation_id=conversation.id,
            created_at=at,
        )
        session.add_all([*messages, need, feedback])
        session.add(AppointmentEvent(appointment_id=appointment.id, kind="arrived", at=at))
        session.add(
            StaffTask(
                kind=TaskKind.CALLBACK,
                status=TaskStatus.CLOSED,
                summary=f"Call Resident {n}",
                resident_id=resident.id,
                conversation_id=conversation.id,
                created_at=at,
                closed_at=at,
            )
        )
        session.flush()
        assert need.id is not None and feedback.id is not None
        session.add(
            Disclosure(
                appointment_id=appointment.id,
                operative_id=operative_id,
                access_need_id=need.id,
                shared_at=at,
                wording="Deaf: text, do not knock",
            )
        )
        return Visit(
            landlord_id=landlord_id,
            resident_id=resident.id,
            mobile=mobile,
            job_id=job.id,
            appointment_id=appointment.id,
            conversation_id=conversation.id,
            message_ids=tuple(m.id for m in messages if m.id is not None),
            outbox_id=outbox.id,
            feedback_id=feedback.id,
            need_id=need.id,
        )


def _message(
    resident_id: int,
    conversation_id: int,
    mobile: str,
    at: datetime,
    appointment_id: int | None,
    outbox_id: int | None = None,
) -> Message:
    return Message(
        direction=Direction.OUTBOUND if outbox_id else Direction.INBOUND,
        channel=Channel.SMS,
        address=mobile,
        text="hello",
        created_at=at,
        conversation_id=conversation_id,
        appointment_id=appointment_id,
        resident_id=resident_id,
        outbox_id=outbox_id,
    )


def message_on(db: Database, v: Visit, at: datetime) -> None:
    """Something new about the visit at `at` (the job is active again)."""
    with db.session() as session:
        session.add(_message(v.resident_id, v.conversation_id, v.mobile, at, v.appointment_id))


def complain(db: Database, v: Visit, *, at: datetime, status: str = "open") -> int:
    with db.session() as session:
        complaint = Complaint(
            resident_id=v.resident_id,
            appointment_id=v.appointment_id,
            text="Nobody came and I took a day off",
            status=status,
            created_at=at,
        )
        session.add(complaint)
        session.flush()
        assert complaint.id is not None
        return complaint.id


def years(n: float) -> timedelta:
    return timedelta(days=round(365.25 * n))


__all__ = ["T0", "UTC"]
