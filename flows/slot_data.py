"""Typed views of what each flow keeps in its conversation's slots.

`ConversationState.data` is stored as JSON, so it stays a plain mapping; a flow reads it
through these shapes (`BookSlots.of(state.data).job_id`), never by key. The stored key
names are the fields' names and stay valid: a conversation saved before a deploy loads
into the same shape, and a missing or empty key reads as the field's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


def _id(value: object) -> int | None:
    return int(str(value)) if value is not None else None


@dataclass(frozen=True, slots=True)
class NeedSlots:
    """An access need being recorded (the access flow, and booking's needs check)."""

    need_words: str = ""
    need_category: str = "other"
    #: The new need replaces everything on record (the resident said theirs changed).
    replacing: bool = False
    #: Ask "what has changed" rather than "anything we should know".
    changing: bool = False

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> NeedSlots:
        return cls(
            need_words=str(data.get("need_words") or ""),
            need_category=str(data.get("need_category") or "other"),
            replacing=bool(data.get("replacing")),
            changing=bool(data.get("changing")),
        )


@dataclass(frozen=True, slots=True)
class BookSlots:
    """Booking or moving a visit."""

    job_id: int | None = None
    #: The visit being moved (rebooking), if any.
    appointment_id: int | None = None
    #: The windows offered, in the order they were numbered.
    offers: tuple[tuple[date, str], ...] = ()
    offer_lead: str = ""
    #: What the resident said about times (flows.slots.Preference's JSON).
    pref: Mapping[str, Any] | None = None
    #: Moving a visit: the resident cannot do its day any more ("cant do that day now").
    other_day: bool = False
    #: No window meets the time of day they said, and they asked for the nearest anyway.
    nearest_ok: bool = False

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> BookSlots:
        return cls(
            job_id=_id(data.get("job_id")),
            appointment_id=_id(data.get("appointment_id")),
            offers=tuple((date.fromisoformat(d), str(w)) for d, w in data.get("offers") or []),
            offer_lead=str(data.get("offer_lead") or ""),
            pref=data.get("pref"),
            other_day=bool(data.get("other_day")),
            nearest_ok=bool(data.get("nearest_ok")),
        )


@dataclass(frozen=True, slots=True)
class VisitSlots:
    """A flow about one of the resident's visits (calling it off)."""

    appointment_id: int | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> VisitSlots:
        return cls(appointment_id=_id(data.get("appointment_id")))


@dataclass(frozen=True, slots=True)
class FeedbackSlots:
    """Feedback on a visit: the answers so far (None: not answered yet)."""

    appointment_id: int | None = None
    rating: int | None = None
    showed_id: bool | None = None
    asked_before_facilities: bool | None = None
    left_tidy: bool | None = None
    respectful: bool | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> FeedbackSlots:
        def answer(key: str) -> bool | None:
            value = data.get(key)
            return value if isinstance(value, bool) else None

        return cls(
            appointment_id=_id(data.get("appointment_id")),
            rating=int(data["rating"]) if data.get("rating") else None,
            showed_id=answer("showed_id"),
            asked_before_facilities=answer("asked_before_facilities"),
            left_tidy=answer("left_tidy"),
            respectful=answer("respectful"),
        )

    @property
    def any_no(self) -> bool:
        """A code-of-conduct question was answered no."""
        answers = (self.showed_id, self.asked_before_facilities, self.left_tidy, self.respectful)
        return any(a is False for a in answers)


@dataclass(frozen=True, slots=True)
class ComplaintSlots:
    appointment_id: int | None = None
    #: The date promised for the answer, once the complaint is being logged.
    respond_by: date | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ComplaintSlots:
        respond_by = data.get("respond_by")
        return cls(
            appointment_id=_id(data.get("appointment_id")),
            respond_by=date.fromisoformat(str(respond_by)) if respond_by else None,
        )
