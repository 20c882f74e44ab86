"""Formal complaints by text: asked for in words, logged with a landlord-style reference."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from simphone import Phone
from storage.db import Database
from storage.enums import TaskKind
from storage.models import Complaint, StaffTask


def _complaints(client: TestClient) -> list[Complaint]:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        return list(session.exec(select(Complaint)).all())


def test_asking_how_to_complain_asks_what_happened_first(phone: Phone, client: TestClient) -> None:
    phone.say("hiya how do i put a complaint in then")
    assert "in your own words" in phone.pop_text()
    assert _complaints(client) == []
    phone.say("the bloke who came last time was rude to me and left mud all over my hall carpet")
    logged = phone.pop_text()
    (complaint,) = _complaints(client)
    assert complaint.id is not None
    assert complaint.text.startswith("the bloke who came last time was rude")
    assert f"ref CMP-2026-{complaint.id:06d}" in logged
    assert "by Mon 14 Dec" in logged  # 10 working days from Mon 30 Nov


def test_a_complaint_that_says_what_happened_is_logged_at_once(
    phone: Phone, client: TestClient
) -> None:
    phone.say("not happy, ur contractor never turned up twice and nobody rang, i want to complain")
    logged = phone.pop_text()
    (complaint,) = _complaints(client)
    assert logged.startswith("Complaint logged, ref CMP-2026-")
    assert "Housing Ombudsman" in logged
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.ALERT)).one()
    assert complaint.reference in task.summary


def test_the_reference_names_the_year_and_six_digits(phone: Phone, client: TestClient) -> None:
    phone.say("i wish to make a formal complaint")
    phone.pop()
    phone.say("nobody came on tuesday and i took the day off work for it")
    (complaint,) = _complaints(client)
    assert complaint.reference == f"CMP-2026-{complaint.id:06d}"
    assert len(complaint.reference) == len("CMP-2026-000123")
