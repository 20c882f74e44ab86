"""Webhook subscriptions and the dead-letter list, for administrators (issue 14, item 4):
`/staff/admin/webhooks`.

The same subscriptions as `doorstep webhooks add|list|remove`, for the staff app's
landlord (the deployment's primary landlord). A new subscription's signing secret is shown
once, on the page that answers the form (never logged, never in the audit trail). Removing
asks first. The dead-letter list holds deliveries given up on (the receiver was down or
failing for too long), newest first, paged by key, each with a Resend button; resending
queues it again for the delivery worker. Every change leaves an audit event.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from bot.outbound.webhooks import SubscriptionRefused, subscribe
from bot.web.staff.audit import record
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, require_admin
from bot.web.staff.web import (
    StaffRoute,
    StaffServices,
    redirect,
    render,
    served_landlord,
    services,
)
from storage.models import WebhookSubscription
from storage.repositories import landlord_events
from storage.repositories import webhooks as webhook_rows

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])

PATH = "/staff/admin/webhooks"
PAGE = 50
DONE = {
    "removed": "The webhook is removed: nothing more is sent to it.",
    "resent": "The delivery is queued again: it goes out within a minute.",
}


@dataclass(frozen=True, slots=True)
class SubscriptionLine:
    id: int
    url: str
    events: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeadLine:
    id: int
    event_id: int
    kind: str
    job: str
    occurred_at: datetime
    url: str
    attempts: int
    error: str


def _line(row: WebhookSubscription) -> SubscriptionLine:
    assert row.id is not None
    return SubscriptionLine(
        id=row.id,
        url=row.url,
        events=", ".join(row.events) or "every event",
        created_at=row.created_at,
    )


def _list_page(
    request: Request,
    staff: StaffServices,
    *,
    after: int,
    before: int | None,
    done: str | None = None,
    error: str | None = None,
    form: tuple[str, tuple[str, ...]] = ("", ()),
    status_code: int = 200,
) -> Response:
    landlord_id, landlord_name = served_landlord(staff)
    with staff.runtime.db.session() as session:
        rows = webhook_rows.subscriptions(
            session, landlord_id=landlord_id, after_id=after, limit=PAGE + 1
        )
        lines = [_line(row) for row in rows[:PAGE]]
        dead_rows = webhook_rows.dead_letters(
            session, before_id=before, limit=PAGE + 1, landlord_id=landlord_id
        )
        dead = [
            DeadLine(
                id=d.delivery.id or 0,
                event_id=d.delivery.event_id,
                kind=d.event_kind,
                job=d.job_reference or "-",
                occurred_at=d.occurred_at,
                url=d.url,
                attempts=d.delivery.attempts,
                error=d.delivery.last_error or "",
            )
            for d in dead_rows[:PAGE]
        ]
    return render(
        request,
        staff,
        "webhooks.html",
        {
            "title": "Webhooks",
            "mode": "list",
            "landlord": landlord_name,
            "lines": lines,
            "next_after": lines[-1].id if len(rows) > PAGE else None,
            "first_page": after == 0,
            "dead": dead,
            "dead_next": dead[-1].id if len(dead_rows) > PAGE else None,
            "dead_first": before is None,
            "done": DONE.get(done or ""),
            "error": error,
            "form_url": form[0],
            "form_kinds": form[1],
            "kinds": landlord_events.KINDS,
        },
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
async def webhooks_page(
    request: Request,
    after: int = Query(0, ge=0),
    before: int | None = Query(None, ge=1),
    done: str | None = Query(None, max_length=20),
    _: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    return await asyncio.to_thread(
        _list_page, request, staff, after=after, before=before, done=done
    )


@router.post(PATH, response_class=HTMLResponse)
async def add_webhook(
    request: Request,
    url: str = Form("", max_length=4096),
    events: list[str] = Form([]),
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    kinds = tuple(k for k in events[:50] if len(k) <= 40)

    def write() -> tuple[SubscriptionLine, str]:
        landlord_id, _ = served_landlord(staff)
        now = staff.now()
        with staff.runtime.db.session() as session:
            new = subscribe(session, landlord_id=landlord_id, url=url, kinds=kinds, now=now)
            record(
                session,
                user=user,
                action="webhook_subscribed",
                subject_type="webhook_subscription",
                subject_id=new.row.id,
                now=now,
                events=",".join(new.row.events) or "all",
            )
            return _line(new.row), new.secret

    try:
        line, secret = await asyncio.to_thread(write)
    except SubscriptionRefused as exc:
        return await asyncio.to_thread(
            _list_page,
            request,
            staff,
            after=0,
            before=None,
            error=f"The webhook was not added: {exc}.",
            form=(url.strip()[:2000], tuple(k for k in kinds if k in landlord_events.KINDS)),
            status_code=400,
        )
    return render(
        request,
        staff,
        "webhooks.html",
        {"title": "New webhook", "mode": "created", "line": line, "secret": secret},
    )


def _live(staff: StaffServices, subscription_id: int) -> SubscriptionLine:
    landlord_id, _ = served_landlord(staff)
    with staff.runtime.db.session() as session:
        row = webhook_rows.subscription(session, subscription_id=subscription_id)
        if row is None or row.landlord_id != landlord_id or not row.active:
            raise HTTPException(status_code=404, detail="There is no such webhook.")
        return _line(row)


@router.get(PATH + "/{subscription_id}/remove", response_class=HTMLResponse)
async def confirm_remove(
    request: Request,
    subscription_id: int,
    _: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    line = await asyncio.to_thread(_live, staff, subscription_id)
    return render(
        request,
        staff,
        "webhooks.html",
        {"title": "Remove webhook", "mode": "confirm", "line": line},
    )


@router.post(PATH + "/{subscription_id}/remove")
async def remove_webhook(
    subscription_id: int,
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    def write() -> bool:
        _live(staff, subscription_id)
        now = staff.now()
        with staff.runtime.db.session() as session:
            if not webhook_rows.remove_subscription(
                session, subscription_id=subscription_id, now=now
            ):
                return False
            record(
                session,
                user=user,
                action="webhook_removed",
                subject_type="webhook_subscription",
                subject_id=subscription_id,
                now=now,
            )
            return True

    if not await asyncio.to_thread(write):
        raise HTTPException(status_code=404, detail="There is no such webhook.")
    return redirect(f"{PATH}?done=removed")


@router.post(PATH + "/deliveries/{delivery_id}/resend")
async def resend_delivery(
    delivery_id: int,
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    def write() -> bool:
        landlord_id, _ = served_landlord(staff)
        now = staff.now()
        with staff.runtime.db.session() as session:
            row = webhook_rows.delivery(session, delivery_id=delivery_id)
            sub = (
                webhook_rows.subscription(session, subscription_id=row.subscription_id)
                if row is not None
                else None
            )
            if row is None or sub is None or sub.landlord_id != landlord_id:
                return False
            if row.status != webhook_rows.DEAD:
                return False
            if not webhook_rows.resend(session, delivery_id=delivery_id, now=now):
                return False
            record(
                session,
                user=user,
                action="webhook_resent",
                subject_type="webhook_delivery",
                subject_id=delivery_id,
                now=now,
            )
            return True

    if not await asyncio.to_thread(write):
        raise HTTPException(status_code=404, detail="There is no such dead delivery.")
    return redirect(f"{PATH}?done=resent")
