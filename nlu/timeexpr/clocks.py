"""Clock-time surface forms: "half 2", "quarter to 3", "2.30", "14:30", "3pm", "noon".

Each form is a named regular expression with a builder. The same forms are used two ways:
searched for inside a message, and matched whole against one side of a range
("between 1 and 3"), where a bare "1" is clearly a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nlu.timeexpr.lexicon import TENS, TZ_OFFSETS, UNITS, alternation, number_value
from nlu.timeexpr.pieces import Clock, Grain, Meridiem

HOUR_WORDS = alternation([w for w, v in UNITS.items() if 1 <= v <= 12 and w not in ("a", "an")])
_SMALL = alternation([w for w, v in UNITS.items() if 1 <= v <= 9 and w not in ("a", "an")])
_TEEN = alternation([w for w, v in UNITS.items() if 10 <= v <= 19])
MINUTE_WORDS = rf"(?:(?:{alternation(TENS)})(?:[\s-]+(?:{_SMALL}))?|{_TEEN})"
MERIDIEM = r"(?:a\.\s?m\.?|p\.\s?m\.?|am\b|pm\b|a\s+m\b|p\s+m\b|a\b|p\b|in\s+the\s+(?:am|pm)\b)"
_ISH = r"(?:\s*-?ish)?"
_OCLOCK = r"(?:o'?\s?clock|oclock|o'?clck)"
ZONE = alternation(TZ_OFFSETS)
_ZONE_TAIL = rf"(?:\s*\(?(?P<zone>{ZONE})\)?(?![a-z]))?"

Builder = Callable[[Mapping[str, str | None]], Clock | None]


@dataclass(frozen=True, slots=True)
class ClockForm:
    """One way of writing a clock time; `weak` forms need context to count as times."""

    name: str
    pattern: str
    build: Builder
    weak: bool = False


def _meridiem(text: str | None) -> str | None:
    if not text:
        return None
    t = text.replace(" ", "").replace(".", "")
    if t.startswith("inthe"):
        t = t[5:]
    return "am" if t.startswith("a") else "pm"


def _hour(text: str | None) -> int | None:
    if text is None:
        return None
    return number_value(text)


def _clock(h: int | None, m: int, grain: str, mer: str | None, *, ambiguous: bool = True,
           zone: str | None = None) -> Clock | None:  # fmt: skip
    if h is None or not (0 <= h <= 24) or not (0 <= m <= 59):
        return None
    if mer is not None and not (1 <= h <= 12):
        return None
    if h == 24:
        h = 0
    amb = ambiguous and mer is None and 1 <= h <= 12
    meridiem: Meridiem | None = "am" if mer == "am" else "pm" if mer == "pm" else None
    off = TZ_OFFSETS[zone] if zone else None
    g: Grain = "minute" if grain == "minute" else "hour"
    return Clock(hour=h, minute=m, grain=g, meridiem=meridiem, ambiguous=amb, tz_offset=off)


def _colon(g: Mapping[str, str | None]) -> Clock | None:
    h, m = g["h"] or "", g["m"] or ""
    if g["sep"] == "." and len(h) == 2 and h.startswith("0") and int(m) <= 12:
        return None  # "03.12" is a date
    ambiguous = not (len(h) == 2 and h.startswith("0")) and int(h) <= 12
    return _clock(
        int(h), int(m), "minute", _meridiem(g["mer"]), ambiguous=ambiguous, zone=g["zone"]
    )


def _h_suffix(g: Mapping[str, str | None]) -> Clock | None:
    return _clock(_hour(g["h"]), 0, "minute", None, ambiguous=False, zone=g["zone"])


def _with_meridiem(g: Mapping[str, str | None]) -> Clock | None:
    return _clock(_hour(g["h"]), 0, "hour", _meridiem(g["mer"]), zone=g["zone"])


def _oclock(g: Mapping[str, str | None]) -> Clock | None:
    return _clock(_hour(g["h"]), 0, "hour", None, zone=g["zone"])


def _hhmm(g: Mapping[str, str | None]) -> Clock | None:
    digits = g["hhmm"] or ""
    h, m = int(digits[:-2]), int(digits[-2:])
    ambiguous = len(digits) == 3 or (h <= 12 and not digits.startswith("0"))
    return _clock(h, m, "minute", _meridiem(g["mer"]), ambiguous=ambiguous, zone=g["zone"])


def _words(g: Mapping[str, str | None]) -> Clock | None:
    m = number_value(g["mo"] or g["mw"] or "")
    if m is None:
        return None
    return _clock(_hour(g["h"]), m, "minute", _meridiem(g["mer"]), zone=g["zone"])


def _half(g: Mapping[str, str | None]) -> Clock | None:
    return _clock(_hour(g["h"]), 30, "minute", _meridiem(g["mer"]), zone=g["zone"])


def _relative(g: Mapping[str, str | None]) -> Clock | None:
    q = (g["q"] or "").strip()
    minutes = 15 if q.endswith("quarter") else 30 if q == "half" else number_value(q)
    if minutes is None or not (1 <= minutes <= 59):
        return None
    base = (g["base"] or "").strip()
    if base in ("noon", "midday"):
        h, mer, amb = 12, None, False
    elif base == "midnight":
        h, mer, amb = 0, None, False
    else:
        bm = re.fullmatch(rf"(\d{{1,2}}|{HOUR_WORDS})\s*(h\b)?\s*({MERIDIEM})?", base)
        if bm is None:
            return None
        h0 = _hour(bm.group(1))
        if h0 is None:
            return None
        h, mer, amb = h0, _meridiem(bm.group(3)), bm.group(2) is None and h0 <= 12
    rel = g["rel"] or ""
    bare_digits = q.isdigit() and not g["unit"] and base not in ("noon", "midday", "midnight")
    if bare_digits and rel not in ("past", "after"):
        return None  # "10 to 12" and "10 till 12" are windows, not 11:50
    if rel in ("past", "after", "from"):
        return _clock(h, minutes, "minute", mer, ambiguous=amb, zone=g["zone"])
    total = h * 60 - minutes
    if h == 0:
        total += 24 * 60
    hh, mm = divmod(total, 60)
    if mer is not None and hh == 0:
        hh = 12
    return _clock(hh, mm, "minute", mer, ambiguous=amb and hh != 0, zone=g["zone"])


def _noon(g: Mapping[str, str | None]) -> Clock | None:
    word = g["w"] or ""
    return _clock(0 if "night" in word else 12, 0, "hour", None, ambiguous=False)


def _bare(g: Mapping[str, str | None]) -> Clock | None:
    return _clock(_hour(g["h"]), 0, "hour", None, zone=g["zone"])


def _bare_pair(g: Mapping[str, str | None]) -> Clock | None:
    return _clock(_hour(g["h"]), int(g["m"] or "0"), "minute", None, zone=g["zone"])


_H = rf"(?P<h>\d{{1,2}}|{HOUR_WORDS})"
_REL_Q = rf"(?P<q>(?:a\s+)?quarter|half|\d{{1,2}}|{MINUTE_WORDS}|{_SMALL})"
_REL_BASE = (
    rf"(?P<base>noon|midday|midnight|(?:\d{{1,2}}|{HOUR_WORDS})(?:\s*h\b)?(?:\s*{MERIDIEM})?)"
)

FORMS: tuple[ClockForm, ...] = (
    ClockForm(
        "colon",
        rf"(?P<h>\d{{1,2}})(?P<sep>[:h.])(?P<m>\d{{2}})(?:\s*(?P<mer>{MERIDIEM}))?{_ISH}{_ZONE_TAIL}",
        _colon,
    ),
    ClockForm(
        "relative",
        rf"{_REL_Q}(?:\s+(?P<unit>minutes?|mins?))?\s+(?P<rel>past|after|to|till|til|before|of|from)\s+"
        rf"{_REL_BASE}{_ZONE_TAIL}",
        _relative,
    ),
    ClockForm(
        "half", rf"half\s+(?:past\s+)?{_H}(?:\s*(?P<mer>{MERIDIEM}))?{_ISH}{_ZONE_TAIL}", _half
    ),
    ClockForm(
        "words",
        rf"(?P<h>{HOUR_WORDS})[\s-]+(?:(?:oh|o|ou|zero)[\s-]+(?P<mo>{_SMALL})|(?P<mw>{MINUTE_WORDS}))"
        rf"(?:\s*(?P<mer>{MERIDIEM}))?{_ZONE_TAIL}",
        _words,
    ),
    ClockForm(
        "meridiem",
        rf"{_H}(?:\s*{_OCLOCK})?{_ISH}\s*(?P<mer>{MERIDIEM}){_ISH}{_ZONE_TAIL}",
        _with_meridiem,
    ),
    ClockForm("oclock", rf"{_H}\s*{_OCLOCK}{_ISH}{_ZONE_TAIL}", _oclock),
    ClockForm("hsuffix", rf"(?P<h>\d{{1,2}})h(?![a-z]){_ZONE_TAIL}", _h_suffix),
    ClockForm("noon", r"(?:the\s+)?(?:12\s*)?(?P<w>noon|midday|mid\s+day|midnight)", _noon),
    ClockForm(
        "hhmm",
        rf"(?P<hhmm>\d{{3,4}})(?:\s*(?P<mer>{MERIDIEM}))?{_ISH}{_ZONE_TAIL}",
        _hhmm,
        weak=True,
    ),
    ClockForm("pair", rf"(?P<h>\d{{1,2}})\s(?P<m>\d{{2}}){_ZONE_TAIL}", _bare_pair, weak=True),
    ClockForm("bare", rf"{_H}{_ISH}{_ZONE_TAIL}", _bare, weak=True),
)

_PREFIX = r"(?:(?:at|@|around|about|approximately|approx|for|for\s+a|roughly)\s*)+"
_COMPILED = tuple(
    (form, re.compile(rf"(?P<pre>{_PREFIX})?{form.pattern}(?:\s+approximately)?")) for form in FORMS
)


def strip_names(pattern: str) -> str:
    """The same pattern without named groups, to embed several in one expression."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


#: Any clock form, for embedding in range patterns ("from X to Y").
ANY_CLOCK = "(?:" + "|".join(strip_names(f.pattern) for f in FORMS) + ")"


def parse_clock(text: str, *, context: bool) -> tuple[Clock, bool] | None:
    """Read `text` whole as a clock time; returns the clock and whether it stood alone weakly.

    `context` says the surrounding words already make it a time (a range side, "at 3").
    """
    t = text.strip()
    for form, rx in _COMPILED:
        m = rx.fullmatch(t)
        if m is None:
            continue
        g = m.groupdict()
        if (
            form.name == "hhmm"
            and not g.get("mer")
            and len(g["hhmm"] or "") == 3
            and not (context or g.get("pre"))
        ):
            continue
        clock = form.build(g)
        if clock is None:
            continue
        weak = form.weak and not g.get("pre") and not g.get("mer") and not context
        return clock, weak
    return None


def clock_finders() -> tuple[tuple[ClockForm, re.Pattern[str]], ...]:
    """Compiled forms, with an optional "at"/"around" prefix, for searching messages."""
    return _COMPILED
