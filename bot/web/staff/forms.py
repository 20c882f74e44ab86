"""Reading filter and form values: blank means "any", anything unreadable is a clear 400.

Filter forms submit every field, so `?rating=&flagged=` is normal and must not fail the
way FastAPI's typed query parameters would.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TypeVar

from fastapi import HTTPException

E = TypeVar("E", bound=StrEnum)

MAX_NOTE = 2000
MAX_REPLY = 1000


def bad(message: str) -> HTTPException:
    return HTTPException(status_code=400, detail=message)


def opt_int(value: str | None, name: str, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise bad(f"{name} must be a whole number.") from None
    if not low <= number <= high:
        raise bad(f"{name} must be between {low} and {high}.")
    return number


def opt_date(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise bad(f"{name} must be a date like 2026-12-01.") from None


def opt_bool(value: str | None, name: str) -> bool | None:
    if value is None or not value.strip() or value == "any":
        return None
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise bad(f"{name} must be yes, no or any.")


def opt_enum(value: str | None, enum: type[E], name: str) -> E | None:
    if value is None or not value.strip() or value == "any":
        return None
    try:
        return enum(value.strip())
    except ValueError:
        raise bad(f"{name} must be one of: {', '.join(m.value for m in enum)}.") from None


def text(value: str | None, name: str, *, limit: int, required: bool = False) -> str:
    cleaned = (value or "").replace("\r\n", "\n").strip()
    if required and not cleaned:
        raise bad(f"Please write the {name}.")
    if len(cleaned) > limit:
        raise bad(f"The {name} is too long ({len(cleaned)} characters; at most {limit}).")
    return cleaned
