"""Which visit windows to offer: fit the job's trade, what is free, what the resident said
and what their needs rule out (a night worker gets no mornings)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from flows.context import FlowInput, SlotView, StepContext
from flows.windows import DEFAULT_WINDOWS, VisitWindow, format_day, format_visit, window_named

MAX_OFFERS = 3
_NEGATION = re.compile(r"(can'?t|cannot|can not|not|no|except|apart from|busy|out)\W+(\w+\W+)?$")


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True, slots=True)
class Preference:
    """What the resident said about times: spans that suit, spans that do not."""

    wanted: tuple[Span, ...] = ()
    unwanted: tuple[Span, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.wanted and not self.unwanted

    def accepts(self, slot: SlotView) -> bool:
        if any(s.overlaps(slot.starts_at, slot.ends_at) for s in self.unwanted):
            return False
        if not self.wanted:
            return True
        return any(_fits(s, slot) for s in self.wanted)

    def to_data(self) -> dict[str, list[list[str]]]:
        return {
            "wanted": [[s.start.isoformat(), s.end.isoformat()] for s in self.wanted],
            "unwanted": [[s.start.isoformat(), s.end.isoformat()] for s in self.unwanted],
        }

    @classmethod
    def from_data(cls, data: object) -> Preference:
        if not isinstance(data, dict):
            return cls()

        def spans(key: str) -> tuple[Span, ...]:
            return tuple(
                Span(datetime.fromisoformat(a), datetime.fromisoformat(b))
                for a, b in data.get(key, [])
            )

        return cls(spans("wanted"), spans("unwanted"))


def _fits(span: Span, slot: SlotView) -> bool:
    """A slot fits a span when a real part of the window (an hour or more) is inside it."""
    start = max(span.start, slot.starts_at)
    end = min(span.end, slot.ends_at)
    return (end - start).total_seconds() >= 3600 or (
        (span.end - span.start).total_seconds() < 3600
        and span.overlaps(slot.starts_at, slot.ends_at)
    )


def preference_from(message: FlowInput) -> Preference:
    """Read time entities, treating "can't do weds" as a span that does not suit."""
    wanted: list[Span] = []
    unwanted: list[Span] = []
    text = message.text.lower()
    for entity in message.parse.entities:
        if entity.entity != "time" or not isinstance(entity.value, dict):
            continue
        span = _span(entity.value)
        if span is None:
            continue
        before = text[max(0, entity.start - 20) : entity.start]
        (unwanted if _NEGATION.search(before) else wanted).append(span)
    return Preference(tuple(wanted), tuple(unwanted))


def _span(value: dict[str, str]) -> Span | None:
    try:
        if "from" in value or "to" in value:
            start = datetime.fromisoformat(value["from"]) if value.get("from") else None
            end = datetime.fromisoformat(value["to"]) if value.get("to") else None
            if start is None and end is not None:
                start = end.replace(hour=0, minute=0)
            if start is not None and end is None:
                end = start.replace(hour=23, minute=59)
            if start is None or end is None:
                return None
            return Span(start, end)
        moment = datetime.fromisoformat(value["value"])
    except (KeyError, ValueError):
        return None
    grain = value.get("grain", "hour")
    if grain == "day":
        return Span(moment, moment.replace(hour=23, minute=59))
    # "at 2pm" or "half 2": a window that includes that time suits.
    return Span(moment, moment.replace(minute=59) if moment.minute < 59 else moment)


def no_mornings(ctx: StepContext) -> bool:
    """Residents who sleep in the day (night workers) are never offered mornings."""
    resident = ctx.resident
    return resident is not None and any(n.category == "sleep_hours" for n in resident.access_needs)


def candidate_slots(ctx: StepContext, *, trade: str) -> list[SlotView]:
    """Free windows from tomorrow for operatives who do this trade, soonest first."""
    skip_mornings = no_mornings(ctx)
    result = []
    for slot in ctx.slots:
        if slot.day <= ctx.today or slot.free <= 0:
            continue
        if trade not in slot.trades:
            continue
        if skip_mornings and _window_start(slot.window, ctx.windows) < time(12):
            continue
        result.append(slot)
    return sorted(result, key=lambda s: (s.starts_at, -s.free))


def _window_start(name: str, windows: tuple[VisitWindow, ...] = DEFAULT_WINDOWS) -> time:
    try:
        return window_named(name, windows).start
    except KeyError:
        return time(12)


def offers(slots: Iterable[SlotView], limit: int = MAX_OFFERS) -> list[tuple[date, str]]:
    """Up to `limit` distinct windows, spread over different days where possible."""
    unique: list[tuple[date, str]] = []
    for slot in slots:
        key = (slot.day, slot.window)
        if key not in unique:
            unique.append(key)
    chosen: list[tuple[date, str]] = []
    for key in unique:  # one per day first
        if len(chosen) < limit and all(key[0] != c[0] for c in chosen):
            chosen.append(key)
    for key in unique:  # then fill up
        if len(chosen) < limit and key not in chosen:
            chosen.append(key)
    return sorted(chosen)


def nearest(
    slots: Sequence[SlotView], preference: Preference, limit: int = MAX_OFFERS
) -> list[tuple[date, str]]:
    """When nothing matches: the windows closest in time to what they asked for."""
    if not preference.wanted:
        return offers(slots, limit)
    target = preference.wanted[0].start

    def distance(slot: SlotView) -> float:
        return abs((slot.starts_at - target).total_seconds())

    allowed = [
        s for s in slots if not any(u.overlaps(s.starts_at, s.ends_at) for u in preference.unwanted)
    ]
    return offers(sorted(allowed, key=distance)[: limit * 4], limit)


def label(day: date, window: str, windows: tuple[VisitWindow, ...] = DEFAULT_WINDOWS) -> str:
    try:
        return format_visit(day, window_named(window, windows))
    except KeyError:
        return f"{format_day(day)}, {window}"


def free_slot(ctx: StepContext, *, day: date, window: str, trade: str) -> SlotView | None:
    for slot in candidate_slots(ctx, trade=trade):
        if slot.day == day and slot.window == window:
            return slot
    return None
