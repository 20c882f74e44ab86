"""What every staff page shares: the per-app services, rendering, errors and time formats.

Error pages are rendered by `StaffRoute` (a route class for the staff routers) rather than
by app-wide exception handlers, so the staff pages own their look without touching the
rest of the app and JSON APIs elsewhere keep their JSON errors.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from bot.runtime import TEMPLATES_DIR, Runtime
from bot.web.staff.auth import COOKIE_NAME, COOKIE_PATH, SESSION_LIFETIME
from storage.repositories.people import primary_landlord

log = logging.getLogger(__name__)


class LoginRequired(Exception):
    """Raised by the session dependency; the route class turns it into a redirect."""


class EnrolmentRequired(Exception):
    """An administrator without two-factor sign-in: sent to set it up before anything else."""


ENROL_PATH = "/staff/2fa"


@dataclass(frozen=True, slots=True)
class StaffServices:
    """Built once per app (not per module: two apps in one process keep their secrets apart)."""

    runtime: Runtime
    #: Key of the CSRF tokens (an HMAC of the session cookie's token).
    csrf_key: bytes
    templates: Jinja2Templates
    secure_cookies: bool

    @property
    def zone(self) -> ZoneInfo:
        return self.runtime.settings.zone

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()


def served_landlord(
    staff: StaffServices, *, missing: str = "There is no landlord set up yet."
) -> tuple[int, str]:
    """The landlord the staff app serves (the primary one): its id and name; 409 when the
    database has no landlord yet."""
    with staff.runtime.db.session() as session:
        landlord = primary_landlord(session)
        if landlord is None or landlord.id is None:
            raise HTTPException(status_code=409, detail=missing)
        return landlord.id, landlord.name


async def services(request: Request) -> StaffServices:
    """The app's staff services, made on first use.

    Async on purpose: it runs on the event loop thread, so two first requests cannot race.
    """
    found = getattr(request.app.state, "staff_services", None)
    if isinstance(found, StaffServices):
        return found
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    # Simulator mode may run without a configured key; with a per-process one, forms
    # shown before a restart must be reloaded. Production settings require a key.
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    built = StaffServices(
        runtime=runtime,
        csrf_key=(secret or secrets.token_hex(32)).encode("utf-8"),
        templates=_templates(settings.zone),
        secure_cookies=settings.public_base_url.startswith("https://"),
    )
    request.app.state.staff_services = built
    return built


def _templates(zone: ZoneInfo) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.autoescape = True  # every template, whatever its name: resident text is untrusted

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone(zone)
        return f"{local:%a} {local.day} {local:%b %Y %H:%M}"

    def day(value: date | None) -> str:
        return "" if value is None else f"{value:%a} {value.day} {value:%b %Y}"

    def yes_no(value: bool | None) -> str:
        return {True: "yes", False: "no", None: "-"}[value]

    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["yes_no"] = yes_no
    return templates


def set_session_cookie(response: Response, staff: StaffServices, token: str) -> None:
    """The cookie holds the session's random token and nothing else."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=staff.secure_cookies,
    )


def clear_session_cookie(response: Response, staff: StaffServices) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=staff.secure_cookies,
    )


def render(
    request: Request,
    staff: StaffServices,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    page = {"request": request, **context}
    page.setdefault("user", getattr(request.state, "staff_user", None))
    response = staff.templates.TemplateResponse(
        request, f"staff/{name}", page, status_code=status_code
    )
    _no_store(response)
    return response


def _no_store(response: Response) -> None:
    # Staff pages hold personal data: never cache them on a shared computer or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def redirect(url: str) -> RedirectResponse:
    """After a POST, always redirect (303) so reloading the page does not repeat the action."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only paths inside the staff app: no open redirect to another site."""
    if target and target.startswith("/staff") and not target.startswith("//"):
        return target
    return "/staff"


class StaffRoute(APIRoute):
    """Renders errors from staff routes (and their dependencies) as plain HTML pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                wanted = request.url.path
                if request.method == "GET" and request.url.query:
                    wanted += "?" + request.url.query
                return redirect(f"/staff/login?next={quote(wanted, safe='')}")
            except EnrolmentRequired:
                return redirect(ENROL_PATH)
            except RequestValidationError as exc:
                fields = sorted({str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()})
                return await _error(request, 400, f"Please check: {', '.join(fields)}.")
            except HTTPException as exc:
                return await _error(request, exc.status_code, str(exc.detail), exc.headers)

        return handle


async def _error(
    request: Request, status_code: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    staff = await services(request)
    response = render(
        request,
        staff,
        "error.html",
        {"status_code": status_code, "message": message, "title": "Sorry"},
        status_code=status_code,
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
