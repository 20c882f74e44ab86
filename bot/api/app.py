"""The `/api/v1` sub-application: its own OpenAPI at /api/v1/openapi.json, problem details
for every error, bodies bounded, and the routers of each subject."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.api.problems import Problem, on_http, on_problem, on_validation, problem_response
from bot.runtime import Runtime

log = logging.getLogger(__name__)

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
