"""Damp and mould, leaks, structural danger, pests and homes that cannot be secured (issue 15
item 1): recognised in any state, answered with what happens next (and safety advice where
health is at risk), raised for staff with a hazard category, never stored as an access need,
and never raised twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from flows import access, hazards
from flows.actions import ReportRepair
from flows.context import FlowInput, JobView, LandlordView, ResidentView, StepContext
from flows.engine import IDLE
from flows.hazards import normalise, recognise
from flows.local_time import LONDON
from flows.safety import Hazard, detect_emergency
from flows.sms import sms_cost
from flows.wording import hazards as words
from nlu.types import IntentScore, ParseResult
from simphone import Phone
from storage.db import Database
from storage.enums import HazardCategory
from storage.models import AccessNeed, LandlordEvent, RepairJob, StaffTask


def _db(client: TestClient) -> Database:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    return db


def _hazard_jobs(client: TestClient) -> list[RepairJob]:
    with _db(client).session() as session:
        return list(
            session.exec(
                select(RepairJob)
                .where(col(RepairJob.hazard_category).is_not(None))
                .order_by(col(RepairJob.id))
            )
        )


def _tasks(client: TestClient) -> list[StaffTask]:
    with _db(client).session() as session:
        return list(session.exec(select(StaffTask).order_by(col(StaffTask.id))))


def _needs(client: TestClient) -> list[str]:
    """Every access need on record, in the resident's own words."""
    with _db(client).session() as session:
        return [n.own_words for n in session.exec(select(AccessNeed))]


def _all_text(phone: Phone) -> str:
    text = " ".join(str(m["text"]) for m in phone.inbox)
    phone.inbox.clear()
    return text


# --- In conversation --------------------------------------------------------------------


def test_black_mould_and_asthma_is_an_urgent_hazard_with_advice(
    phone: Phone, client: TestClient
) -> None:
    needs = _needs(client)
    phone.say(
        "theres black mould all over my sons bedroom wall and hes got asthma, its getting worse"
    )
    said = _all_text(phone)
    assert "damp and mould" in said and "urgent" in said
    assert "within 1 working day" in said
    assert "asthma" in said and "111" in said  # advice for a risk to health
    assert "menu" not in said.lower() and "Reply 1" not in said
    (job,) = _hazard_jobs(client)
    assert job.hazard_category == "damp_mould" and job.priority == "urgent"
    assert job.status == "triage" and "asthma" in job.description
    (task,) = [t for t in _tasks(client) if t.kind == "alert"]
    assert task.urgent and "damp_mould" in task.summary and job.reference in task.summary
    assert _needs(client) == needs


def test_damp_and_sick_children_is_never_an_access_need(phone: Phone, client: TestClient) -> None:
    needs = _needs(client)
    phone.say("can i tell you about my access needs")
    phone.inbox.clear()
    phone.say("damp and mould in the bathroom, kids keep getting ill")
    said = _all_text(phone)
    assert "damp and mould" in said and "urgent" in said
    assert "share" not in said.lower()  # not offered for sharing with the operative
    phone.say("yes")  # to what? nothing about sharing was asked
    assert _needs(client) == needs
    assert [j.hazard_category for j in _hazard_jobs(client)] == ["damp_mould"]


def test_mould_without_a_health_risk_is_logged_without_advice(
    phone: Phone, client: TestClient
) -> None:
    replies = phone.say("theres mold round the bathroom window")
    assert len(replies) == 1
    assert "within 2 working days" in replies[0]["text"]
    (job,) = _hazard_jobs(client)
    assert job.priority == "routine"
    (task,) = [t for t in _tasks(client) if "damp_mould" in t.summary]
    assert task.kind == "triage" and not task.urgent


def test_a_collapsing_ceiling_is_an_emergency(phone: Phone, client: TestClient) -> None:
    phone.say("help the celing in the kitchen is coming down")
    said = _all_text(phone)
    assert "out of that room" in said and "emergency line" in said
    (job,) = _hazard_jobs(client)
    assert (job.hazard_category, job.priority) == ("structural", "emergency")
    assert any(t.kind == "alert" and t.urgent for t in _tasks(client))
    with _db(client).session() as session:
        (event,) = session.exec(
            select(LandlordEvent).where(LandlordEvent.kind == "emergency.reported")
        ).all()
    assert event.job_id == job.id and event.data["hazard_category"] == "structural"


def test_a_front_door_that_will_not_lock_gives_the_emergency_line(
    phone: Phone, client: TestClient
) -> None:
    phone.say("front door wont lock since someone tried to force it")
    said = _all_text(phone)
    assert "your door" in said and "urgent" in said
    assert "emergency line on" in said and "999" in said
    (job,) = _hazard_jobs(client)
    assert (job.hazard_category, job.priority) == ("security", "urgent")


def test_the_same_hazard_twice_is_on_record_not_raised_again(
    phone: Phone, client: TestClient
) -> None:
    phone.say("we have got rats in the kitchen")
    first = _all_text(phone)
    assert "the rats" in first
    (job,) = _hazard_jobs(client)
    phone.say("the rats r back again, seen 2 last night")
    again = _all_text(phone)
    assert "already have the rats" in again and job.reference in again
    assert len(_hazard_jobs(client)) == 1
    assert len([t for t in _tasks(client) if "pests" in t.summary]) == 1


def test_a_new_risk_to_health_on_a_known_hazard_alerts_staff(
    phone: Phone, client: TestClient
) -> None:
    phone.say("black spots all over the bedroom ceiling")
    phone.inbox.clear()
    phone.say("the mould is making my baby wheezy now")
    said = _all_text(phone)
    assert "already have the damp and mould" in said and "health" in said
    assert "111" in said
    assert len(_hazard_jobs(client)) == 1
    alerts = [t for t in _tasks(client) if t.kind == "alert"]
    assert len(alerts) == 1 and alerts[0].urgent


def test_two_hazards_in_one_message_are_two_reports(phone: Phone, client: TestClient) -> None:
    phone.say("damp patch on the ceiling and mice in the kitchen cupboards")
    said = _all_text(phone)
    assert "the leak" not in said
    assert "damp and mould" in said and "mice" in said
    categories = sorted(j.hazard_category or "" for j in _hazard_jobs(client))
    assert categories == ["damp_mould", "pests"]
    references = {j.reference for j in _hazard_jobs(client)}
    assert len(references) == 2


def test_a_hazard_in_the_middle_of_booking_keeps_the_booking(
    phone: Phone, client: TestClient
) -> None:
    phone.say("book a visit")
    offer = phone.pop()
    assert offer["options"]
    phone.inbox.clear()
    phone.say("theres water dripping through the ceiling from upstairs")
    said = _all_text(phone)
    assert "the leak" in said and "bowl" in said
    phone.say("1")
    assert phone.inbox  # the booking carries on where it was
    assert [j.hazard_category for j in _hazard_jobs(client)] == ["leak"]


def test_asking_about_a_hazard_still_in_triage_gives_its_reference(
    phone: Phone, client: TestClient
) -> None:
    phone.say("condensation running down all the windows")
    (job,) = _hazard_jobs(client)
    phone.inbox.clear()
    phone.say("when is my appointment for the damp")
    said = _all_text(phone)
    assert "already have the damp and mould" in said and job.reference in said
    assert len(_hazard_jobs(client)) == 1


def test_a_question_about_the_landlords_damp_job_is_answered_as_one(client: TestClient) -> None:
    # The demo resident at ...463 has the landlord's job "Damp patch on the bedroom ceiling",
    # with no hazard category.
    phone = Phone(client, "+447400123463")
    phone.say("when is my appointment")
    plain = _all_text(phone)
    phone.say("when is my appointment for the damp")
    assert _all_text(phone) == plain  # a question about the visit, answered as one
    assert _hazard_jobs(client) == []
    phone.say("theres black mould round that damp patch now and my kids are coughing")
    said = _all_text(phone)  # a report, with a risk to health: raised with its category
    assert "damp and mould" in said and "urgent" in said
    assert [j.hazard_category for j in _hazard_jobs(client)] == ["damp_mould"]


def test_a_landlords_hazard_job_is_on_record(client: TestClient) -> None:
    # The demo resident at ...458 has the job "Back door sticks and will not lock"; the
    # landlord's system sends it with its hazard category.
    with _db(client).session() as session:
        job = session.exec(select(RepairJob).where(RepairJob.reference == "RH-10423")).one()
        assert "will not lock" in job.description
        job.hazard_category = "security"
        session.add(job)
    phone = Phone(client, "+447400123458")
    phone.say("my back door still wont lock")
    said = _all_text(phone)
    assert "already have the problem with your door (ref RH-10423)" in said
    assert len(_hazard_jobs(client)) == 1


# --- Recognition ------------------------------------------------------------------------

HAZARDS = [
    ("theres black mould all over the wall", HazardCategory.DAMP_MOULD),
    ("mouldy patches in the corner of the bedroom", HazardCategory.DAMP_MOULD),
    ("moooould everywhere", HazardCategory.DAMP_MOULD),
    ("damp patch above the bed", HazardCategory.DAMP_MOULD),
    ("black spots on the ceiling", HazardCategory.DAMP_MOULD),
    ("green fuzzy stuff in the corner of the bathroom", HazardCategory.DAMP_MOULD),
    ("condensaton on the windows every morning", HazardCategory.DAMP_MOULD),
    ("the walls are soaking wet", HazardCategory.DAMP_MOULD),
    ("flat smells musty all the time", HazardCategory.DAMP_MOULD),
    ("the damp was sorted last year but its back", HazardCategory.DAMP_MOULD),
    ("roof leaks every time it rains", HazardCategory.LEAK),
    ("brown stain on the cieling from the flat above", HazardCategory.LEAK),
    ("rain coming in through the bedroom window", HazardCategory.LEAK),
    ("huge crack in the living room wall", HazardCategory.STRUCTURAL),
    ("plaster keeps falling off the ceiling", HazardCategory.STRUCTURAL),
    ("the banister is loose and wobbly", HazardCategory.STRUCTURAL),
    ("ceiling is sagging in the hall", HazardCategory.STRUCTURAL),
    ("theres a hole in the roof", HazardCategory.STRUCTURAL),
    ("the stairs to the flat are crumbling", HazardCategory.STRUCTURAL),
    ("wasps nest in the loft", HazardCategory.PESTS),
    ("rats in the garden and the kitchen", HazardCategory.PESTS),
    ("seen mouse droppings under the sink", HazardCategory.PESTS),
    ("cockroches in the kitchen", HazardCategory.PESTS),
    ("bed bugs in the kids beds", HazardCategory.PESTS),
    ("my back door doesnt close properly", HazardCategory.SECURITY),
    ("window wont shut in the bedroom", HazardCategory.SECURITY),
    ("someone kicked the front door in", HazardCategory.SECURITY),
    ("we have been burgled", HazardCategory.SECURITY),
]


@pytest.mark.parametrize(("text", "category"), HAZARDS)
def test_each_hazard_is_recognised(text: str, category: HazardCategory) -> None:
    assert [r.category for r in recognise(text)][:1] == [category]
    assert detect_emergency(text) is None


NOT_HAZARDS = [
    "can u come tuesday",
    "my son will let u in, im at work all week",
    "the shower is leaking",
    "ill call u later",
    "im feeling ill",
    "i need a wheelchair ramp",
    "no mould thankfully just the tap",
    "the mould has been sorted thanks",
    "the kitchen cupboard door wont close",
    "bathroom door lock is broken",
    "theres a small crack in the bathroom tiles on the wall",
    "he tracked mud through the flat",
    "im selling the fridge",
    "i have a cold",
    "my mum fell down the stairs last year so she uses a stick",
    "the window cleaner is coming friday",
    "dark marks on the carpet from his boots",
    "he left black marks on the wall with his ladder",
    "we invested in a new sofa",
    "the door bell is broken",
    "back gate wont lock",
]


@pytest.mark.parametrize("text", NOT_HAZARDS)
def test_everyday_messages_are_not_hazards(text: str) -> None:
    assert recognise(text) == ()


@pytest.mark.parametrize(
    "text",
    [
        "the ceiling in the kitchen is coming down",
        "my celing has collapsed",
        "the floor gave way in the hallway",
        "balcony is about to collapse",
    ],
)
def test_structural_collapse_is_an_emergency(text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.hazard == Hazard.STRUCTURAL
    assert found.category == HazardCategory.STRUCTURAL


def test_water_in_the_lights_is_an_emergency() -> None:
    found = detect_emergency("water coming out of the light fitting in the hall")
    assert found is not None and found.category == HazardCategory.LEAK


def test_health_risk_is_read_from_who_is_affected() -> None:
    (plain,) = recognise("mould in the bathroom")
    (child,) = recognise("mould in my daughters room")
    (ill,) = recognise("the damp is making me ill")
    (pregnant,) = recognise("im pregnant and theres mould in the bedroom")
    assert not plain.health_risk and not plain.urgent
    assert child.health_risk and ill.health_risk and pregnant.health_risk


def test_misspellings_are_read_as_the_word() -> None:
    assert normalise("Cieling CELLING mouuuld") == "ceiling ceiling mould"
    assert normalise("dripping") == "driping"  # not corrected to a different word


@pytest.mark.parametrize("category", list(HazardCategory))
def test_replies_fit_one_segment(category: HazardCategory) -> None:
    replies = [
        words.logged([(category, "ceiling")], urgent=True),
        words.logged([(category, "")], urgent=False),
        words.on_record([(category, "rats", "RQ-261201-12")], health_noted=True),
        words.on_record([(category, "", "RQ-261201-12")], health_noted=False),
    ]
    advice = [
        words.advice(category, health_risk=risk, emergency_phone="0800 123 4567")
        for risk in (True, False)
    ]
    for reply in [*replies, *(a for a in advice if a is not None)]:
        cost = sms_cost(reply.text)
        assert (cost.encoding, cost.segments) == ("GSM-7", 1), reply.text


# --- The step, read directly (intents as the interpreter might read them) ---------------

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LANDLORD = LandlordView(name="Leeds Homes", phone="0113 000 0000", emergency_phone="0800 1")
DAMP_JOB = JobView(7, "RH-7", "Damp patch on the bedroom ceiling", "open")


def _ctx(*jobs: JobView, hazard_jobs: tuple[JobView, ...] = ()) -> StepContext:
    resident = ResidentView(id=1, name="Gareth Hughes", open_jobs=jobs, hazard_jobs=hazard_jobs)
    return StepContext(landlord=LANDLORD, resident=resident, now=NOW, zone=LONDON)


def _said(text: str, intent: str = "out_of_scope", confidence: float = 0.5) -> FlowInput:
    parse = ParseResult(text=text, intent=IntentScore(intent, confidence))
    return FlowInput(text=text, parse=parse, at=NOW)


def test_a_sure_door_check_that_mentions_the_damp_is_left_to_the_door_check() -> None:
    said = _said("man at the door says hes from the council about the damp", "verify_operative", 1)
    assert hazards.answer(IDLE, said, _ctx()) is None


def test_a_hazard_misread_as_other_business_is_still_raised() -> None:
    said = _said("black spots all over the bedroom ceiling", "give_feedback", 0.71)
    result = hazards.answer(IDLE, said, _ctx())
    assert result is not None
    (report,) = [a for a in result.actions if isinstance(a, ReportRepair)]
    assert report.hazard == HazardCategory.DAMP_MOULD
    assert result.state == IDLE  # whatever they were doing carries on


def test_a_question_about_the_visit_for_a_known_hazard_goes_to_the_flows() -> None:
    said = _said("when are u coming about the damp", "ask_appointment", 0.99)
    assert hazards.answer(IDLE, said, _ctx(DAMP_JOB)) is None
    # The same words without a job about damp: a new report, raised.
    assert hazards.answer(IDLE, said, _ctx()) is not None


def test_a_triage_hazard_job_is_on_record_even_when_asked_as_a_booking() -> None:
    triage = JobView(9, "RQ-261201-1", "mould", "triage", hazard_category="damp_mould")
    said = _said("can someone come and look at the mould", "book_visit", 0.97)
    result = hazards.answer(IDLE, said, _ctx(hazard_jobs=(triage,)))
    assert result is not None and not result.actions
    assert "RQ-261201-1" in result.replies[0].text


def test_a_hazard_is_never_read_as_an_access_need() -> None:
    need = _said("the mould in the kids room, my son has asthma", "inform_access_needs", 1.0)
    assert access.read_answer(need, _ctx()).need is False
    real = _said("my son has asthma so pls no dust", "inform_access_needs", 1.0)
    assert access.read_answer(real, _ctx()).need is True


@pytest.mark.parametrize(
    "text",
    ["stinks of gas in my kitchen", "it smells really strongly of gas", "whiff of gas in the hall"],
)
def test_gas_said_every_way_is_a_gas_emergency(text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.hazard == Hazard.GAS
    assert found.category == HazardCategory.GAS


def test_the_gas_bill_is_not_an_emergency() -> None:
    assert detect_emergency("the gas bill is too high") is None
