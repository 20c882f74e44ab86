"""The staff's unbooked list (issue 14, item 3): the landlord's jobs the resident did not
book after an invite and a follow-up, could not be sent a message about, or emergencies.
Every role reads it; it pages by job id; a job booked meanwhile leaves it."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import select
from staff.helpers import SignedIn

from bot.outbound.planning import plan
from flows.codes import new_visit_code
from flows.windows import window_named
from storage.db import Database
from storage.enums import JobPriority, JobStatus, StaffRole
from storage.models import Availability, Property, RepairJob, Resident
from storage.repositories.booking import book_appointment

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MARGARET = "+447400123456"
SignIn = Callable[[StaffRole], SignedIn]
_ROW = re.compile(r"<tr>\s*<td><strong>([^<]+)</strong>")


def add_jobs(
    db: Database,
    count: int,
    *,
    listed: bool = True,
    priority: JobPriority = JobPriority.ROUTINE,
    first: int = 1,
) -> list[int]:
    """Margaret's jobs from the landlord's system, invited on Monday 23 Nov and followed up."""
    invited = MONDAY - timedelta(days=7)
    with db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        assert resident.property_id is not None
        ids = []
        for n in range(first, first + count):
            job = RepairJob(
                landlord_id=resident.landlord_id,
                reference=f"HMS-{n:05d}",
                property_id=resident.property_id,
                resident_id=resident.id,
                description=f"Repair number {n}",
                priority=priority,
                status=JobStatus.OPEN,
                source_hash="b" * 64,
                invited_at=invited,
                invite_followed_up_at=invited + timedelta(days=2) if listed else None,
                unbooked_listed_at=invited + timedelta(days=4) if listed else None,
                created_at=invited,
            )
            session.add(job)
            session.flush()
            assert job.id is not None
            ids.append(job.id)
        return ids


def references(html: str) -> list[str]:
    return _ROW.findall(html)


def test_every_role_sees_the_listed_jobs_with_what_staff_need(
    client: TestClient, signed_in: SignIn, staff_users: Database
) -> None:
    add_jobs(staff_users, 1)
    add_jobs(staff_users, 1, listed=False, first=2)  # invited, not yet followed up
    with staff_users.session() as session:
        home = session.exec(select(Property).join(Resident).where(Resident.mobile == MARGARET))
        address = home.one().address
    for role in StaffRole:
        signed_in(role)
        page = client.get("/staff/unbooked")
        assert page.status_code == 200
        html = page.text
        assert references(html) == ["HMS-00001"]
        assert "Repair number 1" in html and address in html and "Margaret Okafor" in html
        assert "routine" in html
        assert "Mon 23 Nov 2026 09:00" in html  # invited
        assert "Wed 25 Nov 2026 09:00" in html  # reminded
        assert '<a href="/staff/unbooked">Unbooked</a>' in html  # in the navigation


def test_signed_out_is_sent_to_sign_in(client: TestClient, staff_users: Database) -> None:
    client.cookies.clear()
    page = client.get("/staff/unbooked", follow_redirects=False)
    assert page.status_code in (302, 303)
    assert "/staff/login" in page.headers["location"]


def test_pages_by_job_id(client: TestClient, signed_in: SignIn, staff_users: Database) -> None:
    add_jobs(staff_users, 53)
    signed_in(StaffRole.VIEWER)
    first = client.get("/staff/unbooked").text
    shown = references(first)
    assert shown == [f"HMS-{n:05d}" for n in range(1, 51)]
    found = re.search(r'href="/staff/unbooked\?after=(\d+)">Next page', first)
    assert found
    second = client.get(f"/staff/unbooked?after={found.group(1)}").text
    assert references(second) == ["HMS-00051", "HMS-00052", "HMS-00053"]
    assert "Next page" not in second and "First page" in second
    assert client.get("/staff/unbooked?after=-1").status_code == 400


def test_a_job_booked_meanwhile_leaves_the_list(
    client: TestClient, signed_in: SignIn, staff_users: Database
) -> None:
    first, _ = add_jobs(staff_users, 2)
    with staff_users.session() as session:
        job = session.get(RepairJob, first)
        slot = session.exec(select(Availability).order_by(Availability.id)).first()  # type: ignore[arg-type]
        assert job is not None and slot is not None
        starts, ends = window_named(slot.window).bounds(slot.day)
        book_appointment(
            session,
            job=job,
            availability=slot,
            starts_at=starts,
            ends_at=ends,
            visit_code=new_visit_code(random.Random(2)),
            now=MONDAY,
        )
    signed_in(StaffRole.STAFF)
    assert references(client.get("/staff/unbooked").text) == ["HMS-00002"]


def test_the_planner_puts_an_unreachable_residents_job_and_an_emergency_on_it(
    client: TestClient, signed_in: SignIn, staff_users: Database
) -> None:
    with staff_users.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        resident.sms_opted_out_at = MONDAY - timedelta(days=1)
        resident.telegram_id = None
        session.add(resident)
    [routine] = add_jobs(staff_users, 1, listed=False)
    [emergency] = add_jobs(staff_users, 1, listed=False, first=2, priority=JobPriority.EMERGENCY)
    with staff_users.session() as session:
        for job_id in (routine, emergency):
            job = session.get(RepairJob, job_id)
            assert job is not None
            job.invited_at = job.invite_followed_up_at = None
            session.add(job)
    signed_in(StaffRole.STAFF)
    assert references(client.get("/staff/unbooked").text) == []
    plan(staff_users, now=MONDAY)
    html = client.get("/staff/unbooked").text
    assert references(html) == ["HMS-00001", "HMS-00002"]
    assert "<strong>emergency</strong>" in html
