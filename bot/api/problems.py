"""RFC 9457 problem details: every error the API gives is `application/problem+json`
naming the field and the reason, with the status that fits (400, 401, 403, 404, 409, 413,
422), never a bare 500 page."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.common.bodies import BodyRefused

MEDIA_TYPE = "application/problem+json"
#: Problem types are relative URIs under the API; docs/integration.md lists them.
TYPE_BASE = "/api/v1/problems/"


class FieldError(BaseModel):
    """One thing wrong with one field of the request."""

    field: str = Field(examples=["mobile"])
    reason: str = Field(examples=["not a UK mobile number"])


class ProblemBody(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(examples=["/api/v1/problems/invalid-fields"])
    title: str = Field(examples=["The request has invalid fields"])
    status: int = Field(examples=[422])
    detail: str = Field(default="", examples=["mobile: not a UK mobile number"])
    errors: list[FieldError] = Field(default_factory=list)


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": ProblemBody,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}},
            "description": _TITLES.get(status, "Problem"),
        }
        for status in statuses
    }


_TITLES = {
    400: "The request could not be read",
    401: "No valid API key",
    403: "The API key may not do this",
    404: "Not found",
    405: "Method not allowed",
    409: "The request conflicts with a record",
    413: "The request body is too large",
    415: "Send JSON",
    422: "The request has invalid fields",
    500: "Something went wrong on our side",
}
_SLUGS = {
    400: "unreadable",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid-fields",
    500: "internal",
}

#: The problems any authenticated route may answer with, for `responses=` on routers.
COMMON = _responses(400, 401, 403, 404, 413, 422)
CONFLICT = _responses(409)


class Problem(Exception):
    """Raise to answer with a problem detail."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        errors: Sequence[FieldError] = (),
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or _TITLES.get(status, "Problem"))
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.title = title or _TITLES.get(status, "Problem")
        self.headers = dict(headers or {})


def field_error(field: str, reason: str) -> FieldError:
    return FieldError(field=field, reason=reason)


def problem_response(problem: Problem) -> Response:
    body = ProblemBody(
        type=TYPE_BASE + _SLUGS.get(problem.status, "problem"),
        title=problem.title,
        status=problem.status,
        detail=problem.detail,
        errors=problem.errors,
    )
    # ASCII JSON: an echoed lone surrogate can never make the answer unencodable.
    return Response(
        json.dumps(body.model_dump(), ensure_ascii=True),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


def _location(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return Problem(400, "The body is not valid JSON.")
    field_errors = [
        field_error(_location(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in errors
    ]
    detail = "; ".join(f"{e.field}: {e.reason}" for e in field_errors[:5])
    return Problem(422, detail, errors=field_errors)


async def on_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def on_validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_problem(exc))


async def on_http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return problem_response(Problem(exc.status_code, detail, headers=headers))


def refuse_body(exc: BodyRefused) -> Response:
    return problem_response(Problem(exc.status_code, exc.reason))
