"""Page cursors for the staff lists: where the last page ended, as one opaque URL value.

The lists page by key (`WHERE (at, id) < (:at, :id) ORDER BY at DESC, id DESC LIMIT n+1`),
never by OFFSET, so page 1,000 costs what page 1 does. The key of the last row shown goes
into the "next page" link as URL-safe base64 of a small JSON list; reading it back checks
every part's type (a time with its zone, a date, a whole number, yes/no, a short text),
and anything else (edited, truncated, from another list) is a polite 400 rather than a
wrong page or a 500.
The cursor carries only the sort key: the filters travel beside it in the same link.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Any

from fastapi import HTTPException

from bot.web.staff.forms import bad

#: A cursor longer than this is not one of ours.
MAX_CURSOR = 600
#: A text part (a name) at most this long.
MAX_TEXT = 300
Part = datetime | date | int | bool | str


def encode(*parts: Part) -> str:
    """The cursor for a page that starts after a row with this sort key."""
    plain: list[str | int | bool] = []
    for part in parts:
        if isinstance(part, datetime):
            if part.tzinfo is None:
                raise ValueError("a cursor time must carry its zone")
            plain.append(part.isoformat())
        elif isinstance(part, date):
            plain.append(part.isoformat())
        else:
            plain.append(part)
    raw = json.dumps(plain, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(token: str | None, shape: tuple[type[Part], ...]) -> tuple[Any, ...] | None:
    """The sort key in `token` (None for the first page), each part of the type in `shape`;
    a 400 for anything that is not a cursor of this shape."""
    if token is None or not token.strip():
        return None
    if len(token) > MAX_CURSOR:
        raise _damaged()
    try:
        raw = base64.urlsafe_b64decode(token.strip() + "=" * (-len(token.strip()) % 4))
        plain = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        raise _damaged() from None
    if not isinstance(plain, list) or len(plain) != len(shape):
        raise _damaged()
    return tuple(_part(value, kind) for value, kind in zip(plain, shape, strict=True))


def _part(value: object, kind: type[Part]) -> Part:
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is str:
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
            return value
    elif kind is datetime:
        if isinstance(value, str) and len(value) <= 40:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise _damaged() from None
            if moment.tzinfo is not None:
                return moment
    elif kind is date and isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _damaged() from None
    raise _damaged()


def _damaged() -> HTTPException:
    return bad("This page link is damaged or out of date: go back to the first page of the list.")
