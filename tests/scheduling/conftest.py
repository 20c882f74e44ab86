"""Visits on chosen days for the scheduling tests, on the demo data.

A visit is made the way the booking flow makes one (a job, an appointment at version 1,
a "booked" event) but on any day, so tests can sit on clock changes and bank holidays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from flows.windows import window_named
from storage.db import Database
from storage.enums import AppointmentStatus, Channel, Nation
from storage.models import Appointment, AppointmentEvent, Operative, Property, RepairJob, Resident

MARGARET = "+447400123456"
BOOKED_AT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
MakeVisit = Callable[..., int]


@pytest.fixture
def make_visit(demo_db: Database) -> MakeVisit:
    def make(
        day: date,
        *,
        phone: str = MARGARET,
        window: str = "morning",
        booked_at: datetime = BOOKED_AT,
        nation: Nation | None = None,
    ) -> int:
        with demo_db.session() as session:
            resident = session.exec(select(Resident).where(Resident.mobile == phone)).one()
            operative = session.exec(select(Operative).order_by(Operative.id)).first()  # type: ignore[arg-type]
            assert resident.id is not None and resident.property_id is not None
            assert operative is not None and operative.id is not None
            if nation is not None:
                home = session.get(Property, resident.property_id)
                assert home is not None
                home.nation = nation
                session.add(home)
            resident.preferred_channel = Channel.SMS
            session.add(resident)
            count = len(session.exec(select(RepairJob.id)).all())
            job = RepairJob(
                landlord_id=resident.landlord_id,
                reference=f"RT-{20000 + count}",
                property_id=resident.property_id,
                resident_id=resident.id,
                description="Kitchen tap dripping",
                created_at=booked_at,
            )
            session.add(job)
            session.flush()
            assert job.id is not None
            starts, ends = window_named(window).bounds(day)
            appointment = Appointment(
                job_id=job.id,
                operative_id=operative.id,
                day=day,
                window=window,
                starts_at=starts,
                ends_at=ends,
                status=AppointmentStatus.BOOKED,
                visit_code="4821",
                created_at=booked_at,
                updated_at=booked_at,
            )
            session.add(appointment)
            session.flush()
            assert appointment.id is not None
            session.add(
                AppointmentEvent(
                    appointment_id=appointment.id, kind="booked", at=booked_at, actor="resident"
                )
            )
            return appointment.id

    return make
