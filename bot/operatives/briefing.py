"""What an operative is told about their day: on `/today` and in the morning briefing.

Access needs are special-category data. One is shown only if the resident consented to
share it, only to the operative of that visit, and only on the visit's day (UK date), and
every showing is recorded as a `Disclosure` so the resident and staff can see what was
shared with whom. The property's history is given in neutral words (counts, job
descriptions), never the content of a complaint, so the operative is prepared without
being prejudiced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from flows.local_time import LONDON
from storage.models import (
    Appointment,
    Disclosure,
    Landlord,
    Operative,
    Property,
    RepairJob,
    Resident,
)
from storage.repositories import briefings, landlord_events
from storage.repositories.operatives import booked_visits_on

#: The conduct points residents are asked about afterwards (the feedback flow's questions).
CODE_OF_CONDUCT = (
    "Show your ID badge and say the visit code before you go in.",
    "Ask before using the toilet, the kitchen or anything else in the home.",
    "Use shoe covers and leave the home as tidy as you found it.",
    "Be respectful. If the resident is not comfortable, stop and call the office.",
)
NO_VISITS = "You have no visits booked for today."
PREVIOUS_JOBS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class SharedNeed:
    access_need_id: int
    wording: str


@dataclass(frozen=True, slots=True)
class VisitBrief:
    """One visit as the operative may see it on its day."""

    appointment_id: int
    window: str
    starts_at: datetime
    address: str
    job: str
    visit_code: str
    needs: tuple[SharedNeed, ...]
    previous_jobs: tuple[str, ...]
    completed_jobs: int
    complaints: int
    has_password: bool


@dataclass(frozen=True, slots=True)
class DayBrief:
    operative_id: int
    operative_name: str
    day: date
    visits: tuple[VisitBrief, ...]
    conduct_url: str


def local_day(now: datetime, zone: ZoneInfo = LONDON) -> date:
    return now.astimezone(zone).date()


def load_day(session: Session, operative: Operative, *, now: datetime) -> DayBrief:
    """Read the operative's day; `record_disclosures` must follow if it is shown."""
    assert operative.id is not None
    day = local_day(now)
    visits = tuple(
        _visit(session, appointment, day)
        for appointment in booked_visits_on(session, operative_id=operative.id, day=day)
    )
    landlord = _landlord_of(session, visits)
    return DayBrief(
        operative_id=operative.id,
        operative_name=operative.name,
        day=day,
        visits=visits,
        conduct_url=landlord.code_of_conduct_url if landlord else "",
    )


def record_disclosures(session: Session, brief: DayBrief, *, now: datetime) -> int:
    """One row per need shown per visit (a second showing of the same need adds none)."""
    added = 0
    for visit in brief.visits:
        already = briefings.disclosed_need_ids(
            session, appointment_id=visit.appointment_id, operative_id=brief.operative_id
        )
        shared = []
        for need in visit.needs:
            if need.access_need_id in already:
                continue
            shared.append(need.wording)
            session.add(
                Disclosure(
                    appointment_id=visit.appointment_id,
                    operative_id=brief.operative_id,
                    access_need_id=need.access_need_id,
                    shared_at=now,
                    wording=need.wording,
                )
            )
            added += 1
        if shared:
            _tell_landlord(session, visit.appointment_id, shared, now)
    session.flush()
    return added


def _tell_landlord(
    session: Session, appointment_id: int, wordings: Sequence[str], now: datetime
) -> None:
    """access_needs.shared (issue 14): exactly what was disclosed to the operative for this
    visit, which is only what the resident agreed to share."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        return
    landlord_events.record_for_appointment(
        session,
        appointment=appointment,
        kind=landlord_events.ACCESS_NEEDS_SHARED,
        by="doorstep",
        now=now,
        extra={"needs": [{"wording": w} for w in wordings]},
    )


def _visit(session: Session, appointment: Appointment, day: date) -> VisitBrief:
    assert appointment.id is not None
    job = session.get(RepairJob, appointment.job_id)
    assert job is not None
    home = session.get(Property, job.property_id)
    resident = session.get(Resident, job.resident_id) if job.resident_id else None
    needs: tuple[SharedNeed, ...] = ()
    # Shown only for a visit on its own day, and only what the resident agreed to share.
    if resident is not None and appointment.day == day:
        needs = tuple(
            SharedNeed(need.id, need.own_words)
            for need in briefings.shareable_needs(session, resident_id=resident.id)
            if need.id is not None
        )
    done = briefings.completed_jobs_at(session, property_id=job.property_id, except_job_id=job.id)
    complaints = briefings.complaints_at(session, property_id=job.property_id)
    return VisitBrief(
        appointment_id=appointment.id,
        window=appointment.window,
        starts_at=appointment.starts_at,
        address=f"{home.address}, {home.postcode}" if home else "(address not on file)",
        job=job.description,
        visit_code=appointment.visit_code,
        needs=needs,
        previous_jobs=tuple(done[:PREVIOUS_JOBS_SHOWN]),
        completed_jobs=len(done),
        complaints=complaints,
        has_password=bool(resident and resident.door_password_hash),
    )


def _landlord_of(session: Session, visits: Sequence[VisitBrief]) -> Landlord | None:
    if not visits:
        return None
    appointment = session.get(Appointment, visits[0].appointment_id)
    job = session.get(RepairJob, appointment.job_id) if appointment else None
    home = session.get(Property, job.property_id) if job else None
    return session.get(Landlord, home.landlord_id) if home else None


# --- wording (plain text: Telegram, but kept readable anywhere) ---------------------------


def visit_text(visit: VisitBrief, position: int, zone: ZoneInfo = LONDON) -> str:
    start = visit.starts_at.astimezone(zone).strftime("%H:%M")
    lines = [
        f"Visit {position}: {visit.window} (from {start})",
        f"Address: {visit.address}",
        f"Job: {visit.job}",
        f"Visit code: {visit.visit_code} (say it at the door)",
    ]
    if visit.needs:
        lines.append("The resident asked us to tell you:")
        lines.extend(f"- {need.wording}" for need in visit.needs)
    if visit.has_password:
        lines.append("The resident has set a password: ask them for it before you go in.")
    lines.append(_history(visit))
    return "\n".join(lines)


def _history(visit: VisitBrief) -> str:
    if visit.completed_jobs == 0:
        works = "No earlier repairs at this address on record."
    else:
        recent = "; ".join(visit.previous_jobs)
        works = f"Earlier repairs completed here: {visit.completed_jobs} (recent: {recent})."
    complaints = (
        "No complaints on record for this address."
        if visit.complaints == 0
        else f"Complaints on record for this address: {visit.complaints}."
    )
    return f"{works} {complaints}"


def conduct_text(url: str) -> str:
    points = "\n".join(f"- {point}" for point in CODE_OF_CONDUCT)
    more = f"\nThe full code: {url}" if url else ""
    return f"Our code of conduct:\n{points}{more}"


def heading(brief: DayBrief) -> str:
    count = len(brief.visits)
    if count == 0:
        return NO_VISITS
    visits = "1 visit" if count == 1 else f"{count} visits"
    return f"Good morning {brief.operative_name.split()[0]}. You have {visits} today."


def briefing_text(brief: DayBrief) -> str:
    """The whole day in one message (the morning briefing); `/today` splits it per visit."""
    parts = [heading(brief)]
    parts.extend(visit_text(v, i) for i, v in enumerate(brief.visits, start=1))
    parts.append(conduct_text(brief.conduct_url))
    parts.append("Send /today for each visit with its status buttons.")
    return "\n\n".join(parts)
