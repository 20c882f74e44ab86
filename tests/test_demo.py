from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlmodel import select

from bot.cli.demo import load_demo
from bot.common.photos import PHOTOS_DIR
from storage.db import Database
from storage.enums import AccessNeedCategory, JobStatus, Nation
from storage.models import (
    AccessNeed,
    Appointment,
    Contractor,
    Feedback,
    Landlord,
    Message,
    Operative,
    Property,
    RepairJob,
    Resident,
)
from storage.phones import is_uk_mobile

MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_demo_loads_once_and_only_into_an_empty_database(demo_db: Database) -> None:
    assert load_demo(demo_db, now=MONDAY_9AM) is False
    with demo_db.session() as session:
        assert len(session.exec(select(Landlord)).all()) == 1
        assert len(session.exec(select(Resident)).all()) == 8


def test_demo_world_has_what_every_conversation_needs(demo_db: Database) -> None:
    with demo_db.session() as session:
        landlord = session.exec(select(Landlord)).one()
        residents = session.exec(select(Resident)).all()
        needs = session.exec(select(AccessNeed)).all()
        nations = {p.nation for p in session.exec(select(Property)).all()}
        operatives = session.exec(select(Operative)).all()
        contractors = session.exec(select(Contractor)).all()
        open_jobs = session.exec(select(RepairJob).where(RepairJob.status == JobStatus.OPEN)).all()
        past = session.exec(select(Appointment)).all()
        feedback = session.exec(select(Feedback)).all()
        transcript = session.exec(select(Message)).all()
    assert landlord.code_of_conduct_text and landlord.code_of_conduct_url
    assert landlord.compensation_policy
    assert all(r.mobile and is_uk_mobile(r.mobile) for r in residents)
    assert {Nation.ENGLAND, Nation.WALES} <= nations
    categories = Counter(n.category for n in needs)
    for needed in (
        AccessNeedCategory.WHEELCHAIR,
        AccessNeedCategory.HEARING,
        AccessNeedCategory.PET,
        AccessNeedCategory.INTERPRETER,
        AccessNeedCategory.SLEEP_HOURS,
    ):
        assert categories[needed] >= 1
    assert any(r.nominee_phone for r in residents)
    assert sum(r.sms_opted_out_at is not None for r in residents) == 1
    assert sum(r.telegram_id is not None for r in residents) == 1
    assert len(contractors) == 2
    assert len(operatives) == 5
    assert len({o.badge_number for o in operatives}) == 5
    for operative in operatives:
        assert operative.photo_path
        assert (PHOTOS_DIR / operative.photo_path).is_file()
    assert len(open_jobs) == 8
    assert len(past) == 3
    assert any(f.flagged for f in feedback)
    assert any(not f.flagged for f in feedback)
    assert sum(1 for m in transcript if m.appointment_id is not None) == 36


def test_the_demo_can_be_loaded_again_after_emptying_the_tables(demo_db: Database) -> None:
    """`doorstep demo reset` on SQLite and PostgreSQL alike: every row goes, the schema stays."""
    from storage.migrate import empty_all_tables

    empty_all_tables(demo_db.url)
    with demo_db.session() as session:
        assert session.exec(select(Landlord)).all() == []
        assert session.exec(select(Message)).all() == []
    assert load_demo(demo_db, now=MONDAY_9AM) is True
    with demo_db.session() as session:
        assert len(session.exec(select(Resident)).all()) == 8
