"""The `/api/v1` sub-application: its own OpenAPI at /api/v1/openapi.json, problem details
for every error, bodies bounded, and the routers of each subject."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount

from bot.api.problems import Problem, on_http, on_problem, on_validation, problem_response
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
VERSION = "1.0.0"
DESCRIPTION = """\
Doorstep's integration API for a landlord's housing management system and scheduler.

Authenticate with `Authorization: Bearer <API key>` (`doorstep api-keys create`). Every
call sees only the key's landlord. Records are upserted by the landlord's own references,
so a nightly sync can be sent again safely. Errors are RFC 9457 problem details
(`application/problem+json`). See docs/integration.md.
"""


def build_api(runtime: Runtime) -> FastAPI:
    api = FastAPI(
        title="Doorstep integration API",
        version=VERSION,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        # Paths in the schema are relative to the mount: tools reading it call the right URLs.
        servers=[{"url": PREFIX}],
        docs_url=None,
        redoc_url=None,
    )
    api.state.runtime = runtime
    api.add_exception_handler(Problem, on_problem)
    api.add_exception_handler(RequestValidationError, on_validation)
    api.add_exception_handler(StarletteHTTPException, on_http)

    @api.exception_handler(Exception)
    async def on_anything(_: Request, exc: Exception) -> Response:
        """The dispatcher boundary of the API: logged by class, answered as a problem."""
        log.error("API call failed: %s", exc.__class__.__name__, exc_info=exc)
        return problem_response(Problem(500, "The call failed; it is safe to send it again."))

    from bot.api import events, jobs, keys, records

    for module in (keys, records, jobs, events):
        api.include_router(module.router)
    return api


class _EveryPathMount(Mount):
    """A mount that takes every path under its prefix. Starlette's pattern (`.*`) stops at a
    newline, so `/api/v1/jobs/a%0Ab` fell through to the outer app's plain JSON 404 instead of
    the API's problem detail (found by the fuzzer)."""

    def __init__(self, path: str, app: FastAPI) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def api_mount(runtime: Runtime) -> Mount:
    """The API mounted at /api/v1: `app.router.routes.append(api_mount(runtime))`."""
    return _EveryPathMount(PREFIX, build_api(runtime))
