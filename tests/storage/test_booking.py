"""Booking the last place in a window is atomic: with many at once, exactly capacity win."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from flows.windows import window_named
from storage.db import Database
from storage.enums import AppointmentStatus, JobStatus
from storage.models import Appointment, Availability, RepairJob, Resident
from storage.repositories.booking import SlotTaken, book_appointment

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _book_concurrently(db: Database, availability_id: int, job_ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(job_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(job_id: int) -> None:
        barrier.wait()
        try:
            with db.session() as session:
                job = session.get(RepairJob, job_id)
                availability = session.get(Availability, availability_id)
                assert job is not None and availability is not None
                start, end = window_named(availability.window).bounds(availability.day)
                book_appointment(
                    session,
                    job=job,
                    availability=availability,
                    starts_at=start,
                    ends_at=end,
                    visit_code="4821",
                    now=NOW,
                )
            result = "booked"
        except SlotTaken:
            result = "taken"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(job_id,)) for job_id in job_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("capacity", [1, 2])
def test_concurrent_bookings_never_exceed_capacity(demo_db: Database, capacity: int) -> None:
    with demo_db.session() as session:
        availability = session.exec(select(Availability).order_by(Availability.id)).first()
        assert availability is not None and availability.id is not None
        availability.capacity = capacity
        session.add(availability)
        job_ids = [
            j.id
            for j in session.exec(select(RepairJob).where(RepairJob.status == JobStatus.OPEN)).all()
        ][:6]
        availability_id = availability.id
    assert len(job_ids) == 6

    outcomes = _book_concurrently(demo_db, availability_id, [j for j in job_ids if j])

    assert outcomes.count("booked") == capacity
    assert outcomes.count("taken") == 6 - capacity
    with demo_db.session() as session:
        availability = session.get(Availability, availability_id)
        appointments = session.exec(
            select(Appointment).where(Appointment.availability_id == availability_id)
        ).all()
        booked_jobs = session.exec(
            select(RepairJob).where(RepairJob.status == JobStatus.BOOKED)
        ).all()
    assert availability is not None and availability.booked == capacity
    assert len(appointments) == capacity
    assert all(a.status == AppointmentStatus.BOOKED and a.version == 1 for a in appointments)
    # the losers' jobs are still open, so they can be offered another window
    assert len(booked_jobs) == capacity


def test_a_full_window_refuses_politely_and_changes_nothing(demo_db: Database) -> None:
    with demo_db.session() as session:
        availability = session.exec(select(Availability)).first()
        job = session.exec(select(RepairJob).where(RepairJob.status == JobStatus.OPEN)).first()
        resident = session.exec(select(Resident)).first()
        assert availability is not None and job is not None and resident is not None
        availability.booked = availability.capacity
        session.add(availability)
    with pytest.raises(SlotTaken), demo_db.session() as session:
        book_appointment(
            session,
            job=job,
            availability=availability,
            starts_at=NOW,
            ends_at=NOW,
            visit_code="4821",
            now=NOW,
        )
    with demo_db.session() as session:
        unchanged = session.get(RepairJob, job.id)
        assert unchanged is not None and unchanged.status == JobStatus.OPEN
        assert session.exec(select(Appointment).where(Appointment.job_id == job.id)).first() is None


def test_demo_availability_starts_tomorrow(demo_db: Database) -> None:
    with demo_db.session() as session:
        days = sorted({a.day for a in session.exec(select(Availability)).all()})
    assert days[0] == date(2026, 12, 1)
    assert days[-1] == date(2026, 12, 14)
    assert all(d.weekday() != 6 for d in days)  # no Sunday visits
