"""A planning pass reads the live visits, not the history (issue 16).

The pass lists the live visits once and plans them a chunk at a time: visits long over
(even one left "booked") get nothing, and a resident's next visit is known across chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.outbound.planning import plan
from storage.db import Database
from storage.enums import AccessNeedCategory, AppointmentStatus
from storage.models import AccessNeed, Appointment, OutboxMessage, Resident

MARGARET = "+447400123456"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MakeVisit = Callable[..., int]  # the make_visit fixture (conftest.py)


def _set_status(db: Database, appointment_id: int, status: AppointmentStatus) -> None:
    with db.session() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        appointment.status = status
        session.add(appointment)


def _keys(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.exec(select(OutboxMessage.idempotency_key)).all())


def test_only_live_visits_are_planned_and_the_next_visit_is_known_across_chunks(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    stale = make_visit(date(2025, 6, 3))  # never closed: still "booked" a year and a half on
    done_long_ago = make_visit(date(2025, 7, 1))
    _set_status(demo_db, done_long_ago, AppointmentStatus.COMPLETED)
    first = make_visit(date(2026, 12, 2))
    second = make_visit(date(2026, 12, 9))
    with demo_db.session() as session:
        margaret = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        assert margaret.id is not None
        session.add(
            AccessNeed(
                resident_id=margaret.id,
                category=AccessNeedCategory.MOBILITY,
                own_words="I use a walking frame",
                recorded_at=datetime(2025, 11, 1, tzinfo=UTC),
                review_by=date(2026, 11, 1),
            )
        )

    stats = plan(demo_db, now=NOW, chunk=1)  # each visit in a chunk of its own

    keys = _keys(demo_db)
    assert {k for k in keys if k.startswith((f"{stale}:", f"{done_long_ago}:"))} == set()
    assert {f"{first}:1:reminder_evening", f"{first}:1:reminder_morning"} <= keys
    assert {f"{second}:1:reminder_evening", f"{second}:1:reminder_morning"} <= keys
    # The review prompt is for the resident's next visit only, though it sat in another chunk.
    assert f"{first}:1:needs_review" in keys
    assert f"{second}:1:needs_review" not in keys
    again = plan(demo_db, now=NOW, chunk=1)
    assert (again.planned, again.already_planned) == (0, stats.planned)
