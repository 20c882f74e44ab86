"""The one way the API's routers are made: bounded bodies, the common problems documented."""

from __future__ import annotations

from fastapi import APIRouter

from bot.api.problems import COMMON, refuse_body
from bot.common.bodies import bounded_route

#: A batch of 1,000 records fits well inside this; a 10 MB body is refused unread (413).
BODY_LIMIT = 4 * 1024 * 1024


def api_router() -> APIRouter:
    """A router whose routes read a bounded body and document the common problems."""
    return APIRouter(route_class=bounded_route(BODY_LIMIT, refuse_body), responses=COMMON)
