"""The landlord's API keys, for administrators (issue 14, item 1): `/staff/admin/api-keys`.

The same keys as `doorstep api-keys create|list|revoke`, for the staff app's landlord (the
deployment's primary landlord). A new key is shown once, on the page that answers the form,
and never again: only its hash is stored, it is never logged or written to the audit trail,
and the page is not cached (Cache-Control: no-store). Revoking asks first. Creating and
revoking each leave an audit event naming the administrator.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

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
from storage.models import ApiKey
from storage.repositories import api_keys

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])

PATH = "/staff/admin/api-keys"
PAGE = 50
NAME_LIMIT = 100
DONE = {"revoked": "The key is revoked: calls with it are refused from now on."}


@dataclass(frozen=True, slots=True)
class KeyLine:
    id: int
    name: str
    scope: str
    shown: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _line(key: ApiKey) -> KeyLine:
    assert key.id is not None
    return KeyLine(
        id=key.id,
        name=key.name,
        scope=key.scope,
        shown=f"dsk_{key.prefix}_...",
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def _list_page(
    request: Request,
    staff: StaffServices,
    *,
    after: int,
    done: str | None = None,
    error: str | None = None,
    form: tuple[str, str] = ("", "write"),
    status_code: int = 200,
) -> Response:
    landlord_id, landlord_name = served_landlord(staff)
    with staff.runtime.db.session() as session:
        rows = api_keys.of_landlord(
            session, landlord_id=landlord_id, after_id=after, limit=PAGE + 1
        )
        lines = [_line(row) for row in rows[:PAGE]]
    return render(
        request,
        staff,
        "api_keys.html",
        {
            "title": "API keys",
            "mode": "list",
            "landlord": landlord_name,
            "lines": lines,
            "next_after": lines[-1].id if len(rows) > PAGE else None,
            "first_page": after == 0,
            "done": DONE.get(done or ""),
            "error": error,
            "form_name": form[0],
            "form_scope": form[1],
            "scopes": api_keys.SCOPES,
        },
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
async def keys_page(
    request: Request,
    after: int = Query(0, ge=0),
    done: str | None = Query(None, max_length=20),
    _: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    return await asyncio.to_thread(_list_page, request, staff, after=after, done=done)


@router.post(PATH, response_class=HTMLResponse)
async def create_key(
    request: Request,
    name: str = Form("", max_length=1024),
    scope: str = Form("write", max_length=20),
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    name = " ".join(name.split())
    error = None
    if not name or len(name) > NAME_LIMIT:
        error = f"Give the key a name of 1 to {NAME_LIMIT} characters, saying what it is for."
    elif scope not in api_keys.SCOPES:
        error = "Choose read or write."
    if error is not None:
        return await asyncio.to_thread(
            _list_page,
            request,
            staff,
            after=0,
            error=error,
            form=(name[:NAME_LIMIT], scope if scope in api_keys.SCOPES else "write"),
            status_code=400,
        )

    def write() -> tuple[KeyLine, str]:
        landlord_id, _ = served_landlord(staff)
        now = staff.now()
        with staff.runtime.db.session() as session:
            new = api_keys.create(session, landlord_id=landlord_id, name=name, scope=scope, now=now)
            record(
                session,
                user=user,
                action="api_key_created",
                subject_type="api_key",
                subject_id=new.row.id,
                now=now,
                name=name,
                scope=scope,
                prefix=new.row.prefix,
            )
            return _line(new.row), new.key

    line, key = await asyncio.to_thread(write)
    return render(
        request,
        staff,
        "api_keys.html",
        {"title": "New API key", "mode": "created", "line": line, "key": key},
    )


def _live_key(staff: StaffServices, key_id: int) -> KeyLine:
    landlord_id, _ = served_landlord(staff)
    with staff.runtime.db.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.landlord_id != landlord_id or row.revoked_at is not None:
            raise HTTPException(status_code=404, detail="There is no such live API key.")
        return _line(row)


@router.get(PATH + "/{key_id}/revoke", response_class=HTMLResponse)
async def confirm_revoke(
    request: Request,
    key_id: int,
    _: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    line = await asyncio.to_thread(_live_key, staff, key_id)
    return render(
        request,
        staff,
        "api_keys.html",
        {"title": "Revoke API key", "mode": "confirm", "line": line},
    )


@router.post(PATH + "/{key_id}/revoke")
async def revoke_key(
    key_id: int,
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    def write() -> bool:
        landlord_id, _ = served_landlord(staff)
        now = staff.now()
        with staff.runtime.db.session() as session:
            if not api_keys.revoke(session, key_id=key_id, landlord_id=landlord_id, now=now):
                return False
            record(
                session,
                user=user,
                action="api_key_revoked",
                subject_type="api_key",
                subject_id=key_id,
                now=now,
            )
            return True

    if not await asyncio.to_thread(write):
        raise HTTPException(status_code=404, detail="There is no such live API key.")
    return redirect(f"{PATH}?done=revoked")
