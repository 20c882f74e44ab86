"""The staff queue (call-backs, handoffs and other follow-ups) and alerts: claim a task,
reply to the resident through their own channel, close it so automated replies resume."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from bot.web.staff import cursors, read_models
from bot.web.staff.audit import record
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, current_user, require_editor
from bot.web.staff.forms import MAX_NOTE, MAX_REPLY, bad, opt_enum, text
from bot.web.staff.web import StaffRoute, StaffServices, redirect, render, services
from flows.sms import sms_cost
from storage.enums import Channel, TaskKind, TaskStatus
from storage.models import Conversation, Resident, StaffTask
from storage.repositories import staff_tasks
from storage.repositories.outbox import enqueue
from storage.repositories.staff_tasks import TaskKey

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])

#: Like the bot's own replies: a staff answer not sendable within a day is stale.
REPLY_VALIDITY = timedelta(hours=24)
#: Each reply form carries a fresh token; it is the outbox key, so a double submit sends once.
_REPLY_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
OTHER_KINDS = tuple(k for k in TaskKind if k not in (TaskKind.ALERT, *read_models.QUEUE_KINDS))


def _task_after(request: Request) -> TaskKey | None:
    found = cursors.decode(request.query_params.get("after"), (bool, datetime, int))
    return None if found is None else TaskKey(urgent=found[0], created_at=found[1], id=found[2])


def _next_page(kept: dict[str, str], following: TaskKey | None) -> str | None:
    if following is None:
        return None
    after = cursors.encode(following.urgent, following.created_at, following.id)
    return urlencode({**kept, "after": after})


@router.get("/staff/tasks", response_class=HTMLResponse)
def task_queue(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    q = request.query_params
    kind = opt_enum(q.get("kind"), TaskKind, "Kind")
    include_closed = q.get("closed") == "yes"
    kinds = (kind,) if kind else (*read_models.QUEUE_KINDS, *OTHER_KINDS)
    after = _task_after(request)
    with staff.runtime.db.session() as session:
        rows, following = read_models.task_rows(
            session, kinds=kinds, include_closed=include_closed, after=after
        )
    kept = {"kind": kind.value} if kind else {}
    if include_closed:
        kept["closed"] = "yes"
    return render(
        request,
        staff,
        "tasks.html",
        {
            "title": "Call-backs and handoffs",
            "rows": rows,
            "kind": kind.value if kind else "",
            "kinds": [k.value for k in (*read_models.QUEUE_KINDS, *OTHER_KINDS)],
            "include_closed": include_closed,
            "alerts": False,
            "path": "/staff/tasks",
            "first_page": after is None,
            "kept": urlencode(kept),
            "next_page": _next_page(kept, following),
        },
    )


@router.get("/staff/alerts", response_class=HTMLResponse)
def alerts(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    include_closed = request.query_params.get("closed") == "yes"
    after = _task_after(request)
    with staff.runtime.db.session() as session:
        rows, following = read_models.task_rows(
            session, kinds=(TaskKind.ALERT,), include_closed=include_closed, after=after
        )
    kept = {"closed": "yes"} if include_closed else {}
    return render(
        request,
        staff,
        "tasks.html",
        {
            "title": "Alerts",
            "rows": rows,
            "kind": "alert",
            "kinds": [],
            "include_closed": include_closed,
            "alerts": True,
            "path": "/staff/alerts",
            "first_page": after is None,
            "kept": urlencode(kept),
            "next_page": _next_page(kept, following),
        },
    )


@router.get("/staff/tasks/{task_id}", response_class=HTMLResponse)
def task_detail(
    task_id: int,
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    with staff.runtime.db.session() as session:
        row = read_models.task_row(session, task_id)
        if row is None:
            raise HTTPException(status_code=404, detail="No such task.")
        transcript = read_models.task_transcript(
            session, task_id, show_needs=read_models.sees_access_needs(user.role)
        )
        target = _reply_target(session, session.get(StaffTask, task_id))
    return render(
        request,
        staff,
        "task_detail.html",
        {
            "title": f"Task {row.id}",
            "row": row,
            "transcript": transcript,
            "reply_channel": target[0].value if target else None,
            "reply_token": secrets.token_urlsafe(18),
            "max_reply": MAX_REPLY,
        },
    )


def _locked_task(session: Session, task_id: int) -> StaffTask:
    task = staff_tasks.task_for_update(session, task_id=task_id)
    if task is None:
        raise HTTPException(status_code=404, detail="No such task.")
    return task


@router.post("/staff/tasks/{task_id}/claim")
def claim(
    task_id: int,
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    now = staff.now()
    with staff.runtime.db.session() as session:
        # Guarded update: of two people claiming at once, exactly one wins.
        if not staff_tasks.claim(session, task_id=task_id, user_id=user.id):
            if session.get(StaffTask, task_id) is None:
                raise HTTPException(status_code=404, detail="No such task.")
            return redirect(f"/staff/tasks/{task_id}?done=taken")
        record(
            session,
            user=user,
            action="task.claimed",
            subject_type="staff_task",
            subject_id=task_id,
            now=now,
        )
    return redirect(f"/staff/tasks/{task_id}?done=claimed")


def _reply_target(session: Session, task: StaffTask | None) -> tuple[Channel, str] | None:
    """The conversation's own channel; without one, the resident's preferred reachable one."""
    if task is None:
        return None
    if task.conversation_id is not None:
        conversation = session.get(Conversation, task.conversation_id)
        if conversation is not None:
            return conversation.channel, conversation.address
    resident = session.get(Resident, task.resident_id) if task.resident_id else None
    if resident is None:
        return None
    options: list[tuple[Channel, str | None]] = [
        (Channel.TELEGRAM, str(resident.telegram_id) if resident.telegram_id else None),
        (Channel.SMS, resident.mobile),
    ]
    if resident.preferred_channel == Channel.SMS:
        options.reverse()
    for channel, address in options:
        if address:
            return channel, address
    return None


@router.post("/staff/tasks/{task_id}/reply")
def reply(
    task_id: int,
    message: str = Form("", max_length=MAX_REPLY * 4),
    reply_token: str = Form("", max_length=64),
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    """Queue the reply in the outbox; the dispatcher sends it and writes the transcript row."""
    body = text(message, "reply", limit=MAX_REPLY, required=True)
    if not _REPLY_TOKEN.match(reply_token):
        raise bad("This reply form is out of date; reload the page and send again.")
    now = staff.now()
    with staff.runtime.db.session() as session:
        task = _locked_task(session, task_id)
        if task.status == TaskStatus.CLOSED:
            raise HTTPException(status_code=409, detail="This task is closed; reopen it first.")
        target = _reply_target(session, task)
        if target is None:
            raise HTTPException(
                status_code=409, detail="This resident has no channel we can reply on."
            )
        channel, address = target
        outbox_id = enqueue(
            session,
            key=f"staff_reply:{task_id}:{reply_token}",
            kind="staff_reply",
            purpose="reply",
            text=body,
            not_before=now,
            now=now,
            channel=channel,
            address=address,
            resident_id=task.resident_id,
            appointment_id=task.appointment_id,
            conversation_id=task.conversation_id,
            expires_at=now + REPLY_VALIDITY,
            payload={"options": [], "photo_path": None, "staff": user.email},
        )
        if outbox_id is None:  # the same form sent twice: already queued
            return redirect(f"/staff/tasks/{task_id}?done=replied")
        if task.status == TaskStatus.OPEN:
            task.status, task.claimed_by = TaskStatus.CLAIMED, user.id
            session.add(task)
        cost = sms_cost(body) if channel == Channel.SMS else None
        record(
            session,
            user=user,
            action="task.replied",
            subject_type="staff_task",
            subject_id=task_id,
            now=now,
            outbox_id=outbox_id,
            channel=channel.value,
            segments=cost.segments if cost else None,
        )
    return redirect(f"/staff/tasks/{task_id}?done=replied")


@router.post("/staff/tasks/{task_id}/close")
def close(
    task_id: int,
    note: str = Form("", max_length=MAX_NOTE * 2),
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    """Close the task; a handed-off conversation goes back to automated replies."""
    cleaned = text(note, "note", limit=MAX_NOTE)
    now = staff.now()
    with staff.runtime.db.session() as session:
        task = _locked_task(session, task_id)
        if task.status == TaskStatus.CLOSED:
            return redirect(f"/staff/tasks/{task_id}?done=closed")
        task.status, task.closed_at = TaskStatus.CLOSED, now
        if task.claimed_by is None:
            task.claimed_by = user.id
        session.add(task)
        resumed = False
        if task.conversation_id is not None:
            resumed = _resume_if_done(session, task)
        record(
            session,
            user=user,
            action="task.closed",
            subject_type="staff_task",
            subject_id=task_id,
            now=now,
            note=cleaned,
            automated_replies_resumed=resumed,
        )
    return redirect(f"/staff/tasks/{task_id}?done=closed")


def _resume_if_done(session: Session, task: StaffTask) -> bool:
    """Unpause the conversation unless another handoff on it is still open."""
    session.flush()
    if staff_tasks.other_open_handoff(
        session, conversation_id=task.conversation_id, task_id=task.id
    ):
        return False
    conversation = session.get(Conversation, task.conversation_id)
    if conversation is None or not conversation.paused:
        return False
    conversation.paused = False
    session.add(conversation)
    return True
