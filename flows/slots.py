"""Which visit windows to offer: fit the job's trade, what is free, what the resident said
and what their needs rule out (a night worker gets no mornings).

What the resident said about times is a `Preference`: wishes that suit ("friday", "after
3", "half 2 friday", "next week") and wishes to avoid ("not mondays", "i sleep till 2",
"cant do that day now"), kept for the whole booking conversation and merged as they say
more ("after 3" then "what about thursday week" is Thursday week after 3). A window fits
when no avoided wish touches it and, if they named times that suit, it lies inside one of
them: "after 3" is not met by a 12pm-5pm window, because the operative may come at 12.
When nothing fits, the nearest windows are offered and the resident is told so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows.context import FlowInput, SlotView, StepContext
from flows.local_time import LONDON
from flows.windows import DEFAULT_WINDOWS, VisitWindow, format_day, format_visit, window_named
from nlu.timeexpr import TimeReading, TimeWish, TimeWishes, read_wishes

MAX_OFFERS = 3
DAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class Days:
    """Which days: the dates [first, end), or every such weekday (0 Monday)."""

    first: date | None = None
    end: date | None = None
    weekday: int | None = None

    def holds(self, day: date) -> bool:
        if self.weekday is not None:
            return day.weekday() == self.weekday
        assert self.first is not None and self.end is not None
        return self.first <= day < self.end

    def away(self, day: date) -> int:
        """How many days `day` is from the nearest day held."""
        if self.weekday is not None:
            gap = abs(day.weekday() - self.weekday)
            return min(gap, 7 - gap)
        assert self.first is not None and self.end is not None
        if day < self.first:
            return (self.first - day).days
        if day >= self.end:
            return (day - self.end).days + 1
        return 0

    def covers(self, other: Days) -> bool:
        if self.weekday is not None:
            return other.weekday == self.weekday or (
                other.first is not None
                and other.end is not None
                and all(
                    self.holds(other.first + timedelta(days=k))
                    for k in range((other.end - other.first).days)
                )
            )
        if other.weekday is not None:
            return False
        assert self.first and self.end and other.first and other.end
        return self.first <= other.first and other.end <= self.end

    def to_data(self) -> dict[str, Any]:
        if self.weekday is not None:
            return {"weekday": self.weekday}
        assert self.first is not None and self.end is not None
        return {"from": self.first.isoformat(), "to": self.end.isoformat()}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Days:
        if data.get("weekday") is not None:
            return cls(weekday=int(data["weekday"]))
        return cls(date.fromisoformat(str(data["from"])), date.fromisoformat(str(data["to"])))


@dataclass(frozen=True, slots=True)
class Hours:
    """A time of day: minutes after midnight [start, end); start == end is a clock time."""

    start: int
    end: int

    @property
    def at(self) -> bool:
        return self.start == self.end

    def outside(self, start: int, end: int) -> int:
        """Minutes by which a window [start, end) misses this time of day (0: it fits)."""
        if self.at:
            if start <= self.start < end:
                return 0
            return start - self.start if self.start < start else self.start - end + 1
        if start >= self.end or end <= self.start:
            return end - start + min(abs(start - self.end), abs(self.start - end))
        return max(0, self.start - start) + max(0, end - self.end)

    def overlap(self, start: int, end: int) -> int:
        if self.at:
            return 1 if start <= self.start < end else 0
        return max(0, min(end, self.end) - max(start, self.start))

    def covers(self, other: Hours) -> bool:
        return self.start <= other.start and other.end <= self.end

    def to_data(self) -> list[int]:
        return [self.start, self.end]

    @classmethod
    def from_data(cls, data: Sequence[Any]) -> Hours:
        return cls(int(data[0]), int(data[1]))


@dataclass(frozen=True, slots=True)
class Wish:
    """Some days, some time of day, or both ("friday after 2"); None means any."""

    days: Days | None = None
    hours: Hours | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.days is not None:
            data["days"] = self.days.to_data()
        if self.hours is not None:
            data["hours"] = self.hours.to_data()
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Wish:
        days = data.get("days")
        hours = data.get("hours")
        return cls(
            Days.from_data(days) if isinstance(days, Mapping) else None,
            Hours.from_data(hours) if isinstance(hours, list | tuple) else None,
        )


@dataclass(frozen=True, slots=True)
class Window:
    """A visit window in local terms, as the preference judges it."""

    day: date
    window: str
    start: int
    end: int

    @classmethod
    def of(cls, slot: SlotView, zone: ZoneInfo = LONDON) -> Window:
        start = slot.starts_at.astimezone(zone)
        end = slot.ends_at.astimezone(zone)
        end_minutes = end.hour * 60 + end.minute + (end.date() - start.date()).days * DAY_MINUTES
        return cls(slot.day, slot.window, start.hour * 60 + start.minute, end_minutes)


@dataclass(frozen=True, slots=True)
class Preference:
    """What the resident said about times, for the whole booking conversation."""

    wanted: tuple[Wish, ...] = ()
    avoided: tuple[Wish, ...] = ()
    #: Windows offered that the resident turned down ("none of them work").
    declined: tuple[tuple[date, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.wanted and not self.avoided and not self.declined

    @property
    def said_times(self) -> bool:
        return bool(self.wanted or self.avoided)

    def ruled_out(self, w: Window) -> bool:
        """Never offered: a day they cannot do, or a window they turned down."""
        if (w.day, w.window) in self.declined:
            return True
        return any(
            a.hours is None and a.days is not None and a.days.holds(w.day) for a in self.avoided
        )

    def miss(self, w: Window) -> tuple[int, int]:
        """How far a window is from what they said: (minutes of it at a time of day they
        did not ask for or cannot do, days away from a day they asked for); (0, 0) fits."""
        clash = sum(
            a.hours.overlap(w.start, w.end)
            for a in self.avoided
            if a.hours is not None and (a.days is None or a.days.holds(w.day))
        )
        if not self.wanted:
            return clash, 0
        hours, days = min(_miss(wish, w) for wish in self.wanted)
        return clash + hours, days

    def fits(self, slot: SlotView, zone: ZoneInfo = LONDON) -> bool:
        w = Window.of(slot, zone)
        return not self.ruled_out(w) and self.miss(w) == (0, 0)

    def then(self, newer: Preference) -> Preference:
        """This preference updated by what the resident said next: later words win."""
        wanted = _combine(self.wanted, newer.wanted)
        kept_avoided = tuple(
            a for a in self.avoided if not any(_covered(w, a) for w in newer.wanted)
        )
        # "friday" then "actually not friday": the wish is gone.
        wanted = tuple(w for w in wanted if not any(_covered(w, a) for a in newer.avoided))
        avoided = _unique((*kept_avoided, *newer.avoided))
        declined = tuple(dict.fromkeys((*self.declined, *newer.declined)))
        return Preference(wanted, avoided, declined)

    def to_data(self) -> dict[str, Any]:
        return {
            "wants": [w.to_data() for w in self.wanted],
            "avoids": [a.to_data() for a in self.avoided],
            "declined": [[d.isoformat(), name] for d, name in self.declined],
        }

    @classmethod
    def from_data(cls, data: object, zone: ZoneInfo = LONDON) -> Preference:
        if not isinstance(data, Mapping):
            return cls()
        if "wanted" in data or "unwanted" in data:
            return _from_spans(data, zone)
        return cls(
            tuple(Wish.from_data(w) for w in data.get("wants") or [] if isinstance(w, Mapping)),
            tuple(Wish.from_data(a) for a in data.get("avoids") or [] if isinstance(a, Mapping)),
            tuple(
                (date.fromisoformat(str(d)), str(name)) for d, name in data.get("declined") or []
            ),
        )


def _miss(wish: Wish, w: Window) -> tuple[int, int]:
    hours = 0 if wish.hours is None else wish.hours.outside(w.start, w.end)
    days = 0 if wish.days is None else wish.days.away(w.day)
    return hours, days


def _combine(older: tuple[Wish, ...], newer: tuple[Wish, ...]) -> tuple[Wish, ...]:
    """New wishes replace old ones, except where they leave a part unsaid: "after 3" then
    "thursday week" keeps the 3pm; "next week" then "mornings only" keeps next week."""
    if not newer:
        return older
    if all(n.hours is None for n in newer):
        old_hours = _unique_hours(o.hours for o in older)
        if old_hours:
            return _unique(Wish(n.days, h) for n in newer for h in old_hours)
    if all(n.days is None for n in newer):
        old_days = _unique_days(o.days for o in older)
        if old_days:
            return _unique(Wish(d, n.hours) for n in newer for d in old_days)
    return newer


def _covered(wish: Wish, by: Wish) -> bool:
    """All of `wish` lies inside `by`: a newer wish asks for what an older avoided one
    ruled out ("not mondays", then "monday the 14th"), or a newer avoided one rules out
    all of an older wish ("friday", then "not friday")."""
    if by.days is None and by.hours is None:
        return False
    if by.days is not None and (wish.days is None or not by.days.covers(wish.days)):
        return False
    return by.hours is None or (wish.hours is not None and by.hours.covers(wish.hours))


def _unique(wishes: Iterable[Wish]) -> tuple[Wish, ...]:
    return tuple(dict.fromkeys(wishes))


def _unique_hours(hours: Iterable[Hours | None]) -> list[Hours]:
    return list(dict.fromkeys(h for h in hours if h is not None))


def _unique_days(days: Iterable[Days | None]) -> list[Days]:
    return list(dict.fromkeys(d for d in days if d is not None))


def _from_spans(data: Mapping[str, Any], zone: ZoneInfo) -> Preference:
    """A preference stored before wishes were kept by parts: absolute spans."""

    def wishes(key: str) -> tuple[Wish, ...]:
        out = []
        for pair in data.get(key) or []:
            try:
                a, b = (datetime.fromisoformat(str(v)).astimezone(zone) for v in pair)
            except (TypeError, ValueError):
                continue
            whole_days = a.time() == time(0) and b.time() in (time(0), time(23, 59))
            last = b.date() if b.time() == time(0) else b.date() + timedelta(days=1)
            days = Days(a.date(), max(last, a.date() + timedelta(days=1)))
            if whole_days:
                out.append(Wish(days, None))
            else:
                end = b.hour * 60 + b.minute if b.date() == a.date() else DAY_MINUTES
                out.append(Wish(days, Hours(a.hour * 60 + a.minute, end)))
        return tuple(out)

    return Preference(wishes("wanted"), wishes("unwanted"))


# ---- reading what the resident said ----------------------------------------------------


def _days_of(reading: TimeReading, today: date) -> Days | None:
    if reading.weekday is not None and reading.every:
        return Days(weekday=reading.weekday)
    if reading.days is None:
        return None
    first, end = reading.days
    if reading.weekday is not None and first <= today:
        # "friday" said on a Friday: visits start tomorrow, so they mean next week's.
        first, end = first + timedelta(days=7), end + timedelta(days=7)
    return Days(first, end)


def _hours_of(reading: TimeReading) -> Hours | None:
    if reading.minutes is None:
        return None
    return Hours(*reading.minutes)


def _wishes(found: Sequence[TimeWish], today: date) -> tuple[Wish, ...]:
    """One message's wishes of one kind. A time of day said alone applies to the days said
    alone in the same message ("weds or thurs afternoon": both afternoons)."""
    pairs: list[Wish] = []
    days: list[Days] = []
    hours: list[Hours] = []
    for f in found:
        d, h = _days_of(f.reading, today), _hours_of(f.reading)
        if d is not None and h is not None:
            pairs.append(Wish(d, h))
        elif d is not None:
            days.append(d)
        elif h is not None:
            hours.append(h)
    if days and not hours:
        hours = _unique_hours(p.hours for p in pairs)
    elif hours and not days:
        days = _unique_days(p.days for p in pairs)
    if days and hours:
        return _unique([*pairs, *(Wish(d, h) for d in days for h in hours)])
    return _unique([*pairs, *(Wish(d, None) for d in days), *(Wish(None, h) for h in hours)])


@dataclass(frozen=True, slots=True)
class Heard:
    """What one message said about times."""

    preference: Preference
    wishes: TimeWishes

    @property
    def empty(self) -> bool:
        return self.preference.empty and self.wishes.empty


def hear(message: FlowInput, ctx: StepContext) -> Heard:
    """Read the times a message wants or rules out, against the message's own timestamp."""
    if message.is_follow_up or not message.text.strip():
        return Heard(Preference(), TimeWishes())
    said = read_wishes(message.text, now=message.at, tz=str(ctx.zone))
    today = message.at.astimezone(ctx.zone).date()
    wanted = _wishes([w for w in said.wishes if not w.avoid], today)
    avoided = _wishes([w for w in said.wishes if w.avoid], today)
    return Heard(Preference(wanted, avoided), said)


def without_times(message: FlowInput, heard: Heard) -> FlowInput:
    """The message with its time expressions blanked out, to read a choice from the rest
    ("thursday at 2" is a time, not option 2)."""
    text = message.text
    for wish in sorted(heard.wishes.wishes, key=lambda w: -w.reading.start):
        text = text[: wish.reading.start] + " " + text[wish.reading.end :]
    return replace(message, text=text) if text != message.text else message


_FILLER = re.compile(
    r"\b(?:any\s*time|anytime|any\s+day|whenever|only|please|pls|plz|thanks|thank\s+you|ta|"
    r"is|are|r|fine|good|ok|okay|best|better|works?|suits?|for\s+me|me|i|im|i'm|am|can|cant|"
    r"can't|do|not|no|but|and|n|or|so|the|a|on|at|in|from|of|prefer|preferably|ideally|would|"
    r"be|great|perfect|free|available|really|just|what|about|how|maybe|possibly|after|before|"
    r"till|until|then|that|day|days|time|times|u|you|come|they|someone|somebody|if|poss|"
    r"possible|as|well|too|also|yes|yeah|ye|yh|ideal|none|them|those|these|different|another|"
    r"other|date|school\s+run|drop\s*-?\s*off|pick\s*-?\s*up|the\s+kids|x+)\b"
)


_ANY_TIME = re.compile(
    r"\b(?:any\s*time|any\s*day|any\s+date|whenever|when\s*ever|any\s+of\s+them|"
    r"don'?t\s+mind|dont\s+mind|not\s+fussed|i'?m\s+easy|im\s+easy|flexible)\b"
)


def any_time(message: FlowInput) -> bool:
    """ "any time", "whenever", "dont mind": no time is ruled out."""
    return bool(_ANY_TIME.search(message.text.lower()))


def only_times(message: FlowInput, ctx: StepContext) -> bool:
    """The message is about times and nothing else ("any time after the school run",
    "after 3 pls, i sleep till 2"): an answer about when, not an access need."""
    heard = hear(message, ctx)
    if heard.wishes.empty and not any_time(message):
        return False
    text = without_times(message, heard).text.lower()
    rest = re.sub(r"[^a-z' ]+", " ", _FILLER.sub(" ", text))
    return not rest.split()


# ---- choosing windows -----------------------------------------------------------------


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


def offers(
    slots: Iterable[SlotView], limit: int = MAX_OFFERS, *, ranked: bool = False
) -> list[tuple[date, str]]:
    """Up to `limit` distinct windows, spread over different days where possible, soonest
    first (`ranked`: in the order given, best first)."""
    unique: list[tuple[date, str]] = []
    starts: dict[tuple[date, str], datetime] = {}
    for slot in slots:
        key = (slot.day, slot.window)
        if key not in unique:
            unique.append(key)
            starts[key] = slot.starts_at
    chosen: list[tuple[date, str]] = []
    for key in unique:  # one per day first
        if len(chosen) < limit and all(key[0] != c[0] for c in chosen):
            chosen.append(key)
    for key in unique:  # then fill up
        if len(chosen) < limit and key not in chosen:
            chosen.append(key)
    if ranked:
        return sorted(chosen, key=unique.index)
    return sorted(chosen, key=lambda k: starts[k])


@dataclass(frozen=True, slots=True)
class Choice:
    """The windows to offer. `nearest`: none fits what was said, these are the nearest that
    meet its time of day on other days. No windows but a `fallback`: no free window meets
    the time of day at all ("after 3" when visits are 8am-12pm and 12pm-5pm); the fallback
    is the nearest anyway, offered only if the resident asks for it."""

    windows: list[tuple[date, str]]
    nearest: bool = False
    fallback: list[tuple[date, str]] = field(default_factory=list)


def choose(
    slots: Sequence[SlotView],
    preference: Preference,
    zone: ZoneInfo = LONDON,
    limit: int = MAX_OFFERS,
) -> Choice:
    """The windows that fit, soonest first; or, when none do, the nearest days where the
    time of day fits; never a day they cannot do or a window they turned down."""
    allowed = [s for s in slots if not preference.ruled_out(Window.of(s, zone))]
    scored = [(preference.miss(Window.of(s, zone)), s) for s in allowed]
    fitting = [s for miss, s in scored if miss == (0, 0)]
    if fitting:
        return Choice(offers(fitting, limit))
    ranked = sorted(scored, key=lambda p: (p[0], p[1].starts_at))
    right_time = [s for (hours, _days), s in ranked if hours == 0]
    if right_time:
        return Choice(offers(right_time[: limit * 4], limit, ranked=True), nearest=True)
    nearest = [s for _miss, s in ranked]
    return Choice([], fallback=offers(nearest[: limit * 4], limit, ranked=True))


def without_day(preference: Preference, day: date) -> Preference:
    """The preference with a whole day ruled out (the day of the visit being moved)."""
    wish = Wish(Days(day, day + timedelta(days=1)), None)
    if wish in preference.avoided:
        return preference
    return replace(preference, avoided=(*preference.avoided, wish))


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
