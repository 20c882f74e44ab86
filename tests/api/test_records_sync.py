"""The upsert core under the API and the CSV import: one bad record never fails the others,
a re-sync of the same records writes nothing, conflicts are found before anything is written."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from api.world import landlord_id, make_key
from sqlmodel import col, select

from bot.common.clock import FixedClock
from bot.integration.sync import RecordKind, RecordOutcome, upsert_batch, validate
from storage.db import Database
from storage.models import Availability, Contractor, Operative, Property, RepairJob, Resident


def _property(ref: str, **extra: Any) -> dict[str, Any]:
    return {
        "reference": ref,
        "address_line_1": f"{ref} Mill Lane",
        "town_or_city": "Leeds",
        "postcode": "ls6 2ab",
    } | extra


def _resident(ref: str, mobile: str, prop: str = "P-1", **extra: Any) -> dict[str, Any]:
    return {"reference": ref, "name": f"Resident {ref}", "mobile": mobile, "property": prop} | extra


def _sync(
    db: Database, clock: FixedClock, kind: RecordKind, records: list[Any], landlord: str = "demo"
) -> list[RecordOutcome]:
    lid = landlord_id(db, landlord)
    with db.session() as session:
        outcomes = upsert_batch(
            session, landlord_id=lid, kind=kind, records=records, now=clock.now()
        )
        session.commit()
    return outcomes


def _statuses(outcomes: list[RecordOutcome]) -> list[str]:
    return [o.status for o in outcomes]


def test_validate_is_pure_and_names_fields() -> None:
    model, errors = validate(RecordKind.PROPERTIES, _property("P-1", colour="red", uprn="12x"))
    assert model is None
    assert {(e.field, e.reason) for e in errors} >= {("colour", "extra fields not permitted")}
    assert "uprn" in {e.field for e in errors}
    model, errors = validate(RecordKind.PROPERTIES, _property("P-1"))
    assert errors == () and model is not None
    assert model.postcode == "LS6 2AB"  # type: ignore[attr-defined]


def test_properties_created_then_unchanged_then_updated(
    demo_db: Database, clock: FixedClock
) -> None:
    batch = [_property(f"P-{n}") for n in range(5)]
    assert _statuses(_sync(demo_db, clock, RecordKind.PROPERTIES, batch)) == ["created"] * 5
    assert _statuses(_sync(demo_db, clock, RecordKind.PROPERTIES, batch)) == ["unchanged"] * 5
    batch[2] = _property("P-2", address_line_2="Headingley", uprn="100023336956")
    assert _statuses(_sync(demo_db, clock, RecordKind.PROPERTIES, batch)) == (
        ["unchanged"] * 2 + ["updated"] + ["unchanged"] * 2
    )
    with demo_db.session() as session:
        home = session.exec(select(Property).where(Property.reference == "P-2")).one()
        assert home.address == "P-2 Mill Lane, Headingley, Leeds"
        assert home.postcode == "LS6 2AB" and home.uprn == "100023336956"


def test_one_bad_record_never_fails_the_others(demo_db: Database, clock: FixedClock) -> None:
    batch = [
        _property("P-1"),
        _property("P-2", postcode="not a postcode"),
        _property("P-3"),
        _property("P-1"),  # the same reference again
        "not an object",
    ]
    outcomes = _sync(demo_db, clock, RecordKind.PROPERTIES, batch)
    assert _statuses(outcomes) == ["created", "invalid", "created", "invalid", "invalid"]
    assert outcomes[1].reference == "P-2" and outcomes[1].errors[0].field == "postcode"
    assert outcomes[3].errors[0].field == "reference"
    with demo_db.session() as session:
        refs = session.exec(select(Property.reference).where(col(Property.reference).like("P-%")))
        assert sorted(refs) == ["P-1", "P-3"]


def test_residents_resolve_properties_and_mobiles_are_unique(
    demo_db: Database, clock: FixedClock
) -> None:
    make_key(demo_db, clock, "acme")  # a second landlord
    _sync(demo_db, clock, RecordKind.PROPERTIES, [_property("P-1")])
    _sync(demo_db, clock, RecordKind.PROPERTIES, [_property("P-9")], landlord="acme")
    outcomes = _sync(
        demo_db,
        clock,
        RecordKind.RESIDENTS,
        [
            _resident("R-1", "07400 555001", door_password="bluebell"),
            _resident("R-2", "07400 555001"),  # same mobile in one batch
            _resident("R-3", "01132 496000"),  # a landline
            _resident("R-4", "07400 555004", prop="P-9"),  # acme's property
        ],
    )
    assert _statuses(outcomes) == ["created", "conflict", "invalid", "invalid"]
    assert outcomes[2].errors[0].field == "mobile"
    assert outcomes[3].errors[0].field == "property"
    # Another landlord cannot take the mobile either, and is not told whose it is.
    _sync(demo_db, clock, RecordKind.PROPERTIES, [_property("P-1")], landlord="acme")
    taken = _sync(demo_db, clock, RecordKind.RESIDENTS, [_resident("A-1", "+447400555001")], "acme")
    assert taken[0].status == "conflict" and "demo" not in taken[0].errors[0].reason
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.reference == "R-1")).one()
        assert resident.mobile == "+447400555001"
        assert resident.door_password_hash and "bluebell" not in resident.door_password_hash
    again = _sync(
        demo_db,
        clock,
        RecordKind.RESIDENTS,
        [_resident("R-1", "07400 555001", door_password="bluebell")],
    )
    assert _statuses(again) == ["unchanged"]
    changed = _sync(
        demo_db,
        clock,
        RecordKind.RESIDENTS,
        [_resident("R-1", "07400 555001", door_password="rose")],
    )
    assert _statuses(changed) == ["updated"]


def test_operatives_employers_and_badges(demo_db: Database, clock: FixedClock) -> None:
    def op(ref: str, badge: str, **extra: Any) -> dict[str, Any]:
        return {
            "reference": ref,
            "name": f"Operative {ref}",
            "employer": "Price Plumbing Ltd",
            "badge_number": badge,
            "trades": ["plumbing", "gas"],
        } | extra

    outcomes = _sync(
        demo_db,
        clock,
        RecordKind.OPERATIVES,
        [op("O-1", "B-1"), op("O-2", "B-1"), op("O-3", "B-3", trades=["juggling"])],
    )
    assert _statuses(outcomes) == ["created", "conflict", "invalid"]
    assert outcomes[2].errors[0].field.startswith("trades")
    assert _statuses(_sync(demo_db, clock, RecordKind.OPERATIVES, [op("O-1", "B-1")])) == [
        "unchanged"
    ]
    with demo_db.session() as session:
        row = session.exec(select(Operative).where(Operative.reference == "O-1")).one()
        employer = session.get(Contractor, row.contractor_id)
        assert employer is not None and employer.name == "Price Plumbing Ltd"
        assert row.trades == ["gas", "plumbing"]


def test_jobs_and_windows(demo_db: Database, clock: FixedClock) -> None:
    _sync(demo_db, clock, RecordKind.PROPERTIES, [_property("P-1")])
    _sync(demo_db, clock, RecordKind.RESIDENTS, [_resident("R-1", "07400555001")])
    job = {
        "reference": "J-1",
        "property": "P-1",
        "resident": "R-1",
        "trade": "plumbing",
        "description": "Tap drips",
        "priority": "urgent",
        "hazard_category": "leak",
        "raised_at": "2026-11-30T08:00:00+00:00",
        "target_date": "2026-12-10",
    }
    outcomes = _sync(
        demo_db,
        clock,
        RecordKind.JOBS,
        [job, job | {"reference": "J-2", "raised_at": "2026-11-30T08:00:00"}],
    )
    assert _statuses(outcomes) == ["created", "invalid"]
    assert outcomes[1].errors[0].field == "raised_at"
    assert _statuses(_sync(demo_db, clock, RecordKind.JOBS, [job])) == ["unchanged"]
    with demo_db.session() as session:
        row = session.exec(select(RepairJob).where(RepairJob.reference == "J-1")).one()
        assert row.status == "open" and row.invited_at is None
        assert row.target_date == date(2026, 12, 10)

    _sync(
        demo_db,
        clock,
        RecordKind.OPERATIVES,
        [
            {
                "reference": "O-1",
                "name": "Dave",
                "employer": "Price",
                "badge_number": "B-77",
                "trades": ["plumbing"],
            }
        ],
    )
    day = (clock.now() + timedelta(days=2)).date().isoformat()
    windows = [
        {"operative": "O-1", "date": day, "window": "morning", "capacity": 2},
        {"operative": "O-1", "date": day, "window": "afternoon", "capacity": -1},
        {"operative": "O-1", "date": day, "window": "evening", "capacity": 1},
    ]
    outcomes = _sync(demo_db, clock, RecordKind.WINDOWS, windows)
    assert _statuses(outcomes) == ["created", "invalid", "invalid"]
    assert outcomes[0].reference == f"O-1/{day}/morning"
    assert [o.errors[0].field for o in outcomes[1:]] == ["capacity", "window"]
    with demo_db.session() as session:
        dave = session.exec(select(Operative).where(Operative.reference == "O-1")).one()
        mine = session.exec(select(Availability).where(Availability.operative_id == dave.id)).all()
        assert [(s.day.isoformat(), s.window, s.capacity) for s in mine] == [(day, "morning", 2)]
        mine[0].booked = 2
        session.add(mine[0])
        session.commit()
    lower = _sync(demo_db, clock, RecordKind.WINDOWS, [windows[0] | {"capacity": 1}])
    assert lower[0].status == "conflict" and lower[0].errors[0].field == "capacity"
    assert _statuses(_sync(demo_db, clock, RecordKind.WINDOWS, [windows[0]])) == ["unchanged"]
    assert _statuses(_sync(demo_db, clock, RecordKind.WINDOWS, [windows[0] | {"capacity": 3}])) == [
        "updated"
    ]


def test_the_first_of_two_records_with_one_reference_wins_even_when_unchanged(
    demo_db: Database, clock: FixedClock
) -> None:
    _sync(demo_db, clock, RecordKind.PROPERTIES, [_property("P-1")])
    outcomes = _sync(
        demo_db,
        clock,
        RecordKind.PROPERTIES,
        [_property(" P-1", address_line_1="New Road"), _property("P-1")],
    )
    assert _statuses(outcomes) == ["updated", "invalid"]
    assert outcomes[1].errors[0].field == "reference"
    with demo_db.session() as session:
        home = session.exec(select(Property).where(Property.reference == "P-1")).one()
        assert home.address.startswith("New Road")
