"""Finding time expressions in a message: clock, day-part and range rules, then the
combination of adjacent pieces into one expression ("next tues morning", "half 2 friday").
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from nlu.timeexpr.clocks import ANY_CLOCK, HOUR_WORDS, clock_finders, parse_clock
from nlu.timeexpr.dates import RULES, TMR, Context
from nlu.timeexpr.lexicon import PART_WORDS, TONIGHT_WORDS, alternation
from nlu.timeexpr.pieces import Clock, Piece, merge

_B = r"(?<![\w'])"
_E = r"(?![\w'])"

_NOT_A_TIME_AFTER = re.compile(
    r"\s*(?:%|/\s*\d|-\s*\d{3}|x\b|(?:days?|weeks?|wks?|months?|years?|yrs?|hours?|hrs?|mins?|"
    r"minutes?|secs?|seconds?|times|people|kids|children|dogs?|cats?|stars?|out\s+of|of\s+\d|"
    r"floors?|bed|bedroom|st\b|nd\b|rd\b|th\b|pounds|quid|[a-z]+\s+(?:street|st|road|rd|lane))\b)"
)
_NOT_A_TIME_BEFORE = re.compile(
    r"\b(?:code|number|no\.?|num|#|badge|ref|reference|id|pin|rated?|rating|score|flat|house|"
    r"unit|apt|room|floor|£|\$|gave\s+(?:it|them|him|her)|give\s+(?:it|them|him|her)|out\s+of"
    r"|is|was|are|were|it's|its|me|call|ring|phone|tel|mob|mobile|on)\s*[:#]?\s*$"
)

_TONIGHT_RE = re.compile(
    _B
    + rf"(?P<late>late\s+)?(?:{alternation(TONIGHT_WORDS)})|(?P<last>(?:late\s+)?last\s+night)"
    + _E
)
_PART_RE = re.compile(
    _B + rf"(?P<pre>(?:early\s+)?(?:in|during)\s+the\s+|(?P<this>this|today|yesterday)\s+|"
    rf"(?:(?:in\s+the\s+)?early\s+hours\s+of\s+the\s+)|at\s+)?(?P<early>early\s+)?"
    rf"(?P<p>{alternation(PART_WORDS)})(?:\s*-?ish)?" + _E
)
_BARE_MERIDIEM_RE = re.compile(_B + r"(?P<p>am|pm|a\.m\.|p\.m\.)(?!\w)")
_FIRST_THING_RE = re.compile(_B + r"first\s+thing(?:\s+(?:in\s+the\s+)?morning)?" + _E)

_RANGE_JOIN = r"\s*(?:-|–|to|till|til|until|untill|and|thru|through|but\s+before|or)\s*"
_RANGE_RE = re.compile(
    _B + rf"(?P<kw>from|between|in\s+between|later\s+than|after|any\s*time\s+between)?\s*"
    rf"(?P<a>{ANY_CLOCK})(?P<join>{_RANGE_JOIN})(?P<b>{ANY_CLOCK})" + _E
)
_OPEN_RE = re.compile(
    _B + r"(?P<kw>after|from|later\s+than|since|not\s+before|before|by|until|till|til"
    rf"|no\s+later\s+than|earlier\s+than|not\s+after)\s+(?P<c>{ANY_CLOCK})" + _E
)
#: Every clock form has a digit, an hour word or one of these; cheap to test first.
_CLOCKISH = re.compile(rf"\d|noon|midday|mid day|midnight|half|quarter|\b(?:{HOUR_WORDS})\b")
_PART_HINTS = (
    "morn",
    "after",
    "aft",
    "arvo",
    "avo",
    "eve",
    "night",
    "nite",
    "lunch",
    "dinner",
    "first thing",
    "am",
    "pm",
    "a.m",
    "p.m",
)
_PRONOUN_ONE = re.compile(r"one(?:\s*-?ish)?")
_CONNECTOR = re.compile(r"(?:\s|,|\b(?:at|on|@|for|of|the|in|around|about|from|any\s*time)\b)*")
_CLOCK_FINDERS = tuple(
    (form, re.compile(_B + rx.pattern + r"(?![\w']|[:.]\d|\s*[/-]\s*\d)"))
    for form, rx in clock_finders()
)


def _parts(text: str, ctx: Context) -> list[Piece]:
    out: list[Piece] = []
    if not any(w in text for w in _PART_HINTS):
        return out
    for m in _TONIGHT_RE.finditer(text):
        night = ctx.today - timedelta(days=1) if m.group("last") else ctx.today
        late = m.group("late") or (m.group("last") or "").startswith("late")
        out.append(Piece(m.start(), m.end(), day=night, part="late night" if late else "tonight"))
    for m in _PART_RE.finditer(text):
        key = PART_WORDS[re.sub(r"\s+", " ", m.group("p"))]
        if m.group("early") and key == "morning":
            key = "early morning"
        pre = m.group("pre") or ""
        if "early hours" in pre:
            key = "early morning"
        this = m.group("this")
        day: date | None = None
        if this in ("this", "today"):
            day = ctx.today
        elif this == "yesterday":
            day = ctx.today - timedelta(days=1)
        out.append(Piece(m.start(), m.end(), day=day, part=key, weak=key == "morning" and False))
    for m in _FIRST_THING_RE.finditer(text):
        out.append(Piece(m.start(), m.end(), part="first thing"))
    for m in _BARE_MERIDIEM_RE.finditer(text):
        out.append(Piece(m.start(), m.end(), part=m.group("p").replace(".", ""), weak=True))
    return out


def _not_a_time(text: str, start: int, end: int) -> bool:
    return bool(_NOT_A_TIME_BEFORE.search(text[:start]) or _NOT_A_TIME_AFTER.match(text[end:]))


def _clocks(text: str) -> list[Piece]:
    out: list[Piece] = []
    if not _CLOCKISH.search(text):
        return out
    for form, rx in _CLOCK_FINDERS:
        for m in rx.finditer(text):
            parsed = parse_clock(m.group(0), context=False)
            if parsed is None:
                continue
            clock, weak = parsed
            if (weak or form.weak) and _not_a_time(text, m.start(), m.end()):
                continue
            if weak and form.name == "bare" and _PRONOUN_ONE.fullmatch(m.group(0)):
                continue  # "the one on friday", "that one": a pronoun, not 1 o'clock
            out.append(Piece(m.start(), m.end(), clock=clock, weak=weak))
    return out


def _ranges(text: str, ctx: Context) -> list[Piece]:
    out: list[Piece] = []
    if not _CLOCKISH.search(text):
        return out
    for m in _RANGE_RE.finditer(text):
        kw, join = (m.group("kw") or "").strip(), m.group("join").strip()
        if join == "and" and not kw.endswith("between"):
            continue
        if join == "or":
            continue
        a = parse_clock(m.group("a"), context=True)
        b = parse_clock(m.group("b"), context=True)
        if a is None or b is None:
            continue
        bare = a[0].ambiguous and b[0].ambiguous and a[0].grain == "hour" == b[0].grain
        if bare and not kw and join in ("-", "–") and not ctx.conv.bare_dash_is_time:
            continue
        if bare and not kw and _not_a_time(text, m.start(), m.end()):
            continue
        out.append(Piece(m.start(), m.end(), clock_range=(a[0], b[0])))
    for m in _OPEN_RE.finditer(text):
        c = parse_clock(m.group("c"), context=True)
        if c is None or _NOT_A_TIME_AFTER.match(text[m.end() :]):
            continue
        kw = re.sub(r"\s+", " ", m.group("kw"))
        direction = (
            "after" if kw in ("after", "from", "later than", "since", "not before") else "before"
        )
        out.append(Piece(m.start(), m.end(), open_range=(direction, c[0])))  # type: ignore[arg-type]
    return out


#: Daily routines residents plan around: (start, end) as (hour, minute) local times.
_ROUTINES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "drop": ((8, 30), (9, 30)),  # the morning school or nursery run
    "pick": ((15, 0), (15, 30)),  # collecting the children
}
_ROUTINE_RE = re.compile(
    _B + r"(?P<kw>after|not\s+before|not\s+till|not\s+until|before|till|until|by)\s+"
    r"(?:(?:the|my|our|the\s+kids'?|the\s+morning|the\s+afternoon)\s+)*"
    r"(?:(?P<drop>(?:school|nursery)\s+run|(?:school\s+|nursery\s+)?drop\s*-?\s*offs?"
    r"|(?:i\s+)?(?:drop(?:ping)?|take|taking)\s+(?:the\s+|my\s+)?(?:kids|children|son|daughter)"
    r"(?:\s+(?:off|to\s+school|to\s+nursery))*)"
    r"|(?P<pick>(?:school\s+|nursery\s+)?pick\s*-?\s*ups?|(?:i\s+)?(?:pick(?:ing)?|collect(?:ing)?)"
    r"\s+(?:up\s+)?(?:the\s+|my\s+)?(?:kids|children|son|daughter)(?:\s+up)?))" + _E
)


def _routines(text: str) -> list[Piece]:
    """ "after the school run" (from 9:30), "before school pick up" (till 3pm)."""
    out: list[Piece] = []
    if not any(w in text for w in ("school", "nursery", "drop", "pick", "kids", "child")):
        return out
    for m in _ROUTINE_RE.finditer(text):
        start, end = _ROUTINES["drop" if m.group("drop") else "pick"]
        kw = re.sub(r"\s+", " ", m.group("kw"))
        after = kw in ("after", "not before", "not till", "not until")
        h, mi = end if after else start
        clock = Clock(hour=h, minute=mi, grain="minute", ambiguous=False)
        out.append(Piece(m.start(), m.end(), open_range=("after" if after else "before", clock)))
    return out


def _dates(text: str, ctx: Context) -> list[Piece]:
    out: list[Piece] = []
    for rule in RULES:
        if not rule.applies(text):
            continue
        for m in rule.regex.finditer(text):
            piece = rule.handle(m, ctx)
            if piece is not None:
                out.append(piece)
    return out


def _select(cands: list[Piece]) -> list[Piece]:
    """Keep the longest non-overlapping pieces; strong beats weak at equal length."""
    chosen: list[Piece] = []
    taken: list[tuple[int, int]] = []
    order = sorted(cands, key=lambda p: (-(p.end - p.start), p.weak, p.start))
    for p in order:
        if any(p.start < e and s < p.end for s, e in taken):
            continue
        chosen.append(p)
        taken.append((p.start, p.end))
    return sorted(chosen, key=lambda p: p.start)


def _combine(text: str, pieces: list[Piece]) -> list[Piece]:
    changed = True
    while changed:
        changed = False
        for i in range(len(pieces) - 1):
            a, b = pieces[i], pieces[i + 1]
            if not _CONNECTOR.fullmatch(text[a.end : b.start]):
                continue
            merged = merge(a, b)
            if merged is not None:
                pieces = [*pieces[:i], merged, *pieces[i + 2 :]]
                changed = True
                break
    return pieces


def scan(text: str, ctx: Context) -> list[Piece]:
    """All time expressions in already-normalised `text`, combined, weak leftovers dropped."""
    cands = (
        _dates(text, ctx) + _parts(text, ctx) + _clocks(text) + _ranges(text, ctx) + _routines(text)
    )
    pieces = _combine(text, _select(cands))
    return [p for p in pieces if not p.weak]


__all__ = ["TMR", "scan"]
