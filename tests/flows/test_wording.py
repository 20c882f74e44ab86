"""Every SMS template stays in GSM-7 and within two segments, with realistic data.

Realistic means long: the longest names, employers, descriptions and links we would
really send. Names outside GSM-7 (Siân) may switch the encoding, and nothing else may.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.common.clock import FixedClock
from bot.common.links import PhotoLinkSigner
from flows.context import (
    AccessNeedView,
    AppointmentView,
    JobView,
    LandlordView,
    OperativeView,
    ResidentView,
)
from flows.messages import Reply
from flows.safety import Emergency, Hazard
from flows.sms import MAX_SEGMENTS, fit, gsm7_safe, is_gsm7, non_gsm7, quote, sms_cost
from flows.wording import common, door, safety, visits
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


def all_templates(resident: ResidentView, appointment: AppointmentView) -> list[Reply]:
    zone = __import__("zoneinfo").ZoneInfo("Europe/London")
    replies: list[Reply] = [
        common.greeting(resident),
        common.menu(resident),
        common.help_text(resident),
        common.unknown_number(LANDLORD),
        common.thanks(resident),
        common.goodbye(resident),
        visits.needs_check(resident.access_needs),
        visits.ask_needs(),
        visits.ask_new_needs(),
        visits.ask_consent(NEED.own_words),
        visits.choose_job(resident.open_jobs),
        visits.offer(["Wed 30 Dec, afternoon 12pm-5pm"] * 3),
        visits.offer(["Wed 30 Dec, afternoon 12pm-5pm"], lead="Sorry, nothing is free then."),
        visits.nothing_free(asked=True),
        visits.ask_times(),
        visits.slot_taken(),
        visits.no_open_job(LANDLORD),
        visits.repair_logged(JOB.description * 3),
        *visits.confirmation(appointment, LANDLORD),
        Reply(visits.nominee_copy(resident, appointment)),
        visits.appointments(resident, today=date(2026, 12, 30), zone=zone),
        visits.choose_visit(resident.appointments, doing="call off"),
        visits.no_visit_to_change(resident),
        visits.confirm_cancel(appointment),
        visits.cancelled(appointment),
        visits.kept(appointment),
        door.identity(appointment, zone, password=True),
        door.matched(appointment, password=True),
        door.mismatch(LANDLORD, 4),
        door.locked(LANDLORD),
        door.no_visit_today(LANDLORD),
        door.no_show_sorry(appointment, LANDLORD),
        door.no_show_offer(LANDLORD),
        door.no_show_unknown(LANDLORD),
        door.badge_is_not_a_code(appointment),
        door.ask_visit_code(),
        door.confirm_caller_at_door(LANDLORD, visit_today=False),
        door.confirm_no_show(),
        visits.need_noted(NEED.own_words * 3, shared=False, review="30 Dec 2027"),
        visits.needs_on_record(resident.access_needs),
        visits.needs_on_record(()),
        safety.confirm_opt_out(),
        safety.kept_sending(),
        safety.confirm_handoff(),
        common.nothing_changed(),
        safety.opted_out(),
        safety.opted_in(),
        safety.handoff("on Mon 4 Jan by 10am", LANDLORD),
    ]
    replies += [safety.emergency(Emergency(h), LANDLORD) for h in Hazard]
    return replies


def sms_text(reply: Reply) -> str:
    """What SMS actually carries: the text plus the numbered options."""
    lines = [reply.text, *(f"{o.key} {o.label}" for o in reply.options)]
    return "\n".join(lines)


@pytest.mark.parametrize("index", range(len(all_templates(_resident(), _appointment()))))
def test_template_is_gsm7_within_two_segments(index: int) -> None:
    reply = all_templates(_resident(), _appointment())[index]
    text = sms_text(reply)
    assert is_gsm7(text), non_gsm7(text)
    cost = sms_cost(text)
    assert cost.segments <= MAX_SEGMENTS, (cost, text)


def test_names_outside_gsm7_switch_encoding_and_nothing_else_does() -> None:
    resident = _resident("Siân Llewellyn")
    appointment = _appointment("Zoë Brontë")
    for reply in all_templates(resident, appointment):
        assert non_gsm7(sms_text(reply)) <= {"â", "ë"}


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
    assert fit((full, terse), options=(("1", "Change the time"),)) == terse
    assert fit(("x" * 400, "x" * 200)) == "x" * 200  # none fits: the cheapest
    assert fit((full, terse), options=(("1", "Change the time"),), segments=2) == full
