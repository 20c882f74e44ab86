"""Request bodies read with a bound, so no caller can make a webhook hold a body of any size.

Every way in from outside (Twilio's two webhooks, Telegram's, the simulator's JSON API)
reads its body through `read_bounded`: a declared Content-Length over the limit is refused
with 413 before a byte is read, and a body sent without one (chunked) is counted while it
streams and refused as soon as it passes the limit, so at most `limit` bytes (plus one
chunk) are ever held. `bounded_route` gives a FastAPI router the same bound for routes
whose body FastAPI itself parses (the simulator's pydantic models).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

#: Content-Length values longer than this are over any limit we set (and too long for int()).
_MAX_LENGTH_DIGITS = 18


class BodyRefused(Exception):
    """A body we will not read: 413 (too large) or 400 (a Content-Length that is no number)."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


async def read_bounded(request: Request, limit: int) -> bytes:
    """The request's body, at most `limit` bytes; raises BodyRefused past it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        declared = declared.strip()
        if not (declared.isascii() and declared.isdigit()):
            raise BodyRefused(400, "Content-Length is not a number")
        if len(declared) > _MAX_LENGTH_DIGITS or int(declared) > limit:
            raise BodyRefused(413, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyRefused(413, f"body over {limit} bytes")
    return bytes(body)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """An ASGI receive that hands over the body already read, then listens as before."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


def _detail(exc: BodyRefused) -> Response:
    return JSONResponse({"detail": exc.reason}, status_code=exc.status_code)


def bounded_route(
    limit: int, refuse: Callable[[BodyRefused], Response] = _detail
) -> type[APIRoute]:
    """An APIRoute class whose routes read at most `limit` bytes of body (413 past it,
    answered by `refuse`: JSON `{"detail": ...}` like FastAPI's own refusals unless told)."""

    class BoundedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler: Callable[[Request], Awaitable[Response]] = super().get_route_handler()

            async def bounded(request: Request) -> Response:
                try:
                    body = await read_bounded(request, limit)
                except BodyRefused as exc:
                    return refuse(exc)
                return await handler(Request(request.scope, _replaying(body, request.receive)))

            return bounded

    return BoundedRoute
