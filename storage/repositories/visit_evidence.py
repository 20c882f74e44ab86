"""Everything recorded about one visit, from every table that knows: its events,
messages, planned outbox rows and their policy decisions, disclosures, feedback and
complaints (the visit page and its export)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import (
    AppointmentEvent,
    Complaint,
    ContactDecision,
    Disclosure,
    Feedback,
    Message,
    OutboxMessage,
)


def events(session: Session, *, appointment_id: int) -> Sequence[AppointmentEvent]:
    return session.exec(
        select(AppointmentEvent)
        .where(col(AppointmentEvent.appointment_id) == appointment_id)
        .order_by(col(AppointmentEvent.at), col(AppointmentEvent.id))
    ).all()


def messages(session: Session, *, appointment_id: int) -> Sequence[Message]:
    return session.exec(
        select(Message)
        .where(col(Message.appointment_id) == appointment_id)
        .order_by(col(Message.created_at), col(Message.id))
    ).all()


def outbox(session: Session, *, appointment_id: int) -> Sequence[OutboxMessage]:
    return session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.appointment_id) == appointment_id)
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    ).all()


def decisions(session: Session, *, outbox_ids: Sequence[int | None]) -> Sequence[ContactDecision]:
    """The policy decisions about these outbox rows, in order."""
    return session.exec(
        select(ContactDecision)
        .where(col(ContactDecision.outbox_id).in_(outbox_ids))
        .order_by(col(ContactDecision.at), col(ContactDecision.id))
    ).all()


def disclosures(session: Session, *, appointment_id: int) -> Sequence[Disclosure]:
    return session.exec(
        select(Disclosure)
        .where(col(Disclosure.appointment_id) == appointment_id)
        .order_by(col(Disclosure.shared_at), col(Disclosure.id))
    ).all()


def feedback(session: Session, *, appointment_id: int) -> Feedback | None:
    return session.exec(
        select(Feedback).where(col(Feedback.appointment_id) == appointment_id)
    ).first()


def complaints(session: Session, *, appointment_id: int) -> Sequence[Complaint]:
    return session.exec(
        select(Complaint).where(col(Complaint.appointment_id) == appointment_id)
    ).all()
