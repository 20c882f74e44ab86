"""A visit's evidence: everything that happened, in order, from every table that knows.

Used for the visit page, the JSON export and the printable page, so all three always
agree. Entries keep the raw facts (statuses, reason codes, who acted) rather than
prose, because this is what a complaint investigation or the Ombudsman will read.
For a role that may not see access needs, every message, planned message and
disclosure that carries one says "[withheld: access need]" instead (all three exports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.web.staff.read_models import VisitRow, visit_row
from flows.needs_privacy import WITHHELD, Said, carrying_needs, one_carries_need
from storage.models import AccessNeed, Appointment, Operative, RepairJob
from storage.repositories import visit_evidence
from storage.repositories._batch import by_id
from storage.repositories.conversation_history import need_words


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    source: str  # message | outbox | decision | event | disclosure | feedback | complaint
    title: str
    text: str = ""
    actor: str = ""
    status: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "source": self.source,
            "title": self.title,
            "text": self.text,
            "actor": self.actor,
            "status": self.status,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    visit: VisitRow
    visit_code: str
    entries: tuple[Entry, ...]

    def as_json(self, *, exported_at: datetime, exported_by: str) -> dict[str, Any]:
        v = self.visit
        return {
            "visit": {
                "id": v.id,
                "when": v.when,
                "day": v.day.isoformat(),
                "status": v.status,
                "version": v.version,
                "job_reference": v.reference,
                "job": v.description,
                "resident": v.resident,
                "operative": v.operative,
                "contractor": v.contractor,
            },
            "exported_at": exported_at.isoformat(),
            "exported_by": exported_by,
            "timeline": [e.as_json() for e in self.entries],
        }


def evidence(session: Session, appointment_id: int, *, show_needs: bool) -> Evidence | None:
    visit = visit_row(session, appointment_id)
    appointment = session.get(Appointment, appointment_id)
    if visit is None or appointment is None:
        return None
    entries: list[Entry] = [
        Entry(
            appointment.created_at,
            "event",
            "Visit booked",
            visit.when,
            data={"version": 1},
        )
    ]
    on_record: list[str] | None = None
    if not show_needs:
        job = session.get(RepairJob, appointment.job_id)
        resident_id = job.resident_id if job else None
        on_record = need_words(session, resident_ids=[resident_id]).get(resident_id or -1, [])
    entries += _events(session, appointment_id)
    entries += _messages(session, appointment_id, on_record=on_record)
    entries += _outbox(session, appointment_id, on_record=on_record)
    entries += _disclosures(session, appointment_id, show_needs=show_needs)
    entries += _afterwards(session, appointment_id)
    entries.sort(key=lambda e: (e.at, e.source))
    return Evidence(visit=visit, visit_code=appointment.visit_code, entries=tuple(entries))


def _events(session: Session, appointment_id: int) -> list[Entry]:
    rows = visit_evidence.events(session, appointment_id=appointment_id)
    return [
        Entry(
            row.at,
            "event",
            row.kind.replace("_", " ").capitalize(),
            actor=row.actor,
            data=dict(row.data),
        )
        for row in rows
    ]


def _messages(session: Session, appointment_id: int, *, on_record: list[str] | None) -> list[Entry]:
    """The visit's messages; with `on_record` (a reader who may not see access needs, and
    the words of the resident's needs) each one carrying a need is withheld."""
    rows = visit_evidence.messages(session, appointment_id=appointment_id)
    carried = (
        carrying_needs(
            [Said(m.direction.value, m.text, m.intent) for m in rows], on_record=on_record
        )
        if on_record is not None
        else [False] * len(rows)
    )
    out = []
    for m, carries in zip(rows, carried, strict=True):
        inbound = m.direction.value == "in"
        out.append(
            Entry(
                m.created_at,
                "message",
                f"{'From' if inbound else 'To'} resident by {m.channel.value}",
                WITHHELD if carries else m.text,
                actor="resident" if inbound else "doorstep",
                status=m.delivery_status or ("received" if inbound else "recorded"),
                data={"outbox_id": m.outbox_id} if m.outbox_id else {},
            )
        )
    return out


def _outbox(session: Session, appointment_id: int, *, on_record: list[str] | None) -> list[Entry]:
    """Messages the service planned, and every policy decision about each one (a message
    carrying an access need withheld when `on_record` is given, as in `_messages`)."""
    rows = visit_evidence.outbox(session, appointment_id=appointment_id)
    operatives = by_id(session, Operative, (o.operative_id for o in rows))
    decisions = visit_evidence.decisions(session, outbox_ids=[o.id for o in rows])
    kinds = {o.id: o.kind for o in rows}
    out = []
    for o in rows:
        to = "operative" if o.operative_id else "resident"
        who = operatives[o.operative_id].name if o.operative_id in operatives else to
        out.append(
            Entry(
                o.created_at,
                "outbox",
                f"Planned {o.kind.replace('_', ' ')} to {who}",
                WITHHELD
                if on_record is not None and one_carries_need(o.text, on_record=on_record)
                else o.text,
                status=o.status.value,
                data={
                    "outbox_id": o.id,
                    "purpose": o.purpose,
                    "channel": o.channel.value if o.channel else None,
                    "version": o.appointment_version,
                    "attempts": o.attempts,
                    "last_error": o.last_error,
                    "sent_at": o.sent_at.isoformat() if o.sent_at else None,
                },
            )
        )
    for d in decisions:
        kind = kinds.get(d.outbox_id, "").replace("_", " ")
        out.append(
            Entry(
                d.at,
                "decision",
                f"Contact policy: {d.decision.value} {kind}",
                d.detail,
                status=d.reason_code,
                data={"outbox_id": d.outbox_id},
            )
        )
    return out


def _disclosures(session: Session, appointment_id: int, *, show_needs: bool) -> list[Entry]:
    rows = visit_evidence.disclosures(session, appointment_id=appointment_id)
    operatives = by_id(session, Operative, (d.operative_id for d in rows))
    needs = by_id(session, AccessNeed, (d.access_need_id for d in rows))
    out = []
    for d in rows:
        need = needs.get(d.access_need_id)
        operative = operatives.get(d.operative_id)
        out.append(
            Entry(
                d.shared_at,
                "disclosure",
                f"Shared with {operative.name if operative else 'the operative'}",
                d.wording if show_needs else WITHHELD,
                data={
                    "access_need_id": d.access_need_id,
                    "category": need.category.value if need else None,
                    "consent_to_share": need.consent_to_share if need else None,
                },
            )
        )
    return out


def _afterwards(session: Session, appointment_id: int) -> list[Entry]:
    out = []
    fb = visit_evidence.feedback(session, appointment_id=appointment_id)
    if fb is not None:
        out.append(
            Entry(
                fb.completed_at or fb.created_at,
                "feedback",
                "Feedback" if fb.completed_at else "Feedback (unfinished)",
                fb.comment or "",
                status="flagged" if fb.flagged else "",
                data={
                    "feedback_id": fb.id,
                    "rating": fb.rating,
                    "showed_id": fb.showed_id,
                    "asked_before_facilities": fb.asked_before_facilities,
                    "left_tidy": fb.left_tidy,
                    "respectful": fb.respectful,
                    "reviewed_at": fb.reviewed_at.isoformat() if fb.reviewed_at else None,
                    "review_note": fb.review_note,
                },
            )
        )
    for c in visit_evidence.complaints(session, appointment_id=appointment_id):
        out.append(
            Entry(
                c.created_at,
                "complaint",
                f"Complaint {c.reference}",
                c.text,
                status=c.status,
                data={"respond_by": c.respond_by.isoformat() if c.respond_by else None},
            )
        )
    return out
