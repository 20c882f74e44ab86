"""Demo data: one landlord's small world, enough to try every conversation.

Everyone here is invented. Mobile numbers are from `phonenumbers`' example range
(+447400123456 upward) because Ofcom's drama numbers are not valid mobiles to it; the
operative photos are generated illustrations, not people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from flows.codes import new_visit_code
from flows.local_time import LONDON
from flows.windows import DEFAULT_WINDOWS, window_named
from storage.db import Database
from storage.enums import (
    AccessNeedCategory,
    AppointmentStatus,
    Channel,
    Direction,
    JobPriority,
    JobStatus,
    Nation,
    Trade,
)
from storage.models import (
    DEFAULT_CONTACT_HOURS,
    AccessNeed,
    Appointment,
    Availability,
    Contractor,
    Feedback,
    Landlord,
    Message,
    Operative,
    Property,
    RepairJob,
    Resident,
)
from storage.phones import normalise_uk_mobile
from storage.repositories import landlords
from storage.repositories.people import primary_landlord

CODE_OF_CONDUCT = (
    "Our operatives will: arrive in the agreed window or tell you if they are running late; "
    "show photo ID and say your visit code before you let them in; ask before using your "
    "toilet, kitchen or other facilities; wear shoe covers and protect your floors; leave your "
    "home clean and tidy; treat you and your household with respect; and respect the access "
    "needs you have asked us to share."
)
COMPENSATION = (
    "If we miss an agreed appointment without telling you at least 24 hours before, we pay "
    "you 20 pounds, and 10 pounds more for each further missed appointment for the same repair."
)


@dataclass(frozen=True, slots=True)
class DemoResident:
    name: str
    mobile: str
    town: str
    needs: tuple[tuple[AccessNeedCategory, str, bool], ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()


DEMO_RESIDENTS: tuple[DemoResident, ...] = (
    DemoResident(
        "Margaret Okafor",
        "+447400123456",
        "leeds",
        ((AccessNeedCategory.WHEELCHAIR, "I use a wheelchair, please use the side ramp", True),),
    ),
    DemoResident(
        "David Price",
        "+447400123457",
        "cardiff",
        ((AccessNeedCategory.HEARING, "I am deaf, please text me, do not ring", True),),
    ),
    DemoResident(
        "Aisha Rahman",
        "+447400123458",
        "leeds",
        ((AccessNeedCategory.PET, "I have a big dog, I will shut him in the kitchen", True),),
    ),
    DemoResident(
        "Tomasz Nowak",
        "+447400123459",
        "leeds",
        (
            (
                AccessNeedCategory.INTERPRETER,
                "I need a Polish interpreter for anything complicated",
                True,
            ),
        ),
        (("language", "pl"),),
    ),
    DemoResident(
        "Kelly Morgan",
        "+447400123460",
        "swansea",
        ((AccessNeedCategory.SLEEP_HOURS, "I work nights, no visits before 12 please", True),),
        (("contact_hours", {"weekday": ["12:00", "20:00"]}),),
    ),
    DemoResident(
        "Arthur Bennett",
        "+447400123461",
        "leeds",
        ((AccessNeedCategory.MOBILITY, "I am slow to get to the door, please wait", False),),
        (
            ("nominee_name", "Susan Bennett"),
            ("nominee_phone", "+447400123470"),
            ("nominee_relationship", "daughter"),
        ),
    ),
    DemoResident("Priya Shah", "+447400123462", "leeds", (), (("sms_opted_out", True),)),
    DemoResident(
        "Gareth Hughes",
        "+447400123463",
        "cardiff",
        (),
        (("telegram_id", 700000001), ("preferred_channel", Channel.TELEGRAM)),
    ),
)

_ADDRESSES = {
    "leeds": ("Flat {n}, Aire Court, Kirkstall Road, Leeds", "LS3 1{n}AB", Nation.ENGLAND),
    "cardiff": ("{n} Heol y Castell, Cardiff", "CF10 {n}BD", Nation.WALES),
    "swansea": ("{n} Mumbles Road, Swansea", "SA3 {n}DE", Nation.WALES),
}

_JOBS = (
    ("Kitchen tap dripping constantly", Trade.PLUMBING),
    ("Bathroom extractor fan not working", Trade.ELECTRICAL),
    ("Back door sticks and will not lock", Trade.CARPENTRY),
    ("Radiator in bedroom cold at the top", Trade.PLUMBING),
    ("Loose socket in the living room", Trade.ELECTRICAL),
    ("Kitchen cupboard door hanging off", Trade.CARPENTRY),
    ("Toilet cistern keeps running", Trade.PLUMBING),
    ("Damp patch on the bedroom ceiling", Trade.GENERAL),
)

#: The demo landlord's reference (`doorstep api-keys create --landlord demo`).
DEMO_LANDLORD = "demo"

_OPERATIVES = (
    ("Sam Carter", "55101", 0, [Trade.PLUMBING, Trade.GAS]),
    ("Ravi Patel", "55102", 0, [Trade.PLUMBING, Trade.GENERAL]),
    ("Jo Williams", "55103", 1, [Trade.ELECTRICAL]),
    ("Dan Evans", "55104", 1, [Trade.CARPENTRY, Trade.GENERAL]),
    ("Lena Kowalska", "55105", 1, [Trade.ELECTRICAL, Trade.CARPENTRY]),
)


def load_demo(
    db: Database, *, now: datetime, public_base_url: str = "http://127.0.0.1:8000"
) -> bool:
    """Load the demo world into an empty database. Returns False if it already has a landlord."""
    with db.session() as session:
        if primary_landlord(session) is not None:
            return False
        _load(session, now=now, public_base_url=public_base_url.rstrip("/"))
    return True


def holds_only_demo_data(db: Database) -> bool:
    """Whether every landlord in the database is the demo's (or there is none): only then
    may `doorstep demo reset` empty it."""
    with db.session() as session:
        # References are unique, so a second landlord is always someone else's.
        found = landlords.listing(session, limit=2)
        return all(landlord.reference == DEMO_LANDLORD for landlord in found)


def _load(session: Session, *, now: datetime, public_base_url: str) -> None:
    rng = random.Random(20261201)  # fixed: the demo is the same on every machine
    landlord = Landlord(
        reference=DEMO_LANDLORD,
        name="Riverside Homes",
        phone="0300 555 0140",
        emergency_phone="0300 555 0199",
        contact_hours=DEFAULT_CONTACT_HOURS,
        code_of_conduct_text=CODE_OF_CONDUCT,
        code_of_conduct_url=f"{public_base_url}/code-of-conduct",
        compensation_policy=COMPENSATION,
        created_at=now,
    )
    session.add(landlord)
    session.flush()
    assert landlord.id is not None

    contractors = [
        Contractor(landlord_id=landlord.id, name="Brightwater Plumbing Ltd", phone="0113 496 0000"),
        Contractor(landlord_id=landlord.id, name="Castle Building Services", phone="029 2018 0000"),
    ]
    session.add_all(contractors)
    session.flush()
    operatives = []
    for i, (name, badge, contractor, trades) in enumerate(_OPERATIVES, start=1):
        contractor_id = contractors[contractor].id
        assert contractor_id is not None
        operatives.append(
            Operative(
                landlord_id=landlord.id,
                reference=f"OP-{badge}",
                contractor_id=contractor_id,
                name=name,
                badge_number=badge,
                photo_path=f"operative-{i}.png",
                trades=[t.value for t in trades],
            )
        )
    session.add_all(operatives)
    session.flush()

    today = now.astimezone(LONDON).date()
    residents = []
    for n, demo in enumerate(DEMO_RESIDENTS, start=1):
        line, postcode, nation = _ADDRESSES[demo.town]
        home = Property(
            landlord_id=landlord.id,
            reference=f"PR-{1000 + n}",
            address=line.format(n=n),
            postcode=postcode.format(n=n),
            nation=nation,
        )
        session.add(home)
        session.flush()
        extra = dict(demo.extra)
        resident = Resident(
            landlord_id=landlord.id,
            reference=f"TN-{2000 + n}",
            property_id=home.id,
            name=demo.name,
            mobile=normalise_uk_mobile(demo.mobile),
            language=str(extra.get("language", "en")),
            preferred_channel=extra.get("preferred_channel", Channel.SMS),
            telegram_id=extra.get("telegram_id"),
            contact_hours=extra.get("contact_hours", {}),
            nominee_name=extra.get("nominee_name"),
            nominee_phone=extra.get("nominee_phone"),
            nominee_relationship=extra.get("nominee_relationship"),
            sms_opted_out_at=now - timedelta(days=20) if extra.get("sms_opted_out") else None,
            created_at=now - timedelta(days=400),
        )
        session.add(resident)
        session.flush()
        assert resident.id is not None and home.id is not None
        residents.append(resident)
        for category, words, consent in demo.needs:
            session.add(
                AccessNeed(
                    resident_id=resident.id,
                    category=category,
                    own_words=words,
                    consent_to_share=consent,
                    recorded_at=now - timedelta(days=60),
                    review_by=today + timedelta(days=300),
                    source="staff (phone call)",
                )
            )
        description, trade = _JOBS[(n - 1) % len(_JOBS)]
        session.add(
            RepairJob(
                landlord_id=landlord.id,
                reference=f"RH-{10420 + n}",
                property_id=home.id,
                resident_id=resident.id,
                description=description,
                trade=trade,
                priority=JobPriority.ROUTINE,
                status=JobStatus.OPEN,
                history=[{"at": (now - timedelta(days=3)).isoformat(), "event": "reported"}],
                created_at=now - timedelta(days=3),
            )
        )

    # Two weeks of availability from tomorrow, Monday to Saturday.
    for offset in range(1, 15):
        day = today + timedelta(days=offset)
        if day.weekday() == 6:
            continue
        for operative in operatives:
            assert operative.id is not None
            for window in DEFAULT_WINDOWS:
                session.add(
                    Availability(operative_id=operative.id, day=day, window=window.name, capacity=2)
                )

    _past_visits(session, residents, operatives, now=now, rng=rng)
    session.flush()


def _past_visits(
    session: Session,
    residents: list[Resident],
    operatives: list[Operative],
    *,
    now: datetime,
    rng: random.Random,
) -> None:
    """Completed visits with feedback and the conversation that collected it."""
    stories = (
        (0, 0, 5, (True, True, True, True), "Sam was lovely and very tidy, thank you"),
        (2, 1, 2, (True, False, False, True), "He used the toilet without asking and left mud"),
        (4, 2, 4, (True, True, True, True), None),
    )
    for resident_index, operative_index, rating, conduct, comment in stories:
        resident = residents[resident_index]
        operative = operatives[operative_index]
        assert resident.id is not None and resident.property_id is not None
        assert operative.id is not None and resident.mobile is not None
        day = (now - timedelta(days=10 + resident_index)).astimezone(LONDON).date()
        window = window_named("morning")
        starts, ends = window.bounds(day)
        job = RepairJob(
            landlord_id=resident.landlord_id,
            reference=f"RH-{10300 + resident_index}",
            property_id=resident.property_id,
            resident_id=resident.id,
            description="Leaking pipe under the kitchen sink",
            trade=Trade.PLUMBING,
            status=JobStatus.COMPLETED,
            history=[{"at": starts.isoformat(), "event": "completed"}],
            created_at=starts - timedelta(days=7),
        )
        session.add(job)
        session.flush()
        assert job.id is not None
        appointment = Appointment(
            job_id=job.id,
            operative_id=operative.id,
            day=day,
            window=window.name,
            starts_at=starts,
            ends_at=ends,
            status=AppointmentStatus.COMPLETED,
            version=1,
            visit_code=new_visit_code(rng),
            created_at=starts - timedelta(days=5),
            updated_at=ends,
        )
        session.add(appointment)
        session.flush()
        assert appointment.id is not None
        showed_id, asked, tidy, respectful = conduct
        flagged = rating <= 2 or not all(conduct)
        asked_at = ends + timedelta(hours=2)
        session.add(
            Feedback(
                appointment_id=appointment.id,
                resident_id=resident.id,
                rating=rating,
                showed_id=showed_id,
                asked_before_facilities=asked,
                left_tidy=tidy,
                respectful=respectful,
                comment=comment,
                flagged=flagged,
                created_at=asked_at,
                completed_at=asked_at + timedelta(minutes=6),
            )
        )
        lines = [
            (
                Direction.OUTBOUND,
                "How did the repair visit go? Reply with a number from 1 (poor) to 5 (very good).",
            ),
            (Direction.INBOUND, str(rating)),
            (Direction.OUTBOUND, "Did they show you their ID? 1 Yes 2 No"),
            (Direction.INBOUND, "1" if showed_id else "2"),
            (Direction.OUTBOUND, "Did they ask before using your facilities? 1 Yes 2 No"),
            (Direction.INBOUND, "1" if asked else "2"),
            (Direction.OUTBOUND, "Did they leave your home clean and tidy? 1 Yes 2 No"),
            (Direction.INBOUND, "1" if tidy else "2"),
            (Direction.OUTBOUND, "Did they treat you with respect? 1 Yes 2 No"),
            (Direction.INBOUND, "1" if respectful else "2"),
            (Direction.OUTBOUND, "Anything else you want to tell us? Reply 0 to skip."),
            (Direction.INBOUND, comment or "0"),
        ]
        for i, (direction, text) in enumerate(lines):
            session.add(
                Message(
                    direction=direction,
                    channel=Channel.SMS,
                    address=resident.mobile,
                    text=text,
                    channel_message_id=f"demo-{appointment.id}-{i}"
                    if direction == Direction.INBOUND
                    else None,
                    created_at=asked_at + timedelta(minutes=i // 2),
                    processed_at=asked_at + timedelta(minutes=i // 2),
                    appointment_id=appointment.id,
                    resident_id=resident.id,
                )
            )
