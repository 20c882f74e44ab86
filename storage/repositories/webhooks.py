"""Webhook subscriptions and their deliveries (issue 14): the statements of the landlord's
own outbox. `landlord_events.record` adds the pending deliveries; the worker in
bot/outbound/webhooks.py claims, sends and settles them through here.

A delivery is `pending` (waiting, perhaps until `not_before` after a failure),
`delivering` (claimed by a worker, on its way), `delivered`, or `dead` (gave up; on the
staff app's dead-letter list until resent).

Order per job. Deliveries of one subscription with one ordering key (the job's reference,
or "-" for events of no job) go out in event order: a delivery is claimable only when no
earlier event's delivery for the same subscription and key is still `pending` or
`delivering`. So while a receiver is down, one job's later events wait behind its first;
once the first is delivered the next becomes claimable. A `dead` delivery does not block
(else one poisoned event would hold that job's events for ever); a later resend of it is
then delivered after its successors, and says so by its event id and `occurred_at`.
Different jobs (and different subscriptions) do not wait for each other.

Claims. On PostgreSQL due rows are locked `FOR UPDATE SKIP LOCKED` (like the message
outbox, storage/repositories/outbox.py), marked `delivering` with who claimed them and
when, and committed before any receiver is called; two workers never claim one row, and
because the earlier row of a key is either locked (skipped, and its successor fails the
"nothing earlier pending" test) or already `delivering`, they never send one job's events
out of order either. SQLite has one writer (BEGIN IMMEDIATE), which serialises claims.
A row left `delivering` by a worker that died is put back to `pending` after a while
(`release_stuck`) and sent again: delivery is at least once, and receivers drop
duplicates by the event id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, bindparam, exists, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import Landlord, LandlordEvent, WebhookDelivery, WebhookSubscription

PENDING: Final = "pending"
DELIVERING: Final = "delivering"
DELIVERED: Final = "delivered"
DEAD: Final = "dead"
#: The ones that hold back later events of the same job.
_IN_LINE: Final = (PENDING, DELIVERING)

_DELIVERIES: Any = WebhookDelivery.__table__  # type: ignore[attr-defined]


# -- subscriptions -------------------------------------------------------------------------


def create_subscription(
    session: Session,
    *,
    landlord_id: int,
    url: str,
    secret: str,
    events: Sequence[str],
    now: datetime,
) -> WebhookSubscription:
    row = WebhookSubscription(
        landlord_id=landlord_id,
        url=url,
        secret=secret,
        events=list(events),
        active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def subscription(session: Session, *, subscription_id: int) -> WebhookSubscription | None:
    return session.get(WebhookSubscription, subscription_id)


def subscriptions(
    session: Session,
    *,
    landlord_id: int | None = None,
    after_id: int = 0,
    limit: int = 100,
    active_only: bool = True,
) -> Sequence[WebhookSubscription]:
    """Subscriptions (of one landlord, or all), by id, after the key."""
    query = select(WebhookSubscription).where(col(WebhookSubscription.id) > after_id)
    if landlord_id is not None:
        query = query.where(col(WebhookSubscription.landlord_id) == landlord_id)
    if active_only:
        query = query.where(col(WebhookSubscription.active).is_(True))
    return session.exec(query.order_by(col(WebhookSubscription.id)).limit(limit)).all()


def remove_subscription(session: Session, *, subscription_id: int, now: datetime) -> bool:
    """Stop a subscription: nothing more is queued for it, and what was waiting is
    settled `dead` ("subscription removed"). The rows stay, for the record."""
    row = session.get(WebhookSubscription, subscription_id)
    if row is None or not row.active:
        return False
    row.active = False
    session.add(row)
    session.execute(
        update(_DELIVERIES)
        .where(
            _DELIVERIES.c.subscription_id == subscription_id,
            _DELIVERIES.c.status.in_(_IN_LINE),
        )
        .values(status=DEAD, last_error="subscription removed", claimed_at=None, claimed_by=None)
    )
    return True


# -- the worker's statements ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """One delivery on its way: what to send, where, with which secret."""

    delivery_id: int
    attempts: int
    created_at: datetime
    url: str
    secret: str
    landlord_reference: str
    event: LandlordEvent


def claim_due(
    session: Session,
    *,
    now: datetime,
    size: int,
    worker_id: str,
    skip_locked: bool,
) -> list[Claimed]:
    """Claim up to `size` due deliveries (see the module's docstring for the order), mark
    them `delivering` with one more attempt, and return what to send."""
    d = _DELIVERIES
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        col(earlier.subscription_id) == d.c.subscription_id,
        col(earlier.ordering_key) == d.c.ordering_key,
        col(earlier.event_id) < d.c.event_id,
        col(earlier.status).in_(_IN_LINE),
    )
    query = (
        select(d.c.id, d.c.attempts)
        .join(
            WebhookSubscription.__table__,  # type: ignore[attr-defined]
            and_(
                col(WebhookSubscription.id) == d.c.subscription_id,
                col(WebhookSubscription.active).is_(True),
            ),
        )
        .where(d.c.status == PENDING, d.c.not_before <= now, ~blocked)
        .order_by(d.c.event_id, d.c.id)
        .limit(size)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True, of=d)
    picked = [(int(r[0]), int(r[1])) for r in session.execute(query).all()]
    if not picked:
        return []
    session.execute(
        update(d)
        .where(d.c.id == bindparam("_id"))
        .values(
            status=DELIVERING,
            attempts=bindparam("attempts"),
            claimed_at=bindparam("claimed_at"),
            claimed_by=bindparam("claimed_by"),
        ),
        [
            {"_id": i, "attempts": a + 1, "claimed_at": now, "claimed_by": worker_id}
            for i, a in picked
        ],
    )
    rows = session.exec(
        select(WebhookDelivery, WebhookSubscription, LandlordEvent, Landlord.reference)
        .join(
            WebhookSubscription,
            col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
        )
        .join(LandlordEvent, col(LandlordEvent.id) == col(WebhookDelivery.event_id))
        .join(Landlord, col(Landlord.id) == col(LandlordEvent.landlord_id))
        .where(col(WebhookDelivery.id).in_([i for i, _ in picked]))
        .order_by(col(WebhookDelivery.event_id))
    ).all()
    claimed = []
    for delivery, sub, event, reference in rows:
        assert delivery.id is not None
        claimed.append(
            Claimed(
                delivery_id=delivery.id,
                attempts=delivery.attempts,
                created_at=delivery.created_at,
                url=sub.url,
                secret=sub.secret,
                landlord_reference=reference,
                event=event,
            )
        )
    return claimed


def mark_delivered(session: Session, *, delivery_id: int, status_code: int, at: datetime) -> None:
    mark_all_delivered(session, delivery_ids=[delivery_id], status_code=status_code, at=at)


def mark_all_delivered(
    session: Session, *, delivery_ids: Sequence[int], status_code: int, at: datetime
) -> None:
    """A claimed batch's deliveries that the receiver took with this status, in one UPDATE
    (the batch is at most the worker's claim size)."""
    if not delivery_ids:
        return
    session.execute(
        update(_DELIVERIES)
        .where(_DELIVERIES.c.id.in_(list(delivery_ids)), _DELIVERIES.c.status == DELIVERING)
        .values(
            status=DELIVERED,
            delivered_at=at,
            last_status_code=status_code,
            last_error=None,
            claimed_at=None,
            claimed_by=None,
        )
    )


def mark_failed(
    session: Session,
    *,
    delivery_id: int,
    status_code: int | None,
    error: str,
    retry_at: datetime | None,
) -> None:
    """A failed attempt: back to `pending` until `retry_at`, or `dead` when it is None."""
    session.execute(
        update(_DELIVERIES)
        .where(_DELIVERIES.c.id == delivery_id, _DELIVERIES.c.status == DELIVERING)
        .values(
            status=PENDING if retry_at is not None else DEAD,
            not_before=retry_at if retry_at is not None else _DELIVERIES.c.not_before,
            last_status_code=status_code,
            last_error=error[:300],
            claimed_at=None,
            claimed_by=None,
        )
    )


def release_stuck(session: Session, *, claimed_before: datetime) -> int:
    """Deliveries left `delivering` by a worker that died go back to `pending` (sent again:
    at least once). Returns how many."""
    result = session.execute(
        update(_DELIVERIES)
        .where(_DELIVERIES.c.status == DELIVERING, _DELIVERIES.c.claimed_at < claimed_before)
        .values(status=PENDING, claimed_at=None, claimed_by=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- the dead-letter list and resending ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A delivery as staff and the CLI see it (never the body or the secret)."""

    delivery: WebhookDelivery
    event_kind: str
    job_reference: str | None
    occurred_at: datetime
    url: str
    landlord_reference: str


def _listing(session: Session, *conditions: Any, before_id: int | None, limit: int) -> Any:
    query = (
        sa_select(
            WebhookDelivery,
            col(LandlordEvent.kind),
            col(LandlordEvent.job_reference),
            col(LandlordEvent.occurred_at),
            col(WebhookSubscription.url),
            col(Landlord.reference),
        )
        .join(
            WebhookSubscription,
            col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
        )
        .join(LandlordEvent, col(LandlordEvent.id) == col(WebhookDelivery.event_id))
        .join(Landlord, col(Landlord.id) == col(WebhookSubscription.landlord_id))
        .where(*conditions)
    )
    if before_id is not None:
        query = query.where(col(WebhookDelivery.id) < before_id)
    return session.execute(query.order_by(col(WebhookDelivery.id).desc()).limit(limit)).all()


def dead_letters(
    session: Session,
    *,
    before_id: int | None = None,
    limit: int = 50,
    landlord_id: int | None = None,
) -> list[DeliveryRow]:
    """Dead deliveries of live subscriptions, newest first, before the key."""
    conditions: list[Any] = [
        col(WebhookDelivery.status) == DEAD,
        col(WebhookSubscription.active).is_(True),
    ]
    if landlord_id is not None:
        conditions.append(col(WebhookSubscription.landlord_id) == landlord_id)
    return [
        DeliveryRow(d, kind, job, at, url, ref)
        for d, kind, job, at, url, ref in _listing(
            session, *conditions, before_id=before_id, limit=limit
        )
    ]


def deliveries_of(
    session: Session, *, subscription_id: int, before_id: int | None = None, limit: int = 50
) -> list[DeliveryRow]:
    """One subscription's deliveries, newest first."""
    return [
        DeliveryRow(d, kind, job, at, url, ref)
        for d, kind, job, at, url, ref in _listing(
            session,
            col(WebhookDelivery.subscription_id) == subscription_id,
            before_id=before_id,
            limit=limit,
        )
    ]


def resend(session: Session, *, delivery_id: int, now: datetime) -> bool:
    """Queue a dead (or delivered) delivery again, as if new: attempts from zero. False
    when there is no such delivery, it is already queued, or its subscription was removed."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.status in _IN_LINE:
        return False
    sub = session.get(WebhookSubscription, row.subscription_id)
    if sub is None or not sub.active:
        return False
    row.status = PENDING
    row.attempts = 0
    row.not_before = min(row.not_before, now)  # due at once
    row.created_at = now
    row.claimed_at = row.claimed_by = None
    row.delivered_at = None
    session.add(row)
    return True


def delivery(session: Session, *, delivery_id: int) -> WebhookDelivery | None:
    return session.get(WebhookDelivery, delivery_id)


def counts(session: Session, *, subscription_id: int) -> dict[str, int]:
    """How many of a subscription's deliveries are in each status."""
    rows = session.execute(
        select(WebhookDelivery.status, func.count())
        .where(col(WebhookDelivery.subscription_id) == subscription_id)
        .group_by(col(WebhookDelivery.status))
    ).all()
    return {str(status): int(n) for status, n in rows}
