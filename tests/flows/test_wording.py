"""Every SMS template stays in GSM-7 and within two segments, with realistic data.

Realistic means long: the longest names, employers, descriptions and links we would
really send. Names outside GSM-7 (Siân) may switch the encoding, and nothing else may.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FixedClock
from bot.common.links import PhotoLinkSigner
from flows.context import (
    AccessNeedView,
    AppointmentView,
    JobView,
    LandlordView,
    NomineeView,
    OperativeView,
    ResidentView,
)
from flows.messages import Option, Reply
from flows.safety import Emergency, Hazard
from flows.sms import MAX_SEGMENTS, fit, gsm7_safe, is_gsm7, non_gsm7, quote, sms_cost
from flows.wording import visits
from storage.enums import HazardCategory
from storage.models import Appointment

BASE_URL = "https://repairs.riversidehomes.org.uk"
START = datetime(2026, 12, 30, 12, tzinfo=UTC)
LANDLORD = LandlordView(
    name="Riverside Homes Housing Association",
    phone="0300 555 0140",
    emergency_phone="0300 555 0199",
    code_of_conduct_url="https://repairs.riversidehomes.org.uk/code-of-conduct",
    compensation_policy=(
        "If we miss an agreed appointment without telling you at least 24 hours before, we pay "
        "you 20 pounds, and 10 pounds more for each further missed appointment for the same "
        "repair."
    ),
)
JOB = JobView(
    1, "RH-104217", "Kitchen tap dripping constantly and the cupboard under it is wet", "open"
)
NEED = AccessNeedView(
    1, "wheelchair", "I use a wheelchair, please use the side ramp and ring twice", True
)


def _appointment(name: str = "Alexander Montgomery-Smith") -> AppointmentView:
    return AppointmentView(
        id=1,
        version=3,
        job=JOB,
        operative=OperativeView(1, name, "Brightwater Plumbing and Heating Ltd", "551023"),
        day=date(2026, 12, 30),
        window="afternoon",
        starts_at=datetime(2026, 12, 30, 12, tzinfo=UTC),
        ends_at=datetime(2026, 12, 30, 17, tzinfo=UTC),
        status="booked",
        visit_code="4821",
        live_status="running_late",
        eta=datetime(2026, 12, 30, 15, 45, tzinfo=UTC),
        photo_link=PhotoLinkSigner("s" * 64, BASE_URL, FixedClock(START)).link(
            Appointment(
                id=123456,
                job_id=1,
                operative_id=1,
                day=date(2026, 12, 30),
                window="afternoon",
                starts_at=START,
                ends_at=START,
                version=3,
                visit_code="4821",
                created_at=START,
                updated_at=START,
            )
        ),
    )


def _resident(name: str = "Bartholomew Featherstonehaugh") -> ResidentView:
    appointment = _appointment()
    return ResidentView(
        id=1,
        name=name,
        open_jobs=(JOB, JOB),
        access_needs=(NEED,),
        appointments=(appointment, appointment, appointment),
        nominee_name="Susan Featherstonehaugh",
    )


def sms_text(reply: Reply) -> str:
    """What SMS actually carries: the text plus the numbered options."""
    lines = [reply.text, *(f"{o.key} {o.label}" for o in reply.options)]
    return "\n".join(lines)


def test_segment_counting_matches_the_standard() -> None:
    assert sms_cost("a" * 160).segments == 1
    assert sms_cost("a" * 161).segments == 2
    assert sms_cost("a" * 306).segments == 2
    assert sms_cost("a" * 307).segments == 3
    assert sms_cost("[" * 80).segments == 1  # extended characters cost two septets
    assert sms_cost("[" * 81).segments == 2
    assert sms_cost("Siân " * 14).encoding == "UCS-2"
    assert sms_cost("â" * 70).segments == 1
    assert sms_cost("â" * 71).segments == 2


def test_quoting_a_resident_never_switches_the_encoding() -> None:
    said = (
        "theres black mould \U0001f629\U0001f629 all over my son\u2019s room \u2013 "
        "\u201chelp\u201d"
    )
    quoted = quote(said, 160)
    assert quoted == 'theres black mould all over my son\'s room - "help"'
    assert is_gsm7(quoted)
    # Accents outside GSM-7 lose the accent (Welsh, Polish); GSM-7 ones (e, u) stay as written.
    assert gsm7_safe("Siân, Zoë, ŵ, pleśń w łazience, café, Müller") == (
        "Sian, Zoe, w, plesn w lazience, café, Müller"
    )
    # Other scripts and symbols with no plain spelling are left out, not turned into "?".
    assert gsm7_safe("ok \U0001f44d\U0001f3fd \u00bd \u0416") == "ok"
    assert quote("\U0001f525\U0001f525", 40, empty="...") == "..."


def test_a_long_quote_is_cut_at_a_word_within_its_limit() -> None:
    said = "the kitchen ceiling has a big brown stain and water drips onto the cooker"
    quoted = quote(said, 40)
    assert quoted == "the kitchen ceiling has a big brown..."
    assert len(quoted) <= 40
    assert quote("Supercalifragilisticexpialidocious", 10) == "Superca..."
    assert quote("  two\n lines\t here ", 40) == "two lines here"
    # An extended character (the euro sign) takes two septets of the limit.
    assert quote("\u20ac" * 30, 20) == "\u20ac" * 8 + "..."


def test_fit_takes_the_fullest_wording_within_budget() -> None:
    full, terse = "x" * 150, "x" * 100
    assert fit((full, terse)) == full
    assert fit((full, terse), options=(Option("1", "Change the time"),)) == terse
    assert fit(("x" * 400, "x" * 200)) == "x" * 200  # none fits: the cheapest
    assert fit(("x" * 300, "x" * 200)) == "x" * 300  # ...and the fullest of those
    assert fit((full, terse), options=(Option("1", "Change the time"),), segments=2) == full


# --- The budget walk: every reply builder in flows/wording, with representative data -----

#: The modules whose builders make what a resident reads by SMS (calendar.py writes the
#: iCalendar file, not a text). A new module of wording joins this list.
WORDING_MODULES = ("common", "door", "safety", "service", "visits", "invitations")
OPTIONAL_MODULES = ("hazards", "times", "paused", "nominee", "complaint")  # once they exist
#: Functions in those modules that are not a message a resident reads.
NOT_MESSAGES = {
    "common.short",
    "visits.when",
    "visits.sharing_option",
    "service.clean_reason",
    "service.sms_safe",
    "invitations.short_description",
    "hazards.label",
    # Phrases that go inside an offer's lead (tested with it), not messages of their own.
    "times.hours_words",
    "times.days_words",
    "times.wish_words",
    "times.summary",
}
#: Everything fits ONE segment with typical data unless it is listed here with its reason.
#: Nothing may take more than MAX_SEGMENTS (two) even with the longest data we hold.
BUDGETS = {
    "common.help_text": 2,  # what the service can do, then the whole menu
    "visits.confirmation": 2,  # when, who, code, the rule at the door, a link: all of it
    "door.identity": 2,  # who, live status and the photo link
    "door.badge_is_not_a_code": 2,  # why a badge number proves nothing
    "door.no_show_offer": 2,  # the landlord's own compensation policy, as they wrote it
    "safety.emergency": 2,  # safety advice is never cut to save a segment
    "service.landlord_booked": 2,  # the confirmation, as one message
    "service.disruption": 2,  # staff's own reason, up to REASON_LIMIT characters
    "invitations.emergency_call": 2,  # what is wrong, that we call today, the emergency line
}

LEAD = "Sorry, nothing is free then. The nearest free times are these."
TYPICAL_OPERATIVE = OperativeView(1, "Mohammed Abdullahi", "Brightwater Plumbing Ltd", "55101")
LONG_TEXT = (
    "the tap in the kitchen has been dripping for weeks and now the cupboard under it is wet"
)


def _values(data: str) -> dict[str, list[object]]:
    """Representative values by parameter name: "typical", "longest", or "welsh" names."""
    if data == "typical":
        appointment = replace(_appointment(), operative=TYPICAL_OPERATIVE)
    elif data == "welsh":
        appointment = _appointment("Zo\u00eb Bront\u00eb")
    else:
        appointment = _appointment()
    operative = appointment.operative.name
    resident = _resident("Si\u00e2n Llewellyn") if data == "welsh" else _resident()
    resident = replace(resident, appointments=(appointment, appointment))
    zone = ZoneInfo("Europe/London")
    eta = datetime(2026, 12, 30, 15, 45, tzinfo=UTC)
    return {
        "resident": [
            resident,
            replace(resident, open_jobs=(JOB,)),
            replace(resident, open_jobs=(), appointments=()),
        ],
        "appointment": [appointment, replace(appointment, live_status=None, eta=None)],
        "appointments": [resident.appointments],
        "landlord": [LANDLORD],
        "zone": [zone],
        "needs": [resident.access_needs, ()],
        "jobs": [resident.open_jobs],
        "labels": [["Wed 30 Dec, afternoon 12pm-5pm"] * 3, ["Thu 31 Dec, morning 8am-12pm"]],
        "lead": [""],  # an offer that says why these times: test_an_offer_with_a_reason_...
        "own_words": [NEED.own_words, LONG_TEXT],
        "reference_hint": [LONG_TEXT],
        "description": [LONG_TEXT, JOB.description],
        "reason": ["Van broke down on the M62 \u2013 we\u2019re very sorry " * 3],
        "first_name": [resident.first_name],
        "visit": ["Wed 30 Dec, afternoon 12pm-5pm"],
        "operative": [operative],
        "code": ["4821"],
        "eta": [eta, None],
        "when": ["on Mon 4 Jan by 10am", "today by 4pm"],
        "review": ["30 Dec 2027"],
        "today": [date(2026, 12, 29)],  # the visit day: test_on_the_visit_day_...
        "doing": ["call off", "move"],
        "attempts_left": [4, 1, 0],
        "emergency_phone": [LANDLORD.emergency_phone],
        "repair": [JOB.description],
        "employer": [appointment.operative.employer],
        "badge": [appointment.operative.badge_number],
        "name": ["Polish", "English"],
        "hazard": [h.value for h in Hazard] + ["something else"],
        "found": [Emergency(h) for h in Hazard],
        "category": list(HazardCategory),
        "subject": ["", "bedroom ceiling"],
        "reported": [
            ((HazardCategory.DAMP_MOULD, ""),),
            ((HazardCategory.STRUCTURAL, "bedroom ceiling"), (HazardCategory.LEAK, "")),
        ],
        "known": [
            ((HazardCategory.DAMP_MOULD, "", JOB.reference),),
            ((HazardCategory.PESTS, "mice", JOB.reference), (HazardCategory.LEAK, "", "RH-7")),
        ],
        **_time_values(),
        "nominee": [NomineeView("Susan Featherstonehaugh", "daughter"), NomineeView("")],
        "reference": ["CMP-2026-000123", None],
        "respond_by": [date(2027, 1, 27)],
        "working_days": [20],
        **{flag: [True, False] for flag in BOOL_PARAMETERS},
    }


def _time_values() -> dict[str, list[object]]:
    """What a resident said about times, once flows/slots.py holds it (issue 15, item 4)."""
    try:
        from flows.slots import Days, Hours, Preference, Wish  # type: ignore[attr-defined]
    except ImportError:
        return {}
    friday_after_3 = Wish(Days(first=date(2026, 12, 4), end=date(2026, 12, 5)), Hours(900, 1200))
    said = Preference(wanted=(friday_after_3,), avoided=(Wish(Days(weekday=0)),))
    return {"preference": [said, Preference()]}


BOOL_PARAMETERS = (
    "password",
    "health_risk",
    "urgent",
    "health_noted",
    "shared",
    "started",
    "asked",
    "visit_today",
    "planned",
    "share",
)


def _modules() -> list[ModuleType]:
    found = [importlib.import_module(f"flows.wording.{name}") for name in WORDING_MODULES]
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(f"flows.wording.{name}") is not None:
            found.append(importlib.import_module(f"flows.wording.{name}"))
    return found


def _builders() -> list[tuple[str, Callable[..., object]]]:
    builders = []
    for module in _modules():
        short_name = module.__name__.rsplit(".", 1)[1]
        for name, function in inspect.getmembers(module, inspect.isfunction):
            qualified = f"{short_name}.{name}"
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if qualified not in NOT_MESSAGES:
                builders.append((qualified, function))
    return builders


def _calls(function: Callable[..., object], values: dict[str, list[object]]) -> list[object]:
    """Every combination of the representative values of the builder's parameters."""
    parameters = inspect.signature(function).parameters
    missing = [p for p in parameters if p not in values]
    assert not missing, f"give {function.__name__}'s {missing} a representative value here"
    made = []
    for combination in itertools.product(*(values[p] for p in parameters)):
        arguments = dict(zip(parameters, combination, strict=True))
        positional = [
            arguments[p.name]
            for p in parameters.values()
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]
        keywords = {
            p.name: arguments[p.name]
            for p in parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        made.append(function(*positional, **keywords))
    return made


def _segments(made: object) -> list[tuple[int, str]]:
    """(segments, text) of each SMS a builder's result becomes."""
    if made is None:  # a builder with nothing to say in this case (no advice needed)
        texts = []
    elif isinstance(made, str):
        texts = [made]
    elif isinstance(made, Reply):
        texts = [sms_text(made)]
    else:
        assert isinstance(made, tuple), made
        texts = [sms_text(reply) for reply in made]
    return [(sms_cost(text).segments, text) for text in texts]


BUILDERS = _builders()


@pytest.mark.parametrize(("name", "builder"), BUILDERS, ids=[name for name, _ in BUILDERS])
def test_every_reply_fits_its_budget(name: str, builder: Callable[..., object]) -> None:
    """ONE segment with typical data unless BUDGETS says why not, and never more than
    two even with the longest names, employers, descriptions and links we hold."""
    budget = BUDGETS.get(name, 1)
    for made in _calls(builder, _values("typical")):
        texts = _segments(made)
        assert all(is_gsm7(text) for _, text in texts), texts
        assert sum(segments for segments, _ in texts) <= budget, (name, texts)
    for made in _calls(builder, _values("longest")):
        texts = _segments(made)
        assert sum(segments for segments, _ in texts) <= max(budget, MAX_SEGMENTS), texts


def test_the_walk_covers_every_reply_builder() -> None:
    walked = {name for name, _ in BUILDERS}
    assert {"common.greeting", "visits.confirmation", "service.evening_reminder"} <= walked
    assert set(BUDGETS) <= walked, set(BUDGETS) - walked  # a stale budget entry


def test_quoted_words_keep_the_encoding_in_every_builder() -> None:
    """A resident's words full of emoji, curly quotes and accents, quoted by every builder
    that takes words from outside: the message stays GSM-7."""
    messy = "th\u00e9r\u00ea\u2019s \u201cblack\u201d m\u00f6uld \U0001f629 \u0142azienka \u2013 ŵ"
    values = _values("typical")
    for key in ("own_words", "reference_hint", "description", "reason", "repair"):
        values[key] = [messy]
    values["needs"] = [(replace(NEED, own_words=messy),)]
    values["jobs"] = [(replace(JOB, description=messy),)]
    for name, builder in BUILDERS:
        for made in _calls(builder, values):
            for _, text in _segments(made):
                assert is_gsm7(text), (name, non_gsm7(text))


def test_names_outside_gsm7_switch_encoding_and_nothing_else_does() -> None:
    """Siân and Zoë are spelt right (UCS-2 for that message), and nothing else is not GSM-7."""
    values = _values("welsh")
    assert values["first_name"] == ["Si\u00e2n"]
    for name, builder in BUILDERS:
        for made in _calls(builder, values):
            for _, text in _segments(made):
                assert non_gsm7(text) <= {"\u00e2", "\u00eb"}, (name, text)


def test_an_offer_with_a_reason_for_its_times_takes_at_most_two_segments() -> None:
    for labels in (["Wed 30 Dec, afternoon 12pm-5pm"] * 3, ["Thu 31 Dec, morning 8am-12pm"]):
        plain = sms_text(visits.offer(labels))
        led = sms_text(visits.offer(labels, lead=LEAD))
        assert sms_cost(plain).segments == 1, plain
        assert sms_cost(led).segments <= 2 and led.startswith(LEAD), led


def test_on_the_visit_day_my_visits_adds_the_live_status_within_two_segments() -> None:
    zone = ZoneInfo("Europe/London")
    for data in ("typical", "longest"):
        (resident,) = _values(data)["resident"][:1]
        assert isinstance(resident, ResidentView)
        reply = visits.appointments(resident, today=date(2026, 12, 30), zone=zone)
        assert "running late, due about 3:45pm" in reply.text
        assert sms_cost(sms_text(reply)).segments <= 2, reply
