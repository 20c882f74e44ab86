"""Events a landlord's system must know about (issue 14): the one module that writes
`landlord_events`, and the `webhook_deliveries` each event fans out to.

Every event is written in the same transaction as the change it reports, so a change
without its event (or an event for a change that rolled back) cannot happen. Each active
webhook subscription of the landlord that wants the kind gets one pending delivery; the
delivery worker (bot/outbound/webhooks.py) sends them, in order per job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.models import (
    Appointment,
    LandlordEvent,
    Operative,
    RepairJob,
    WebhookDelivery,
    WebhookSubscription,
)

APPOINTMENT_BOOKED: Final = "appointment.booked"
APPOINTMENT_CHANGED: Final = "appointment.changed"
APPOINTMENT_CANCELLED: Final = "appointment.cancelled"
ACCESS_NEEDS_SHARED: Final = "access_needs.shared"
VISIT_COMPLETED: Final = "visit.completed"
VISIT_NO_ACCESS: Final = "visit.no_access"
FEEDBACK_RECEIVED: Final = "feedback.received"
COMPLAINT_RAISED: Final = "complaint.raised"
EMERGENCY_REPORTED: Final = "emergency.reported"
CALLBACK_REQUESTED: Final = "callback.requested"
RESIDENT_OPTED_OUT: Final = "resident.opted_out"
RESIDENT_OPTED_IN: Final = "resident.opted_in"
RESIDENT_LANGUAGE_CHANGED: Final = "resident.language_changed"

#: Every kind, in the order docs/integration.md lists them.
KINDS: Final = (
    APPOINTMENT_BOOKED,
    APPOINTMENT_CHANGED,
    APPOINTMENT_CANCELLED,
    ACCESS_NEEDS_SHARED,
    VISIT_COMPLETED,
    VISIT_NO_ACCESS,
    FEEDBACK_RECEIVED,
    COMPLAINT_RAISED,
    EMERGENCY_REPORTED,
    CALLBACK_REQUESTED,
    RESIDENT_OPTED_OUT,
    RESIDENT_OPTED_IN,
    RESIDENT_LANGUAGE_CHANGED,
)
#: The ordering key of deliveries for events that belong to no job.
NO_JOB: Final = "-"


def record(
    session: Session,
    *,
    landlord_id: int,
    kind: str,
    now: datetime,
    data: Mapping[str, Any],
    job: RepairJob | None = None,
) -> LandlordEvent:
    """Write one event and a pending delivery for each subscription that wants it."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = LandlordEvent(
        landlord_id=landlord_id,
        kind=kind,
        job_id=job.id if job is not None else None,
        job_reference=job.reference if job is not None else None,
        occurred_at=now,
        data=dict(data),
    )
    session.add(event)
    session.flush()
    assert event.id is not None
    subscriptions = session.exec(
        select(WebhookSubscription.id, WebhookSubscription.events).where(
            col(WebhookSubscription.landlord_id) == landlord_id,
            col(WebhookSubscription.active).is_(True),
        )
    ).all()
    rows = [
        {
            "subscription_id": subscription_id,
            "event_id": event.id,
            "ordering_key": event.job_reference or NO_JOB,
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for subscription_id, wanted in subscriptions
        if not wanted or kind in wanted
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return event


def appointment_data(session: Session, appointment: Appointment, *, by: str) -> dict[str, Any]:
    """What an appointment event says: the visit as it now stands, and who changed it
    ("resident", "landlord", "staff", "operative", or "doorstep" for what the service did
    itself, such as sharing access needs in an operative's briefing)."""
    operative = session.get(Operative, appointment.operative_id)
    return {
        "appointment": {
            "date": appointment.day.isoformat(),
            "window": appointment.window,
            "starts_at": appointment.starts_at.isoformat(),
            "ends_at": appointment.ends_at.isoformat(),
            "operative": operative.reference if operative is not None else None,
            "status": str(appointment.status),
            "version": appointment.version,
        },
        "by": by,
    }


def record_for_appointment(
    session: Session,
    *,
    appointment: Appointment,
    kind: str,
    by: str,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> LandlordEvent | None:
    """An event about this appointment's job, for the job's landlord."""
    job = session.get(RepairJob, appointment.job_id)
    if job is None:
        return None
    data = appointment_data(session, appointment, by=by)
    data.update(extra or {})
    return record(session, landlord_id=job.landlord_id, kind=kind, now=now, data=data, job=job)


def page(
    session: Session, *, landlord_id: int, after: int, limit: int, kinds: Sequence[str] = ()
) -> Sequence[LandlordEvent]:
    """The landlord's events after the cursor, oldest first (the feed)."""
    query = select(LandlordEvent).where(
        col(LandlordEvent.landlord_id) == landlord_id, col(LandlordEvent.id) > after
    )
    if kinds:
        query = query.where(col(LandlordEvent.kind).in_(list(kinds)))
    return session.exec(query.order_by(col(LandlordEvent.id)).limit(limit)).all()


def envelope(event: LandlordEvent, *, landlord_reference: str) -> dict[str, Any]:
    """An event as the feed gives it and as a webhook's body carries it (one shape):
    `id` (the feed's cursor), `type`, `occurred_at` (UTC, ISO 8601), `landlord` and
    `job` (the landlord's own references; `job` is null for events of no job), `data`."""
    assert event.id is not None
    return {
        "id": event.id,
        "type": event.kind,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "landlord": landlord_reference,
        "job": event.job_reference,
        "data": event.data,
    }
