"""Routes of the integration API: the events feed (issue 14).

`GET /events?after=CURSOR&limit=N&types=a,b` gives the calling landlord's events after the
cursor, oldest first, and `next`: the cursor to ask with next time (the same cursor when
nothing new has happened, so a poller can keep asking with it). Cursors are stable: an
event keeps its place for ever, and a cursor handed out stays valid. Each event is the same
JSON envelope a webhook delivery carries (bot/outbound/webhooks.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, Field

from bot.api.auth import ReadCaller, runtime_of
from bot.api.problems import Problem, field_error
from bot.api.routing import api_router
from storage.repositories import landlord_events

router = api_router()

#: The most events one page gives.
MAX_LIMIT = 500
_MAX_CURSOR = 2**63 - 1


class Event(BaseModel):
    """One thing the landlord's system must know; the body of a webhook delivery too."""

    id: int = Field(examples=[1042], description="The event's id; also its feed cursor")
    type: str = Field(examples=["appointment.booked"])
    occurred_at: str = Field(examples=["2026-11-30T09:00:00Z"])
    landlord: str = Field(examples=["demo"], description="The landlord's reference")
    job: str | None = Field(examples=["JOB-1001"], description="The landlord's job reference")
    data: dict[str, Any] = Field(default_factory=dict)


class EventPage(BaseModel):
    events: list[Event]
    next: str = Field(examples=["1042"], description="Ask with after=<next> for what follows")


def _cursor(after: str) -> int:
    if after == "":
        return 0
    if not after.isascii() or not after.isdigit() or len(after) > 19:
        raise Problem(
            422, "after: not a cursor", errors=[field_error("after", "not a cursor from us")]
        )
    value = int(after)
    if value > _MAX_CURSOR:
        raise Problem(
            422, "after: not a cursor", errors=[field_error("after", "not a cursor from us")]
        )
    return value


def _kinds(types: str) -> list[str]:
    wanted = [t.strip() for t in types.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in landlord_events.KINDS]
    if unknown:
        raise Problem(
            422,
            f"types: unknown event type {unknown[0][:40]!r}",
            errors=[field_error("types", "one of: " + ", ".join(landlord_events.KINDS))],
        )
    return wanted


@router.get(
    "/events",
    response_model=EventPage,
    tags=["events"],
    summary="The landlord's events after a cursor, oldest first",
)
def events(
    request: Request,
    who: ReadCaller,
    after: Annotated[
        str, Query(max_length=40, description="The `next` of the last page; empty: the start")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    types: Annotated[
        str, Query(max_length=1000, description="Comma-separated event types; empty: all")
    ] = "",
) -> EventPage:
    cursor = _cursor(after)
    kinds = _kinds(types)
    runtime = runtime_of(request)
    with runtime.db.session() as session:
        rows = landlord_events.page(
            session, landlord_id=who.landlord_id, after=cursor, limit=limit, kinds=kinds
        )
        page = [
            Event.model_validate(
                landlord_events.envelope(row, landlord_reference=who.landlord_reference)
            )
            for row in rows
        ]
    return EventPage(events=page, next=str(page[-1].id) if page else str(cursor))
