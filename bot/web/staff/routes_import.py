"""Bulk import from CSV in the staff app (issue 14, item 5): choose what the file holds,
upload it, read the dry run's report (every bad row: row, column, what is wrong), then
import with one more press, the good rows only if some are bad.

The staff app serves one landlord: the deployment's primary landlord (the first, as the
rest of the staff app and the public pages take it). Staff and administrators may import;
viewers may not. Uploads are bounded (`MAX_UPLOAD`, 413 past it, unread) and kept between
the check and the import in a private folder under a random token bound to the member of
staff: refused after an hour, deleted once imported or at the next upload after that.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.types import Message

from bot.integration.csv_import import KINDS, SPECS, ImportReport, run_import, template_csv
from bot.web.staff import audit
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, require_editor
from bot.web.staff.web import StaffRoute, StaffServices, render, served_landlord, services

#: The largest upload read (about 200,000 residents).
MAX_UPLOAD = 20 * 1024 * 1024
TOO_LARGE = (
    "The file is larger than 20 MB. Split it into smaller files (each with the header row) "
    "and import them one after another."
)
#: How long an uploaded file waits between its check and its import.
KEEP_FOR = timedelta(hours=1)
#: Problems listed on the page; the count of the rest is shown.
SHOWN_PROBLEMS = 1000
_LABELS = {
    "residents": "Residents",
    "properties": "Properties (homes)",
    "operatives": "Operatives",
    "jobs": "Repair jobs",
    "windows": "Visit windows (capacity)",
}
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class UploadTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE)


class ImportRoute(StaffRoute):
    """A staff route whose body is bounded: a declared Content-Length over `MAX_UPLOAD` is
    refused before a byte is read, and a body streamed without one is counted as it comes
    (UploadTooLarge is an HTTPException, so FastAPI's form parsing lets it through and
    StaffRoute renders it as a polite page)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            declared = (request.headers.get("content-length") or "").strip()
            if declared and (not declared.isdigit() or len(declared) > 18):
                return await _refuse(request, 400, "The upload could not be read.")
            if declared and int(declared) > MAX_UPLOAD:
                return await _refuse(request, 413, TOO_LARGE)
            return await handler(Request(request.scope, _counting(request)))

        return bounded


def _counting(request: Request) -> Callable[[], Awaitable[Message]]:
    total = 0
    receive = request.receive

    async def counted() -> Message:
        nonlocal total
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > MAX_UPLOAD:
                raise UploadTooLarge
        return message

    return counted


async def _refuse(request: Request, status_code: int, message: str) -> Response:
    staff = await services(request)
    return render(
        request,
        staff,
        "error.html",
        {"status_code": status_code, "message": message, "title": "Sorry"},
        status_code=status_code,
    )


router = APIRouter(route_class=ImportRoute, dependencies=[Depends(protect)])


# ---------------------------------------------------------------------------- stored uploads


@dataclass(frozen=True, slots=True)
class Stored:
    path: Path
    kind: str
    filename: str


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "doorstep-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)  # residents' numbers: nobody else on the server reads them
    return folder


def _name(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _forget_old(folder: Path, now: datetime) -> None:
    for meta in folder.glob("*.json"):
        try:
            created = datetime.fromisoformat(json.loads(meta.read_text())["created"])
        except (OSError, ValueError, KeyError, TypeError):
            created = None
        if created is None or now - created > KEEP_FOR:
            meta.with_suffix(".csv").unlink(missing_ok=True)
            meta.unlink(missing_ok=True)


def _store(upload: UploadFile, *, kind: str, user: CurrentUser, now: datetime) -> str:
    folder = _folder()
    _forget_old(folder, now)
    token = secrets.token_urlsafe(32)
    base = folder / _name(token)
    with base.with_suffix(".csv").open("xb") as out:
        shutil.copyfileobj(upload.file, out, length=1024 * 1024)
    meta = {
        "user": user.id,
        "kind": kind,
        "filename": Path(upload.filename or "upload.csv").name[:200],
        "created": now.isoformat(),
    }
    base.with_suffix(".json").write_text(json.dumps(meta))
    return token


def _stored(token: str, *, user: CurrentUser, now: datetime) -> Stored:
    gone = HTTPException(
        status_code=404, detail="That upload has expired or is not yours. Upload the file again."
    )
    if not token or len(token) > 64 or not set(token) <= _TOKEN_CHARS:
        raise gone
    base = _folder() / _name(token)
    try:
        meta = json.loads(base.with_suffix(".json").read_text())
    except (OSError, ValueError):
        raise gone from None
    created = datetime.fromisoformat(meta["created"])
    if meta.get("user") != user.id or now - created > KEEP_FOR or meta.get("kind") not in KINDS:
        raise gone
    path = base.with_suffix(".csv")
    if not path.is_file():
        raise gone
    return Stored(path, str(meta["kind"]), str(meta["filename"]))


def _discard(token: str) -> None:
    base = _folder() / _name(token)
    base.with_suffix(".csv").unlink(missing_ok=True)
    base.with_suffix(".json").unlink(missing_ok=True)


# ---------------------------------------------------------------------------- pages


def _landlord(staff: StaffServices) -> tuple[int, str]:
    return served_landlord(staff, missing="There is no landlord to import for yet.")


def _run(
    staff: StaffServices,
    user: CurrentUser,
    stored: Stored,
    *,
    dry_run: bool,
    skip_bad_rows: bool,
) -> ImportReport:
    landlord_id, _ = _landlord(staff)
    now = staff.now()

    def record(session: Session, report: ImportReport) -> None:
        audit.record(
            session,
            user=user,
            action="import.csv",
            subject_type="landlord",
            subject_id=landlord_id,
            now=now,
            kind=report.kind,
            file=stored.filename,
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            skipped=report.bad_rows,
        )

    with stored.path.open("rb") as source:
        return run_import(
            staff.runtime.db,
            landlord_id=landlord_id,
            kind=stored.kind,
            source=source,
            now=now,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            audit=record,
        )


def _report_page(
    request: Request,
    staff: StaffServices,
    report: ImportReport,
    stored: Stored,
    token: str | None,
) -> Response:
    return render(
        request,
        staff,
        "import_report.html",
        {
            "title": f"Import {_LABELS[report.kind].lower()}: "
            + ("check" if report.dry_run else "result"),
            "report": report,
            "label": _LABELS[report.kind],
            "filename": stored.filename,
            "token": token,
            "shown": report.problems[:SHOWN_PROBLEMS],
            "hidden": max(0, len(report.problems) - SHOWN_PROBLEMS),
        },
        status_code=200,
    )


@router.get("/staff/import", response_class=HTMLResponse)
def import_form(
    request: Request,
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    _, landlord = _landlord(staff)
    return render(
        request,
        staff,
        "import.html",
        {
            "title": "Import from CSV",
            "landlord": landlord,
            "kinds": [(kind, _LABELS[kind], SPECS[kind]) for kind in KINDS],
            "max_mb": MAX_UPLOAD // (1024 * 1024),
        },
    )


@router.get("/staff/import/templates/{kind}.csv")
def import_template(kind: str, user: CurrentUser = Depends(require_editor)) -> Response:
    if kind not in KINDS:
        raise HTTPException(status_code=404, detail="No such template.")
    return Response(
        template_csv(kind),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{kind}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/staff/import/check", response_class=HTMLResponse)
def import_check(
    request: Request,
    kind: str = Form(...),
    file: UploadFile = File(...),
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    """The dry run: everything checked (references too), nothing written."""
    if kind not in KINDS:
        raise HTTPException(status_code=400, detail="Choose what the file holds.")
    token = _store(file, kind=kind, user=user, now=staff.now())
    stored = _stored(token, user=user, now=staff.now())
    report = _run(staff, user, stored, dry_run=True, skip_bad_rows=False)
    if report.file_error is not None or report.created + report.updated == 0:
        _discard(token)  # nothing an import could write
        return _report_page(request, staff, report, stored, None)
    return _report_page(request, staff, report, stored, token)


@router.post("/staff/import/run", response_class=HTMLResponse)
def import_run(
    request: Request,
    upload: str = Form(...),
    skip_bad_rows: str = Form(""),
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    """The import itself, of the file checked a moment ago."""
    stored = _stored(upload, user=user, now=staff.now())
    report = _run(staff, user, stored, dry_run=False, skip_bad_rows=skip_bad_rows == "yes")
    if report.written:
        _discard(upload)
    return _report_page(request, staff, report, stored, None if report.written else upload)
