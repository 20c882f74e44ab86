"""Day-level rules: "tmrw", "weds", "next tues", "Wednesday week", "the 28th", "3/12",
"3rd of December", "Christmas Eve", "in a fortnight", "this week".

Each rule is a regular expression and a function from its match to a `Piece`; `Context`
carries the message's local wall-clock time and the conventions in force.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from nlu.timeexpr.conventions import Conventions
from nlu.timeexpr.days import (
    add_months,
    coming_weekday,
    expand_year,
    holiday_date,
    monday_of,
    next_day_of_month,
    next_month_day,
    nth_weekday,
    previous_weekday,
    valid_date,
)
from nlu.timeexpr.lexicon import (
    MONTHS,
    ORDINAL_WORDS,
    TENS,
    TODAY_WORDS,
    TOMORROW_WORDS,
    UNITS,
    VAGUE,
    WEEKDAYS,
    alternation,
    number_value,
    ordinal_value,
)
from nlu.timeexpr.pieces import Fixed, Grain, Piece


@dataclass(frozen=True, slots=True)
class Context:
    """The message's local wall-clock time (naive) and the conventions to read it with."""

    now: datetime
    conv: Conventions

    @property
    def today(self) -> date:
        return self.now.date()


Handler = Callable[[re.Match[str], Context], Piece | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """A pattern, its meaning, and substrings one of which must occur for it to be tried.

    The substring test is a cheap prefilter that keeps a short SMS well under a millisecond.
    """

    name: str
    regex: re.Pattern[str]
    handle: Handler
    needs: tuple[str, ...] = ()

    def applies(self, text: str) -> bool:
        return not self.needs or any(n in text for n in self.needs)


WD = rf"(?P<wd>{alternation(WEEKDAYS)})\.?"
MON = rf"(?P<mon>{alternation(MONTHS)})\.?"
_ORD_WORDS = alternation(
    [*ORDINAL_WORDS, *(f"{t} {o}" for t in ("twenty", "thirty") for o in ("first", "second",
     "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"))]
)  # fmt: skip
ORD = rf"(?P<d>\d{{1,2}}(?:st|nd|rd|th)|{_ORD_WORDS})"
DAYNUM = rf"(?P<d>\d{{1,2}}(?:st|nd|rd|th)?(?![\d:])|{_ORD_WORDS})"
TMR = alternation(TOMORROW_WORDS)
TODAY = alternation(TODAY_WORDS)
_NUM_WORDS = alternation([*UNITS, *TENS, *(f"a {v}" for v in VAGUE), *VAGUE])
_NUM = rf"(?P<n>\d{{1,3}}|{_NUM_WORDS})"
_NUM2 = rf"(?P<n2>\d{{1,3}}|{_NUM_WORDS})"
_ON = r"(?:on\s+)?"


def _n(text: str | None) -> int | None:
    if text is None:
        return None
    t = text.strip()
    if t.startswith("a "):
        t = t[2:]
    if t in VAGUE:
        return VAGUE[t]
    return number_value(t)


def _day(m: re.Match[str], d: date | None) -> Piece | None:
    return None if d is None else Piece(m.start(), m.end(), day=d)


def _days(m: re.Match[str], a: date, b: date) -> Piece:
    return Piece(m.start(), m.end(), days=(a, b))


# ---- relative days -------------------------------------------------------------------


def _relative_word(m: re.Match[str], ctx: Context) -> Piece | None:
    w = m.group("w")
    if re.fullmatch(TMR, w):
        offset = 1
    elif re.fullmatch(TODAY, w) or w in ("at this time",):
        offset = 0
    elif w == "yesterday":
        offset = -1
    elif "after" in w:
        offset = 2
    else:
        offset = -2
    return _day(m, ctx.today + timedelta(days=offset))


def _week_from(m: re.Match[str], ctx: Context) -> Piece | None:
    """ "a week today", "a week tomorrow", "a week on friday", "tomorrow week"."""
    base = m.group("base")
    if base in TODAY_WORDS:
        d = ctx.today
    elif re.fullmatch(TMR, base):
        d = ctx.today + timedelta(days=1)
    else:
        d = coming_weekday(ctx.today, WEEKDAYS[base.rstrip(".")])
    return _day(m, d + timedelta(days=7))


def _weekday(m: re.Match[str], ctx: Context) -> Piece | None:
    wd = WEEKDAYS[m.group("wd")]
    mod = re.sub(r"\s+", " ", (m.group("mod") or "").strip())
    post = re.sub(r"\s+", " ", (m.group("post") or "").strip())
    if m.group("wd") in ("sat", "sun") and not mod and not post and _looks_like_verb(m, ctx):
        return None
    today = ctx.today
    this_monday = monday_of(today)
    if post in ("of next week", "next week") or (mod in ("next", "around next") and not post):
        d = this_monday + timedelta(days=7 + wd)
    elif post == "after next":
        d = coming_weekday(today, wd) + timedelta(days=7)
    elif post in ("of this week", "this week"):
        d = this_monday + timedelta(days=wd)
    elif post in ("from last week", "of last week", "last week") or mod == "last":
        d = (
            this_monday - timedelta(days=7) + timedelta(days=wd)
            if post
            else previous_weekday(today, wd)
        )
    elif post == "week":
        d = coming_weekday(today, wd) + timedelta(days=7)
    else:
        d = coming_weekday(today, wd)
        word = m.group("wd")
        every = word.endswith("days") or bool(_EVERY_BEFORE.search(m.string[: m.start()]))
        return Piece(m.start(), m.end(), day=d, weekday=wd, every=every)
    return _day(m, d)


#: "every monday", "any friday", "all tuesdays": that weekday in any week.
_EVERY_BEFORE = re.compile(r"\b(?:every|any|all)\s+(?:on\s+)?$")


_VERB_BEFORE = re.compile(r"(?:\b(?:i|we|he|she|they|you|just|was|had|have|has|been|the|a)\s+)$")
_VERB_AFTER = re.compile(
    r"^\s+(?:on|in|down|there|here|waiting|outside|with|at|around|is|was|cream|for|by|up)\b"
)


def _looks_like_verb(m: re.Match[str], ctx: Context) -> bool:
    """ "I sat waiting", "the sun was out": not Saturday or Sunday."""
    text = m.string
    return bool(_VERB_BEFORE.search(text[: m.start()]) or _VERB_AFTER.match(text[m.end() :]))


def _last_weeks_day(m: re.Match[str], ctx: Context) -> Piece | None:
    wd = WEEKDAYS[m.group("wd")]
    return _day(m, monday_of(ctx.today) - timedelta(days=7 - wd))


def _n_weekdays(m: re.Match[str], ctx: Context) -> Piece | None:
    n = _n(m.group("n"))
    if n is None or n < 1:
        return None
    wd = WEEKDAYS[m.group("wd")]
    if m.group("dir") in ("ago", "back"):
        return _day(m, previous_weekday(ctx.today, wd) - timedelta(days=7 * (n - 1)))
    first = coming_weekday(ctx.today + timedelta(days=1), wd)
    return _day(m, first + timedelta(days=7 * (n - 1)))


def _this_time_next_week(m: re.Match[str], ctx: Context) -> Piece | None:
    at = ctx.now.replace(second=0, microsecond=0) + timedelta(days=7)
    return Piece(m.start(), m.end(), fixed=Fixed(at, None, "minute"))


# ---- days of the month and calendar dates ----------------------------------------------


def _year(text: str | None) -> int | None:
    if not text:
        return None
    return expand_year(int(text.strip().lstrip("'")))


def _with_weekday(ctx: Context, month: int | None, day: int, year: int | None,
                  wd: int | None) -> date | None:  # fmt: skip
    """A date that may also name its weekday: the next one where both agree."""
    if month is None:
        if wd is None:
            return next_day_of_month(ctx.today, day)
        first = ctx.today.replace(day=1)
        for k in range(0, 60):
            mo = add_months(first, k)
            cand = valid_date(mo.year, mo.month, day)
            if cand is not None and cand >= ctx.today and cand.weekday() == wd:
                return cand
        return None
    found = next_month_day(ctx.today, month, day, year)
    if wd is None or year is not None or found is None or found.weekday() == wd:
        return found
    this_year = valid_date(ctx.today.year, month, day)
    if this_year is not None and this_year.weekday() == wd:
        return this_year
    for y in range(ctx.today.year + 1, ctx.today.year + 30):
        cand = valid_date(y, month, day)
        if cand is not None and cand.weekday() == wd:
            return cand
    return None


def _month_date(m: re.Match[str], ctx: Context) -> Piece | None:
    day = ordinal_value(m.group("d"))
    if day is None:
        return None
    g = m.groupdict()
    wd_text = g.get("wd") or g.get("wd2")
    wd = WEEKDAYS[wd_text] if wd_text else None
    return _day(m, _with_weekday(ctx, MONTHS[m.group("mon")], day, _year(g.get("y")), wd))


def _weekday_ordinal(m: re.Match[str], ctx: Context) -> Piece | None:
    day = ordinal_value(m.group("d"))
    if day is None:
        return None
    return _day(m, _with_weekday(ctx, None, day, None, WEEKDAYS[m.group("wd")]))


def _numeric(m: re.Match[str], ctx: Context) -> Piece | None:
    a, b, sep = int(m.group("a")), int(m.group("b")), m.group("s")
    year = _year(m.group("y"))
    if year is None:
        if sep == "." and not (len(m.group("a")) == 2 and len(m.group("b")) == 2):
            return None  # "2.30" is a time
        if sep == "." and m.group("a")[0] != "0" and m.group("b")[0] != "0":
            return None
        if sep == "-" and ctx.conv.bare_dash_is_time and a <= 12 and b <= 12:
            return None  # "10-12" is a visit window
    day, month = (a, b) if ctx.conv.day_first else (b, a)
    if year is not None:
        return _day(m, valid_date(year, month, day))
    return _day(m, next_month_day(ctx.today, month, day, None))


def _iso(m: re.Match[str], ctx: Context) -> Piece | None:
    return _day(m, valid_date(int(m.group("y")), int(m.group("mo")), int(m.group("dd"))))


def _nth_weekday_of(m: re.Match[str], ctx: Context) -> Piece | None:
    """ "first tuesday of october", "last friday in october", "the first monday of the month"."""
    pos = m.group("pos")
    n = -1 if pos == "last" else ordinal_value(pos)
    if n is None:
        return None
    wd = WEEKDAYS[m.group("wd")]
    g = m.groupdict()
    if g.get("mon"):
        month = MONTHS[g["mon"]]
        year = _year(g.get("y"))
        years = [year] if year else [ctx.today.year, ctx.today.year + 1]
        for y in years:
            d = nth_weekday(y, month, wd, n)
            if d is not None and (year or d >= ctx.today):
                return _day(m, d)
        return None
    rel = (g.get("rel") or "this").strip()
    first = add_months(
        ctx.today.replace(day=1), {"next": 1, "last": -1, "previous": -1}.get(rel, 0)
    )
    return _day(m, nth_weekday(first.year, first.month, wd, n))


def _nth_day_of(m: re.Match[str], ctx: Context) -> Piece | None:
    """ "third day of october", "last day of october 2015", "fifth last day of May"."""
    month = MONTHS[m.group("mon")]
    year = _year(m.group("y")) or ctx.today.year
    first = date(year, month, 1)
    last = add_months(first, 1) - timedelta(days=1)
    if m.group("pos") == "last" and not m.group("k"):
        d = last
    elif m.group("pos") == "last":
        k = ordinal_value(m.group("k"))
        d = last - timedelta(days=(k or 1) - 1)
    else:
        k = ordinal_value(m.group("pos"))
        d = first + timedelta(days=(k or 1) - 1)
    if not m.group("y") and d < ctx.today:
        return None
    return _day(m, d)


def _holiday(m: re.Match[str], ctx: Context) -> Piece | None:
    key = re.sub(r"\s+", " ", m.group("h")).replace("'", "").replace("xmas", "christmas")
    key = {"christmas day": "christmas", "nye": "new years eve", "new years": "new years day"}.get(
        key, key
    )
    key = re.sub(r"^new year day$", "new years day", key)
    today = ctx.today
    if m.group("y"):
        today = date(int(m.group("y")), 1, 1)
    d = holiday_date(key, today, ctx.conv.holiday_country, ctx.conv.holiday_subdiv)
    return _day(m, d)


# ---- several days -------------------------------------------------------------------


def _week(m: re.Match[str], ctx: Context) -> Piece | None:
    mod = (m.group("mod") or "this").strip()
    monday = monday_of(ctx.today)
    if mod in ("next", "coming", "following", "the following"):
        start = monday + timedelta(days=7)
    elif mod in ("last", "past", "previous"):
        start = monday - timedelta(days=7)
    else:
        start = ctx.today
    return _days(m, start, monday_of(start) + timedelta(days=ctx.conv.week_end_offset))


def _weekend(m: re.Match[str], ctx: Context) -> Piece | None:
    mod = (m.group("mod") or "this").strip()
    saturday = monday_of(ctx.today) + timedelta(days=5)
    if mod in ("next", "following"):
        saturday += timedelta(days=7)
    elif mod in ("last", "past", "this past", "previous"):
        saturday -= timedelta(days=7)
    return _weekend_piece(m, ctx, saturday)


def _weekend_piece(m: re.Match[str], ctx: Context, saturday: date) -> Piece:
    monday = saturday + timedelta(days=2)
    if ctx.conv.weekend_from_friday_evening:
        friday = datetime.combine(saturday - timedelta(days=1), datetime.min.time()).replace(
            hour=18
        )
        return Piece(
            m.start(),
            m.end(),
            fixed=Fixed(friday, datetime.combine(monday, datetime.min.time()), "hour"),
        )
    return _days(m, saturday, monday)


def _last_weekend_of(m: re.Match[str], ctx: Context) -> Piece | None:
    month = MONTHS[m.group("mon")]
    year = _year(m.group("y")) or ctx.today.year
    sat = nth_weekday(year, month, 5, -1)
    return None if sat is None else _weekend_piece(m, ctx, sat)


def _week_edge(m: re.Match[str], ctx: Context) -> Piece | None:
    """ "beginning of next week" (Mon-Wed), "end of this week" (Fri-Sun)."""
    mod = re.sub(r"\s+", " ", (m.group("mod") or "this").strip())
    monday = monday_of(ctx.today)
    if mod.endswith(("next", "coming", "following")):
        monday += timedelta(days=7)
    elif mod in ("last", "past", "previous"):
        monday -= timedelta(days=7)
    if m.group("edge") == "end":
        return _days(m, monday + timedelta(days=4), monday + timedelta(days=7))
    return _days(m, monday, monday + timedelta(days=3))


def _rest_of_week(m: re.Match[str], ctx: Context) -> Piece | None:
    monday = monday_of(ctx.today)
    start = monday if m.group(0).startswith("all") else ctx.today
    return _days(m, start, monday + timedelta(days=ctx.conv.week_end_offset))


def _span_next_last(m: re.Match[str], ctx: Context) -> Piece | None:
    """ "next 3 days", "last 2 hours", "next few days"."""
    n = _n(m.group("n"))
    if n is None or n < 1:
        return None
    unit, past = m.group("unit"), m.group("dir") in ("last", "past", "previous")
    if unit.startswith("day"):
        start = ctx.today - timedelta(days=n) if past else ctx.today + timedelta(days=1)
        return _days(m, start, start + timedelta(days=n))
    step = timedelta(hours=1) if unit.startswith(("hour", "hr")) else timedelta(minutes=1)
    grain: Grain = "hour" if unit.startswith(("hour", "hr")) else "minute"
    base = ctx.now.replace(second=0, microsecond=0)
    if grain == "hour":
        base = base.replace(minute=0)
    begin = base - step * n if past else base + step
    return Piece(m.start(), m.end(), fixed=Fixed(begin, begin + step * n, grain))


def _upcoming_days(m: re.Match[str], ctx: Context) -> Piece | None:
    n = _n(m.group("n") or m.group("n2"))
    return None if n is None else _day(m, ctx.today + timedelta(days=n))


_B = r"(?<![\w'])"
_E = r"(?![\w'])"
_DIGIT = tuple("0123456789")
_ORDINALISH = ("st", "nd", "rd", "th", "first", "second", *_DIGIT)
_NEEDS: dict[str, tuple[str, ...]] = {
    "relative_word": ("to", "tm", "2mo", "2da", "tday", "yesterday", "day", "this time"),
    "week_from": ("week",),
    "last_weeks_day": ("week",),
    "n_weekdays": ("ago", "hence", "back", "from now"),
    "offset": ("in ", "within", "ago", "hence", "back", "from ", "later"),
    "this_time_next_week": ("time next",),
    "ordinal_day": _ORDINALISH,
    "day_month": _ORDINALISH,
    "month_day": _ORDINALISH,
    "weekday_ordinal": _ORDINALISH,
    "numeric": _DIGIT,
    "numeric_spaced": _DIGIT,
    "iso": _DIGIT,
    "nth_weekday_of": (" of", " in"),
    "nth_day_of": ("day of", "day in"),
    "holiday": (
        "christmas", "xmas", "boxing", "new year", "nye", "easter", "good friday", "may day",
        "holiday", "halloween", "valentine", "bonfire", "fawkes", "thanksgiving",
        "independence", "memorial", "labor",
    ),
    "week": ("week",),
    "weekend": ("week", "wkend", "w/e"),
    "last_weekend_of": ("end",),
    "week_edge": ("week",),
    "month_edge": ("month", "early", "mid", "late", "eom", "bom", "beginning", "start", "end"),
    "rest_of_week": ("week",),
    "span_next_last": ("next", "last", "past", "previous", "coming"),
    "upcoming_days": ("upcoming",),
    "date_range": _DIGIT,
}  # fmt: skip


def _rule(name: str, pattern: str, handle: Handler) -> Rule:
    return Rule(name, re.compile(_B + pattern + _E), handle, _NEEDS.get(name, ()))


_DAY_MOD = r"(?P<mod>this\s+coming|this|next|last|coming|upcoming|around\s+next)\s+"
_WD_POST = (
    r"(?:\s+(?P<post>after\s+next|of\s+next\s+week|next\s+week|of\s+this\s+week|this\s+week"
    r"|from\s+last\s+week|of\s+last\s+week|week(?!\s*(?:end|day))))?"
)
_HOLIDAYS = (
    r"(?P<h>christmas\s+eve|xmas\s+eve|christmas\s+day|xmas\s+day|christmas|xmas|boxing\s+day"
    r"|new\s+year'?s?\s+eve|nye|new\s+year'?s?\s+day|new\s+year'?s?|good\s+friday|easter\s+monday"
    r"|easter\s+sunday|easter|early\s+may\s+bank\s+holiday|may\s+day"
    r"|spring\s+bank\s+holiday|late\s+summer\s+bank\s+holiday|summer\s+bank\s+holiday"
    r"|august\s+bank\s+holiday|bank\s+holiday\s+monday|bank\s+holiday|halloween"
    r"|valentine'?s?\s+day|bonfire\s+night|guy\s+fawkes|thanksgiving|independence\s+day"
    r"|memorial\s+day|labor\s+day)"
)
_YEAR = r"(?P<y>\d{4}|'\d{2}|\d{2}(?!\s*(?:am|pm|a\.m|p\.m|[:.h]\d|o'?clock|-)))"
_MONTH_REL_AHEAD = r"\s+(?:day\s+)?of\s+(?:the\s+)?(?:this|next|current|previous|last)\s+month"
_MONTH_REL = r"(?:\s+(?:day\s+)?of\s+(?:the\s+)?(?P<rel>this|next|current|previous|last)\s+month)"

RULES: tuple[Rule, ...] = (
    _rule(
        "relative_word",
        rf"{_ON}(?P<w>(?:the\s+)?day\s+after\s+(?:{TMR})|(?:the\s+)?day\s+before\s+yesterday"
        rf"|{TMR}|{TODAY}|yesterday|at\s+this\s+time)",
        _relative_word,
    ),
    _rule(
        "week_from",
        rf"(?:a|one)\s+week\s+(?:on\s+)?(?P<base>{TODAY}|{TMR}|{alternation(WEEKDAYS)})"
        rf"|(?P<base2>{TMR})\s+week",
        lambda m, ctx: _week_from_any(m, ctx),
    ),
    _rule("weekday", rf"{_ON}(?:{_DAY_MOD})?{WD}{_WD_POST}", _weekday),
    _rule("last_weeks_day", rf"last\s+week'?s\s+{WD}", _last_weeks_day),
    _rule(
        "n_weekdays",
        rf"{_NUM}\s+{WD}s?\s+(?P<dir>from\s+now|hence|ago|back)",
        _n_weekdays,
    ),
    _rule(
        "offset",
        rf"(?:(?:in|within)\s+(?:(?:the\s+)?next\s+)?{_NUM}?\s*(?P<unit>fortnights?|weeks?|wks?|days?"
        rf"|months?|years?|yrs?|hours?|hrs?|h|minutes?|mins?)(?:'?s?\s+time)?"
        rf"|(?:{_NUM2}|a)\s+(?P<unit2>fortnights?|weeks?|wks?|days?|months?|years?)\s+"
        rf"(?P<dir>from\s+(?:now|today)|hence|ago|back|later))",
        lambda m, ctx: _offset_any(m, ctx),
    ),
    _rule("this_time_next_week", r"(?:this|same)\s+time\s+next\s+week", _this_time_next_week),
    _rule(
        "ordinal_day",
        rf"{_ON}(?:(?:the\s+)?(?P<d>\d{{1,2}}(?:st|nd|rd|th)|{_ORD_WORDS})|the\s+(?P<d2>\d{{1,2}})"
        rf"|(?P<d3>\d{{1,2}})(?={_MONTH_REL_AHEAD})){_MONTH_REL}?",
        lambda m, ctx: _ordinal_any(m, ctx),
    ),
    _rule(
        "day_month",
        rf"{_ON}(?:{WD},?\s+)?(?:the\s+)?{DAYNUM}(?:\s+of\s+|\s*[-/]\s*|\s*)(?:the\s+month\s+of\s+)?"
        rf"{MON}(?:,?\s*|\s*[-/]\s*){_YEAR}?",
        _month_date,
    ),
    _rule(
        "month_day",
        rf"{_ON}(?:{WD},?\s+)?{MON}\s*(?:the\s+)?{DAYNUM}(?:,?\s+{_YEAR})?"
        rf"(?:,?\s+(?P<wd2>{alternation(WEEKDAYS)})\.?)?",
        _month_date,
    ),
    _rule("weekday_ordinal", rf"{_ON}{WD},?\s+(?:the\s+)?{ORD}(?!\s+of)", _weekday_ordinal),
    _rule(
        "numeric",
        r"(?:on\s+)?(?P<a>\d{1,2})\s*(?P<s>[/.-])\s*(?P<b>\d{1,2})(?:\s*(?P=s)\s*(?P<y>\d{4}|\d{2}))?"
        r"(?![\d:]|[/.-]\d)",
        _numeric,
    ),
    _rule("numeric_spaced", r"(?P<a>\d{1,2})\s(?P<b>\d{1,2})\s(?P<y>\d{4})(?P<s>)", _numeric),
    _rule("iso", r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<dd>\d{1,2})", _iso),
    _rule(
        "nth_weekday_of",
        rf"(?:the\s+)?(?P<pos>last|first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\s+{WD}\s+"
        rf"(?:of|in)\s+(?:{MON}(?:\s+{_YEAR})?|(?:the\s+)?(?P<rel>this|the|last|next|previous)?\s*month)",
        _nth_weekday_of,
    ),
    _rule(
        "nth_day_of",
        rf"(?:the\s+)?(?:(?P<k>{_ORD_WORDS}|\d{{1,2}}(?:st|nd|rd|th))\s+)?(?P<pos>last|{_ORD_WORDS})"
        rf"\s+day\s+(?:of|in)\s+{MON}(?:\s+{_YEAR})?",
        _nth_day_of,
    ),
    _rule(
        "holiday",
        rf"{_ON}(?:this\s+|next\s+|the\s+)?{_HOLIDAYS}(?:\s+(?P<y>\d{{4}}))?",
        _holiday,
    ),
    _rule(
        "week",
        r"(?:(?P<mod>this|the|current|next|coming|following|the\s+following)\s+)week"
        r"(?!\s*-?\s*end|ends|day|s?\s+(?:today|tomorrow|on))",
        _week,
    ),
    _rule(
        "weekend",
        r"(?:(?P<mod>this\s+past|this|the|next|last|past|following|coming)\s+)?"
        r"(?:week\s*-?\s*end|wkend|w/e)",
        _weekend,
    ),
    _rule(
        "last_weekend_of",
        rf"last\s+(?:week\s*-?\s*end|wkend)\s+(?:of|in)\s+{MON}(?:\s+{_YEAR})?",
        _last_weekend_of,
    ),
    _rule(
        "week_edge",
        r"(?:at\s+)?(?:the\s+)?(?P<edge>beginning|start|end)\s+of\s+(?:the\s+)?"
        r"(?P<mod>this|current|coming|next|following|around\s+next|last|past|previous)\s+week",
        _week_edge,
    ),
    _rule(
        "month_edge",
        rf"(?:at\s+)?(?:the\s+)?(?:(?P<edge>beginning|start|end|early|mid|late)(?:\s+of)?\s+"
        rf"(?:(?:the\s+|this\s+)?month|{MON})|(?P<edge2>eom|bom))",
        lambda m, ctx: _month_edge_any(m, ctx),
    ),
    _rule("rest_of_week", r"rest\s+of\s+(?:the|this)\s+week|all\s+week", _rest_of_week),
    _rule(
        "span_next_last",
        rf"(?P<dir>next|last|past|previous|coming)\s+{_NUM}\s+(?P<unit>days?|hours?|hrs?|minutes?|mins?)",
        _span_next_last,
    ),
    _rule(
        "upcoming_days",
        rf"(?:upcoming\s+{_NUM}|{_NUM2}\s+upcoming)\s+days?",
        _upcoming_days,
    ),
    _rule(
        "date_range",
        rf"(?:from\s+)?(?:the\s+)?(?:(?P<mon1>{alternation(MONTHS)})\.?\s+)?(?P<d1>\d{{1,2}}(?:st|nd|rd|th)?)"
        rf"(?:\s+(?P<mon1b>{alternation(MONTHS)}))?"
        rf"\s*(?:-|to|thru|through|till|until|til)\s*(?:the\s+)?(?:(?P<mon2a>{alternation(MONTHS)})\.?\s+)?"
        rf"(?P<d2>\d{{1,2}}(?:st|nd|rd|th)?)(?:\s+(?:of\s+)?(?P<mon2>{alternation(MONTHS)}))?",
        lambda m, ctx: _date_range_any(m, ctx),
    ),
)


def _week_from_any(m: re.Match[str], ctx: Context) -> Piece | None:
    base = m.group("base") or m.group("base2")
    if re.fullmatch(TMR, base):
        return _day(m, ctx.today + timedelta(days=8))
    if base in TODAY_WORDS:
        return _day(m, ctx.today + timedelta(days=7))
    return _week_from(m, ctx)


def _offset_any(m: re.Match[str], ctx: Context) -> Piece | None:
    unit = m.group("unit") or m.group("unit2")
    n_text = m.group("n") or m.group("n2")
    n = 1 if n_text is None else _n(n_text)
    if n is None:
        return None
    direction = (m.group("dir") or "").strip()
    sign = -1 if direction in ("ago", "back") else 1
    if unit.startswith("fortnight"):
        return _day(m, ctx.today + timedelta(days=sign * 14 * n))
    if unit.startswith(("week", "wk")):
        return _day(m, ctx.today + timedelta(days=sign * 7 * n))
    if unit.startswith("day"):
        return _day(m, ctx.today + timedelta(days=sign * n))
    if unit.startswith("month"):
        return _day(m, add_months(ctx.today, sign * n))
    if unit.startswith(("year", "yr")):
        return _day(m, add_months(ctx.today, sign * 12 * n))
    minutes = n * 60 if unit.startswith("h") else n
    at = ctx.now.replace(second=0, microsecond=0) + timedelta(minutes=sign * minutes)
    return Piece(m.start(), m.end(), fixed=Fixed(at, None, "minute"))


#: "the second one", "first option": a choice from a list, not a day of the month.
_CHOICE_AFTER = re.compile(r"\s*(?:one|1|option|choice|slot|time|window|on\s+the\s+list)\b")


def _ordinal_any(m: re.Match[str], ctx: Context) -> Piece | None:
    if not m.group("rel") and _CHOICE_AFTER.match(m.string, m.end()):
        return None
    text = m.group("d") or m.group("d2") or m.group("d3")
    d = ordinal_value(text)
    if d is None or not 1 <= d <= 31:
        return None
    rel = re.sub(r"\s+", " ", (m.group("rel") or "").strip())
    if rel:
        shift = {"next": 1, "previous": -1, "last": -1}.get(rel, 0)
        first = add_months(ctx.today.replace(day=1), shift)
        return _day(m, valid_date(first.year, first.month, d))
    return _day(m, next_day_of_month(ctx.today, d))


def _month_edge_any(m: re.Match[str], ctx: Context) -> Piece | None:
    edge = m.group("edge") or m.group("edge2")
    first = ctx.today.replace(day=1)
    if m.group("mon"):
        first = date(ctx.today.year, MONTHS[m.group("mon")], 1)
        if add_months(first, 1) <= ctx.today:
            first = date(ctx.today.year + 1, first.month, 1)
    nxt = add_months(first, 1)
    if edge in ("end", "late", "eom"):
        return _days(m, first.replace(day=21), nxt)
    if edge == "mid":
        return _days(m, first.replace(day=11), first.replace(day=21))
    return _days(m, first, first.replace(day=11))


def _date_range_any(m: re.Match[str], ctx: Context) -> Piece | None:
    mon1 = m.group("mon1") or m.group("mon1b")
    mon2 = m.group("mon2") or m.group("mon2a")
    mon = mon1 or mon2
    d1, d2 = ordinal_value(m.group("d1")), ordinal_value(m.group("d2"))
    if mon is None or d1 is None or d2 is None:
        return None
    a = next_month_day(ctx.today, MONTHS[mon1 or mon], d1, None)
    if a is None:
        return None
    month2 = MONTHS[mon2 or mon]
    b = valid_date(a.year if month2 >= a.month else a.year + 1, month2, d2)
    if b is None or b < a:
        return None
    return _days(m, a, b + timedelta(days=1))
