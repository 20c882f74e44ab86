"""Hazards in a home that a landlord must act on (Awaab's Law): recognised in any state,
answered with what happens next, raised for staff with their category, never taken as
an access need.

Recognition is by rules over word families, not one pattern per sentence. A message is
lower-cased, split into words, each word's doubled letters squeezed ("wall" reads "wal",
"moooould" reads "mould") and common misspellings corrected ("celling" and "cieling" read
"ceiling"; "condensaton", "cockroches": within one letter of a known word of six letters
or more). Rules then look for a thing and what is wrong with it within a few
words of each other ("black spots on the bedroom wall", "the front door wont lock").

- Damp and mould: mould/mold/mildew, damp, condensation, musty; black/green spots or
  patches; walls or windows wet, dripping or running.
- Leaks: a leak, drip, water or stain near a ceiling, the roof, the loft or the flat above;
  water coming in through a wall or window. Near the lights or sockets it is an emergency.
- Structural: a ceiling, roof, floor, balcony, stairs or wall collapsing, caving in or
  coming down (an emergency); cracks in walls or ceilings, a hole in the roof, plaster
  falling, a sagging ceiling, loose, rotten or crumbling stairs, banisters or balconies,
  subsidence.
- Pests: rats, mice, cockroaches, bedbugs, fleas, squirrels, wasps' nests, an infestation,
  droppings.
- Security (entry by intruders): an entry door or any window that does not lock or close,
  is smashed or kicked in, a broken lock, a break-in. Cupboard and other inside doors are
  not entry doors.

"no mould", "the damp was sorted" are not reports. A hazard is urgent when someone's health
is at risk (asthma, breathing, ill, a baby, children, pregnancy, old age), and always for
structural danger and a home that cannot be secured.

A resident who has already reported one (a job of that category still open, or an open
job whose description reads as that hazard) is told it is on record with its reference,
not raised twice; a new risk to health on a known hazard raises an urgent alert instead.
Emergency-level hazards (a ceiling coming down, water in the lights) are emergencies:
flows/safety.py answers them before this module is asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from flows.actions import Action, RaiseTask, ReportRepair
from flows.context import FlowInput, JobView, ResidentView, StepContext
from flows.engine import ConversationState, StepResult
from flows.messages import Reply
from flows.wording import hazards as words
from storage.enums import HazardCategory, JobPriority, TaskKind

# --- Reading the words -----------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "", "\u2018": "", "'": "", "`": ""})
_WORD = re.compile(r"[a-z0-9]+")
_DOUBLED = re.compile(r"(.)\1+")

#: Known words worth correcting a misspelling to (squeezed, six letters or more). A word
#: one edit away from one of these (a letter missing, added, changed or two swapped) reads
#: as it. Short words are never corrected: "mold" is a spelling, "cold" is not a typo; nor
#: are words one edit from an everyday one ("infested"/"invested", "banister"/"barrister").
_CORRECTABLE = (
    "ceiling",
    "ceilings",
    "condensation",
    "cockroach",
    "cockroaches",
    "infestation",
    "colapsing",
    "colapsed",
    "plaster",
    "balcony",
    "staircase",
    "mildew",
    "mouldy",
    "bedbugs",
    "asthma",
    "asthmatic",
    "pregnant",
    "window",
    "windows",
    "breathing",
    "subsidence",
)
#: Misspellings too far from the word (or too short) for the rule above.
_KNOWN_TYPOS = {
    "cieling": "ceiling",
    "cielings": "ceilings",
    "celing": "ceiling",
    "celings": "ceilings",
    "cealing": "ceiling",
    "seiling": "ceiling",
    "moudl": "mould",
    "moold": "mould",
    "muold": "mould",
    "moldy": "mouldy",
    "mouldie": "mouldy",
    "astma": "asthma",
    "asma": "asthma",
    "roches": "roaches",
    "cocroach": "cockroach",
    "cocroaches": "cockroaches",
}


def _squeeze(word: str) -> str:
    return _DOUBLED.sub(r"\1", word)


def _one_edit(a: str, b: str) -> bool:
    """True when `a` becomes `b` by one letter missing, added, changed, or two swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


_CORRECT_TO = tuple(_squeeze(w) for w in _CORRECTABLE)


@lru_cache(maxsize=4096)
def _correct(word: str) -> str:
    squeezed = _squeeze(word)
    if squeezed in _KNOWN_TYPOS:
        return _squeeze(_KNOWN_TYPOS[squeezed])
    if word in _KNOWN_TYPOS:
        return _squeeze(_KNOWN_TYPOS[word])
    if len(squeezed) >= 6 and squeezed not in _CORRECT_TO:
        for known in _CORRECT_TO:
            if _one_edit(squeezed, known):
                return known
    return squeezed


def normalise(text: str) -> str:
    """The message as the rules read it: lower case, words only, doubled letters squeezed,
    common misspellings corrected ("Theres black MOULD in the cieling!!" reads
    "theres black mould in the ceiling")."""
    words = _WORD.findall(text.lower().translate(_APOSTROPHES))
    return " ".join(_correct(w) for w in words)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b")


def _near(first: str, second: str, within: int = 5, *, ordered: bool = False) -> re.Pattern[str]:
    """`first` then `second` with at most `within` words between (either order unless
    `ordered`)."""
    gap = rf"(?:\s+\S+){{0,{within}}}?\s+"
    forward = rf"\b(?:{first})\b{gap}\b(?:{second})\b"
    if ordered:
        return re.compile(forward)
    return re.compile(rf"{forward}|\b(?:{second})\b{gap}\b(?:{first})\b")


# Word families, written on squeezed words ("wall" is "wal", "falling" is "faling").
_MOULD = r"mou?ld(?:s|y|ey|ing|ed|nes)?|mildew\w*|fung(?:us|i|al)|spores?"
_DAMP = r"damp(?:nes|y|er|est|ish)?"
_CONDENSATION = r"conden?sat\w*|condens(?:e|ing)"
_MUSTY = r"musty|fusty"
_COLOUR = r"black|blak|grey|gray|green|gren|dark"
_SPOTS = r"spots?|spoty|dots?|patch(?:es)?|specks?|fuzy?|furry|stuf|growth|bits|blotch\w*"
_WET = r"wet|soaking|soaked|soden|sogy|moist|runing|streaming|driping|drips?|pouring|sweating"
_WALL_OR_WINDOW = r"wals?|windows?|sils?|windowsils?|glas"
_SURFACE = (
    r"wals?|ceilings?|windows?|sils?|windowsils?|corners?|grout|silicone|tiles?|bathrom|"
    r"bedrom|kitchen|rom|plaster|paper|wallpaper|curtains?|frames?"
)
_LEAKING = (
    r"lea?k\w*|drip\w*|water|stain(?:s|ed)?|pouring|pours?|coming through|coming in|"
    r"geting in|gets in|comes in|comes through"
)
_ABOVE = r"ceilings?|rof|rofs|loft|upstairs|above|flat above|guters?"
_WATER_IN = (
    r"(?:water|rain)(?:\s+\S+)?\s+(?:coming|comes|geting|gets|leaking|leaks|pouring)\s+"
    r"(?:in\s+)?(?:through|thru|under|in)"
)
_ELECTRICS = (
    r"lights?|light fiting|fitings?|bulbs?|sockets?|electrics?|fusebox|fuse box|switch\w*|plugs?"
)
_STRUCTURE = (
    r"ceilings?|rof|wals?|flor|flors|florboards?|balcon(?:y|ies)|stairs|staircase|steps|"
    r"chimney|beams?|joists?"
)
_COLLAPSING = (
    r"colaps\w*|caved in|caving in|cave in|(?:coming|came|come|fel|faling|falen|fal) (?:down|in)|"
    r"(?:gave|given|giving|give|giv) way|"
    r"(?:about|going|gona|ready) to (?:fal|colapse|come down|cave)|"
    r"(?:fal|fel|faling|falen) through"
)
_CRACK = r"cracks?|cracked|cracking|craks?|craked|splits?|spliting"
_CRACKABLE = r"wals?|ceilings?|flor|chimney|foundations?|brickwork|bricks|stairs|balcony|beams?"
_NOT_BUILDING = (
    r"tiles?|glas|miror|sink|toilet|bath|basin|screen|phone|window|windows|plate|mug|pot"
)
_PLASTER = r"plaster\w*|render"
_COMING_OFF = (
    r"faling|fel|falen|coming of+|came of+|come of+|lose|crumbl\w*|droping|droped|flak\w*|"
    r"bulg\w*|blown|peling of+|chunks?"
)
_SAGGING = r"sag\w*|bowing|bowed|bulg\w*|droop\w*|dipping|dips"
_SAGGABLE = r"ceilings?|rof|flor|wals?"
_STEPS = r"stairs|staircase|steps?|banisters?|handrails?|railings?|balcon(?:y|ies)|florboards?|flor"
_UNSAFE = (
    r"unsafe|dangerous|lose|roten|roting|wobly|wobl\w*|shaky|unstable|giving way|coming away|"
    r"come away|came away|broken|broke|mising|hanging of+|hanging|moving|gap|crumbl\w*"
)
_PESTS = (
    r"rats?|mice|mouse|rodents?|vermin|cockroach(?:es)?|roach(?:es)?|bedbugs?|bed bugs?|"
    r"bugs in (?:the|my|our) beds?|infest\w*|dropings|fleas|squirels?|silverfish|"
    r"wasps? nest|hornets?"
)
_BREAK_IN = (
    r"broken into|broke in(?:to)?|break ?in|breakin|burgl\w*|forced (?:open|entry|in)|"
    r"kicked (?:in|down|open)|intruders?"
)
_DOOR = r"dors?"
_WINDOW = r"windows?"
_INSIDE = (
    r"cupboard|cupbord|wardrobe|kitchen|bathrom|bedrom|oven|fridge|frezer|shower|toilet|"
    r"cabinet|internal|inside|garage|car|lounge|loft|airing|living rom|unit"
)
_WONT = (
    r"wont|wil not|doesnt|dont|does not|do not|cant|canot|can not|not|unable to|isnt|"
    r"wouldnt|no longer|never"
)
_SHUTTING = r"lock|locking|lockable|close|closing|closes|shut|shuting|shuts|secure|latch\w*"
_BROKEN = (
    r"broken|broke|bust|busted|smashed|shatered|kicked in|kicked|hanging of+|of (?:its|the) hinges|"
    r"forced|snaped|jamed|faulty|damaged"
)
_LOCK_BROKEN = _near(r"locks?", r"broken|broke|bust|busted|snaped|jamed|faulty|gone|mising")

_NEGATORS = frozenset({"no", "not", "isnt", "without", "never", "nothing", "zero", "non", "nor"})
_RESOLVED = frozenset({"gone", "fixed", "sorted", "cleared", "treated", "repaired", "beter"})
_STILL = frozenset({"back", "again", "stil", "returned", "returning", "not", "isnt", "hasnt"})

#: Someone whose health is at risk, or a sign that it already is.
_HEALTH = _rx(
    r"asthma\w*|breath\w*|whez\w*|chest\w*|cough\w*|lungs?|copd|inhalers?|ilnes\w*|sick\w*|"
    r"porly|unwel|infections?|alergi\w*|alergy|eczema|rash\w*|biten|bites|hospital\w*|gp|"
    r"doctors?|health\w*|headaches?|"
    r"(?:geting|getting|got|gets|get|ben|are|is|im|were|was|fel\w*|make\w*|making|kep\w*|"
    r"kept|very|realy|so|always|fal\w*|al)(?: \w+)? il"
)
_VULNERABLE = _rx(
    r"baby|babies|newborn|infant|todlers?|kids?|child\w*|sons?|daughters?|grandchild\w*|"
    r"grandsons?|grandaughters?|boys?|girls?|pregnan\w*|expecting|elderly|disabled|disability|"
    r"pensioner|oap|nan|nana|grandma|grandad|imune|chemo|cancer|vulnerable|frail|"
    r"(?:im|shes|hes|he is|she is|i am) (?:7|8|9)\d"
)


def _found(pattern: re.Pattern[str], text: str, *, negatable: bool = True) -> str | None:
    """The first mention of `pattern` that is not denied ("no mould") or said to be over
    ("the mould has gone"), or None."""
    for match in pattern.finditer(text):
        if not negatable:
            return match.group(0)
        before = text[: match.start()].split()[-3:]
        after = text[match.end() :].split()
        denied = any(w in _NEGATORS for w in before) and not {"just", "only"} & set(before)
        over = bool(_RESOLVED & set(after[:4])) and not _STILL & set(after)
        if not denied and not over:
            return match.group(0)
    return None


# --- What was found ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HazardReport:
    """One hazard a message reports. `subject` is the thing named ("ceiling", "rats",
    "front door") for the reply; `health_risk` when someone's health is at risk."""

    category: HazardCategory
    subject: str = ""
    emergency: bool = False
    health_risk: bool = False

    @property
    def urgent(self) -> bool:
        """Staff should act today: emergency, health at risk, danger of injury, or a home
        that cannot be secured."""
        return (
            self.emergency
            or self.health_risk
            or self.category in (HazardCategory.STRUCTURAL, HazardCategory.SECURITY)
        )


_DAMP_RULES = (
    _rx(_MOULD),
    _rx(_DAMP),
    _rx(_CONDENSATION),
    _rx(_MUSTY),
    # "black spots all over the bedroom ceiling", not "dark marks on the carpet"
    _near(rf"(?:{_COLOUR})(?:\s+\S+)?\s+(?:{_SPOTS})", _SURFACE, 6),
    _near(_WET, _WALL_OR_WINDOW, 4),
)
_LEAK_EMERGENCY = _near(r"lea?k\w*|drip\w*|water|pouring|pours?", _ELECTRICS, 4)
_LEAK_RULES = (
    _near(_LEAKING, _ABOVE, 5),
    re.compile(_WATER_IN),
    _near(r"lea?k\w*", r"wals?|windows?", 3),
)
_STRUCTURAL_EMERGENCY = (
    _near(_STRUCTURE, _COLLAPSING, 4, ordered=True),
    _near(r"colaps\w*|caved in", _STRUCTURE, 2, ordered=True),
)
_STRUCTURAL_RULES = (
    _near(_CRACK, _CRACKABLE, 6),
    _near(_PLASTER, _COMING_OFF, 4),
    _near(r"ceilings?|wals?", r"faling|crumbl\w*|coming of+|came of+|droping|bits", 3),
    _near(_SAGGING, _SAGGABLE, 4),
    _near(_STEPS, _UNSAFE, 4),
    _rx(r"subsid\w*|structural\w*|unsafe (?:building|structure)"),
    _rx(r"holes? in (?:the|my|our) (?:ceiling|rof|flor|wal)"),
)
_PEST_RULE = _rx(_PESTS)
_BREAK_IN_RULE = _rx(_BREAK_IN)
_FAILS = rf"(?:{_WONT})(?:\s+\S+){{0,2}}?\s+(?:{_SHUTTING})|{_BROKEN}"
_ENTRY_FAILS = _near(rf"{_DOOR}|{_WINDOW}", _FAILS, 5)
_INSIDE_DOOR = re.compile(
    rf"\b(?:{_INSIDE})\s+(?:\S+\s+)?{_DOOR}\b|\b{_DOOR} (?:of|to|on) (?:the|my) (?:{_INSIDE})\b"
)
_NOT_A_WAY_IN = _rx(r"dor (?:bel|step|stop|mat|number|sign|chain)")
_ENTRY_WORDS = _rx(r"front|back|main|entrance|entry|patio|external|outside|comunal|garden")


def _damp(text: str) -> HazardReport | None:
    for rule in _DAMP_RULES:
        said = _found(rule, text)
        if said is not None:
            return HazardReport(HazardCategory.DAMP_MOULD, "damp and mould")
    return None


def _leak(text: str) -> HazardReport | None:
    if _found(_LEAK_EMERGENCY, text) and _found(_rx(r"lea?k\w*|drip\w*|water|pouring"), text):
        return HazardReport(HazardCategory.LEAK, "leak near the electrics", emergency=True)
    for rule in _LEAK_RULES:
        if _found(rule, text) is not None:
            return HazardReport(HazardCategory.LEAK, "leak")
    return None


_PARTS = (
    ("ceil", "ceiling"),
    ("rof", "roof"),
    ("balcon", "balcony"),
    ("stair", "stairs"),
    ("step", "stairs"),
    ("banister", "stairs"),
    ("handrail", "stairs"),
    ("flor", "floor"),
    ("plaster", "plaster"),
    ("chimney", "chimney"),
    ("wal", "wall"),
)


def _part(said: str) -> str:
    for stem, name in _PARTS:
        if re.search(rf"\b{stem}", said):
            return name
    return ""


def _structural(text: str) -> HazardReport | None:
    for rule in _STRUCTURAL_EMERGENCY:
        said = _found(rule, text)
        if said is not None:
            return HazardReport(HazardCategory.STRUCTURAL, _part(said), emergency=True)
    for rule in _STRUCTURAL_RULES:
        said = _found(rule, text)
        if said is None:
            continue
        if rule is _STRUCTURAL_RULES[0] and re.search(rf"\b(?:{_NOT_BUILDING})\b", said):
            continue  # a cracked tile or mirror on the wall is a repair, not a danger
        return HazardReport(HazardCategory.STRUCTURAL, _part(said))
    return None


_SPECIES = (
    ("rat", "rats"),
    ("mice", "mice"),
    ("mouse", "mice"),
    ("roach", "cockroaches"),
    ("cockroach", "cockroaches"),
    ("bug", "bedbugs"),
    ("flea", "fleas"),
    ("squirel", "squirrels"),
    ("wasp", "wasps"),
    ("hornet", "hornets"),
)


def _pests(text: str) -> HazardReport | None:
    said = _found(_PEST_RULE, text)
    if said is None:
        return None
    subject = next((name for stem, name in _SPECIES if stem in said), "pests")
    return HazardReport(HazardCategory.PESTS, subject)


def _security(text: str) -> HazardReport | None:
    if _found(_BREAK_IN_RULE, text) is not None:
        return HazardReport(HazardCategory.SECURITY, "break-in")
    for match in _ENTRY_FAILS.finditer(text):
        said = match.group(0)
        if re.search(rf"\b{_WINDOW}\b", said):
            return HazardReport(HazardCategory.SECURITY, "window")
        if _NOT_A_WAY_IN.search(said):
            continue  # a doorbell or a door number
        door_at = text.find(said)
        around = text[max(0, door_at - 30) : door_at + len(said) + 20]
        if _INSIDE_DOOR.search(around) and not _ENTRY_WORDS.search(around):
            continue  # a cupboard or bathroom door is a repair, not a way in
        return HazardReport(HazardCategory.SECURITY, "door")
    if _found(_LOCK_BROKEN, text) is not None and not re.search(rf"\b(?:{_INSIDE})\b", text):
        return HazardReport(HazardCategory.SECURITY, "lock")
    return None


#: Most serious first: that is the order the reply names them in.
_RECOGNISERS = (_structural, _leak, _security, _damp, _pests)
#: Every rule needs one of these words, so a message with none is read in one search.
_ANY_HAZARD_WORD = _rx(
    "|".join(
        (
            _MOULD,
            _DAMP,
            _CONDENSATION,
            _MUSTY,
            _COLOUR,
            _WET,
            _LEAKING,
            r"water|rain|colaps\w*|caved|caving|cave|holes?|subsid\w*|structural\w*|locks?",
            _STRUCTURE,
            _CRACK,
            _PLASTER,
            _SAGGING,
            _STEPS,
            _PESTS,
            _BREAK_IN,
            _DOOR,
            _WINDOW,
        )
    )
)


@lru_cache(maxsize=1024)
def recognise(text: str) -> tuple[HazardReport, ...]:
    """Every hazard `text` reports, most serious first (emergencies before the rest).
    Cached: a message is read by the emergency check and then the hazard step."""
    norm = normalise(text)
    if not _ANY_HAZARD_WORD.search(norm):
        return ()
    at_risk = bool(_HEALTH.search(norm) or _VULNERABLE.search(norm))
    found = [r for r in (rule(norm) for rule in _RECOGNISERS) if r is not None]
    reports = [HazardReport(r.category, r.subject, r.emergency, health_risk=at_risk) for r in found]
    return tuple(sorted(reports, key=lambda r: not r.emergency))


def emergency_in(text: str) -> HazardReport | None:
    """An emergency-level hazard (a ceiling coming down, water in the lights), or None."""
    return next((r for r in recognise(text) if r.emergency), None)


def describes_a_hazard(text: str) -> bool:
    """Does `text` report a hazard? Such words are never recorded as an access need."""
    return bool(recognise(text))


# --- Answering a report -----------------------------------------------------------------

#: Intents about something else that a hazard is only mentioned in, when the interpreter
#: is sure of them (`_SURE`): the flows answer those. These always go on ("is that really
#: the council at my door about the damp", a complaint about the mould not being fixed,
#: feedback, moving or calling a visit off, stopping texts)...
_OTHER_BUSINESS = frozenset(
    {
        "verify_operative",
        "report_no_show",
        "make_complaint",
        "give_feedback",
        "cancel_visit",
        "rebook_visit",
        "opt_out",
    }
)
#: ...and these when a job that can be (or is) booked is about the hazard ("when are you
#: coming about the mould"); a new hazard in them is raised first ("can i book someone for
#: the damp"), and one still in triage is said to be on record.
_ABOUT_A_VISIT = frozenset({"ask_appointment", "book_visit", "inform_time"})
#: Hazard reports read as all sorts ("black spots all over the bedroom ceiling" is
#: give_feedback at 0.71), so only a sure reading of other business wins.
_SURE = 0.85


def on_record(category: HazardCategory, resident: ResidentView) -> JobView | None:
    """The resident's hazard job of this category not yet completed or cancelled (in triage
    too), or None."""
    for job in resident.hazard_jobs:
        if job.hazard_category == category.value:
            return job
    return None


def _visit_for(category: HazardCategory, resident: ResidentView) -> JobView | None:
    """A job of the resident's that a visit is (or can be) booked for, about this hazard:
    with its category, or the landlord's without one whose description reads as it
    ("Damp patch on the bedroom ceiling")."""
    jobs: Iterable[JobView] = (
        *resident.open_jobs,
        *(a.job for a in resident.appointments if a.status == "booked"),
    )
    for job in jobs:
        if job.hazard_category == category.value or any(
            r.category == category for r in recognise(job.description)
        ):
            return job
    return None


def _intent_is(message: FlowInput, intents: frozenset[str]) -> bool:
    intent = message.parse.intent
    return intent.name in intents and intent.confidence >= _SURE


_VISIT_WORDS = _rx(r"book\w*|come|coming|visit\w*|apointments?|arange|send someone|when")


def _about_a_visit(message: FlowInput) -> bool:
    """A sure question about a visit, or a request for one that says so ("can someone come
    for the damp tuesday"), not a report that happens to read as book_visit."""
    if not _intent_is(message, _ABOUT_A_VISIT):
        return False
    has_time = any(e.entity == "time" for e in message.parse.entities)
    return has_time or bool(_VISIT_WORDS.search(normalise(message.text)))


def answer(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    """A hazard report, in any state: raise each new one for staff and say what happens
    next; one already on record is named with its reference, not raised again. The flow
    the resident was in is kept. None when the message reports no hazard, or is about
    other business that only mentions one (see `_OTHER_BUSINESS`)."""
    resident = ctx.resident
    if resident is None:
        return None
    found = [r for r in recognise(message.text) if not r.emergency]
    if not found:
        return None
    if _intent_is(message, _OTHER_BUSINESS):
        return None
    if (
        not any(r.health_risk for r in found)
        and all(_visit_for(r.category, resident) for r in found)
        and _about_a_visit(message)
    ):
        return None  # "when are you coming about the damp": the visit's flows answer
    new = [r for r in found if on_record(r.category, resident) is None]
    known = [(r, job) for r in found if (job := on_record(r.category, resident)) is not None]
    said = message.text.strip()
    actions: list[Action] = [
        ReportRepair(
            description=said[:500],
            priority=JobPriority.URGENT if r.urgent else JobPriority.ROUTINE,
            hazard=r.category,
        )
        for r in new
    ]
    actions += [
        RaiseTask(
            kind=TaskKind.ALERT,
            summary=(
                f"Resident says the {r.category.value} hazard on job {job.reference} "
                f"puts someone's health at risk: {said[:200]}"
            ),
            urgent=True,
        )
        for r, job in known
        if r.health_risk
    ]
    replies: list[Reply] = []
    if new:
        replies.append(
            words.logged([(r.category, r.subject) for r in new], urgent=any(r.urgent for r in new))
        )
    if known:
        replies.append(
            words.on_record(
                [(r.category, r.subject, job.reference) for r, job in known],
                health_noted=any(r.health_risk for r, _ in known),
            )
        )
    replies += _advice(found, ctx)
    return StepResult(state, tuple(replies), tuple(actions))


def _advice(found: Sequence[HazardReport], ctx: StepContext) -> list[Reply]:
    """Safety advice where someone could be hurt or made ill, one message a hazard."""
    replies = []
    for report in found:
        advice = words.advice(
            report.category,
            health_risk=report.health_risk,
            emergency_phone=ctx.landlord.emergency_phone,
        )
        if advice is not None:
            replies.append(advice)
    return replies[:2]
