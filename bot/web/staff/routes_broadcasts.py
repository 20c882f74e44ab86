"""Reminders and broadcasts: pick a day (or an operative's day), preview each resident's
policy outcome, send, then watch the queued messages go out.

Sending only queues outbox rows (one per booked visit, keyed by visit and version, so a
second send adds nothing); the dispatcher delivers them. The result page therefore shows
progress as the share of those rows that have left the outbox, refreshing itself with a
meta refresh (no JavaScript) until none is waiting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.outbound.broadcasts import (
    BroadcastLine,
    BroadcastRefused,
    BroadcastSummary,
    preview_page,
    send_disruption,
    send_reminders,
)
from bot.web.staff import cursors, read_models
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, current_user, require_editor
from bot.web.staff.forms import bad, opt_date, opt_int, text
from bot.web.staff.web import StaffRoute, StaffServices, redirect, render, services
from storage.enums import OutboxStatus
from storage.models import AuditEvent, Operative
from storage.repositories.audit_log import latest_requests
from storage.repositories.broadcast_progress import status_counts
from storage.repositories.outbox_stats import statuses_of
from storage.repositories.visit_listing import BookedKey

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])

ACTION_SENT = "staff.broadcast.sent"
MAX_AHEAD = timedelta(days=60)
MAX_REASON = 200
WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
#: A broadcast's result lists its lines this many at a time (a day's reminders can be 1,000+).
LINES_PAGE = read_models.PAGE_SIZE
#: A preview judges this many visits a page (each by the real planner and policy, ~2 ms).
PREVIEW_PAGE = 50


@dataclass(frozen=True, slots=True)
class BroadcastAsk:
    """What staff asked for; the same values drive the preview and the send."""

    kind: str  # "reminders" | "disruption"
    day: date
    operative_id: int | None = None
    operative: str | None = None
    reason: str = ""

    def query(self) -> dict[str, str]:
        out = {"kind": self.kind, "day": self.day.isoformat()}
        if self.operative_id is not None:
            out["operative_id"] = str(self.operative_id)
        if self.reason:
            out["reason"] = self.reason
        return out


def _parse(
    staff: StaffServices,
    *,
    kind: str | None,
    day: str | None,
    operative_id: str | None,
    reason: str | None,
) -> BroadcastAsk:
    wanted = opt_date(day, "Day")
    if wanted is None:
        raise bad("Pick the day of the visits.")
    today = staff.today()
    if wanted < today or wanted > today + MAX_AHEAD:
        raise bad(f"Pick a day from today to {MAX_AHEAD.days} days ahead.")
    if kind == "reminders":
        return BroadcastAsk("reminders", wanted)
    if kind == "disruption":
        operative_number = opt_int(operative_id, "Operative")
        if operative_number is None:
            raise bad("Pick the operative whose visits are disrupted.")
        why = text(reason, "reason", limit=MAX_REASON, required=True)
        with staff.runtime.db.session() as session:
            operative = session.get(Operative, operative_number)
            if operative is None:
                raise bad("No such operative.")
            name = operative.name
        return BroadcastAsk("disruption", wanted, operative_number, name, why)
    raise bad("Choose reminders or a disruption notice.")


@router.get("/staff/broadcasts", response_class=HTMLResponse)
def broadcast_form(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    contractor_id = opt_int(request.query_params.get("contractor_id"), "Contractor")
    with staff.runtime.db.session() as session:
        contractors = read_models.contractor_choices(session)
        operatives = read_models.operative_choices(session, contractor_id=contractor_id)
        recent = latest_requests(session, action=ACTION_SENT, limit=10)
    return render(
        request,
        staff,
        "broadcasts.html",
        {
            "title": "Reminders and broadcasts",
            "operatives": operatives,
            "contractors": contractors,
            "contractor_id": contractor_id,
            "tomorrow": staff.today() + timedelta(days=1),
            "recent": recent,
        },
    )


@router.get("/staff/broadcasts/preview", response_class=HTMLResponse)
def broadcast_preview(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    q = request.query_params
    asked = _parse(
        staff,
        kind=q.get("kind"),
        day=q.get("day"),
        operative_id=q.get("operative_id"),
        reason=q.get("reason"),
    )
    found = cursors.decode(q.get("after"), (datetime, int))
    after = None if found is None else BookedKey(starts_at=found[0], id=found[1])
    try:
        page = preview_page(
            staff.runtime.db,
            day=asked.day,
            now=staff.now(),
            after=after,
            limit=PREVIEW_PAGE,
            operative_id=asked.operative_id if asked.kind == "disruption" else None,
            reason=asked.reason,
        )
    except BroadcastRefused as exc:
        raise bad(str(exc)) from None
    counts: dict[str, int] = {}
    for line in page.lines:
        counts[line.decision] = counts.get(line.decision, 0) + 1
    following = page.following
    return render(
        request,
        staff,
        "broadcast_preview.html",
        {
            "title": "Preview",
            "asked": asked,
            "lines": page.lines,
            "counts": counts,
            "total": page.total,
            "first_page": after is None,
            "next_page": (
                urlencode(
                    {**asked.query(), "after": cursors.encode(following.starts_at, following.id)}
                )
                if following
                else None
            ),
        },
    )


@router.post("/staff/broadcasts/send")
def broadcast_send(
    kind: str = Form(""),
    day: str = Form(""),
    operative_id: str = Form(""),
    reason: str = Form("", max_length=MAX_REASON * 4),
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    asked = _parse(staff, kind=kind, day=day, operative_id=operative_id, reason=reason)
    db, now = staff.runtime.db, staff.now()
    try:
        if asked.kind == "reminders":
            summary = send_reminders(db, day=asked.day, now=now)
        else:
            assert asked.operative_id is not None
            summary = send_disruption(
                db, operative_id=asked.operative_id, day=asked.day, now=now, reason=asked.reason
            )
    except BroadcastRefused as exc:
        raise bad(str(exc)) from None
    # The send and its record are separate transactions: if recording failed the messages
    # would still be queued once, and sending again would queue nothing new.
    with db.session() as session:
        event = AuditEvent(
            at=now,
            actor=user.email,
            action=ACTION_SENT,
            subject_type="broadcast",
            subject_id=asked.operative_id,
            detail=_detail(asked, summary, user),
        )
        session.add(event)
        session.flush()
        event_id = event.id
    return redirect(f"/staff/broadcasts/{event_id}")


def _detail(asked: BroadcastAsk, summary: BroadcastSummary, user: CurrentUser) -> dict[str, Any]:
    return {
        "role": user.role.value,
        "request": {**asked.query(), "operative": asked.operative},
        "by_decision": summary.by_decision,
        "by_reason": summary.by_reason,
        "lines": [asdict(line) for line in summary.lines],
    }


@router.get("/staff/broadcasts/{event_id}", response_class=HTMLResponse)
def broadcast_result(
    event_id: int,
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    found = cursors.decode(request.query_params.get("after"), (int,))
    start = found[0] if found else 0
    with staff.runtime.db.session() as session:
        event = session.get(AuditEvent, event_id)
        if event is None or event.action != ACTION_SENT:
            raise HTTPException(status_code=404, detail="No such broadcast.")
        recorded: list[dict[str, Any]] = event.detail.get("lines", [])
        if start > len(recorded):
            raise bad("This page link is damaged or out of date: go back to the first page.")
        lines = [BroadcastLine(**line) for line in recorded[start : start + LINES_PAGE]]
        # Progress over every queued row, counted in the database in bounded chunks; the
        # status of each row only for the lines on this page.
        counts = status_counts(
            session, ids=[line["outbox_id"] for line in recorded if line.get("outbox_id")]
        )
        ids = [line.outbox_id for line in lines if line.outbox_id is not None]
        statuses = {
            row_id: status.value for row_id, status in statuses_of(session, ids=ids).items()
        }
    waiting = sum(counts.get(status, 0) for status in WAITING)
    total = sum(counts.values())
    following = start + LINES_PAGE if start + LINES_PAGE < len(recorded) else None
    return render(
        request,
        staff,
        "broadcast_result.html",
        {
            "title": "Broadcast",
            "event": event,
            "asked": event.detail.get("request", {}),
            "lines": lines,
            "statuses": statuses,
            "queued": total,
            "waiting": waiting,
            "left": total - waiting,
            "by_decision": event.detail.get("by_decision", {}),
            "first_page": start == 0,
            "next_page": (
                urlencode({"after": cursors.encode(following)}) if following is not None else None
            ),
        },
    )
