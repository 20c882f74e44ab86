"""Links in messages and pages point at this service, on whatever port it runs (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.app import build_runtime
from bot.cli.demo import load_demo
from bot.settings import load_settings
from nlu.builtin.interpreter import BuiltinInterpreter
from storage.db import Database
from storage.models import Appointment, Landlord

MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_visit_photo_and_code_of_conduct_links_use_doorstep_port(
    monkeypatch: pytest.MonkeyPatch, db: Database, interpreter: BuiltinInterpreter
) -> None:
    monkeypatch.delenv("DOORSTEP_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("DOORSTEP_PORT", "8123")
    settings = load_settings(_env_file=None, database_url=db.url, simulator=True)
    assert load_demo(db, now=MONDAY_9AM, public_base_url=settings.public_base_url)
    runtime = build_runtime(settings, interpreter=interpreter)
    try:
        with db.session() as session:
            landlord = session.exec(select(Landlord)).one()
            appointment = session.exec(select(Appointment).order_by(col(Appointment.id))).first()
        assert appointment is not None
        assert landlord.code_of_conduct_url == "http://127.0.0.1:8123/code-of-conduct"
        link = runtime.links.link(appointment)
        assert link is not None and link.startswith("http://127.0.0.1:8123/v/")
        photo = runtime.photo_url("operative-1.png")
        assert photo is not None and photo.startswith("http://127.0.0.1:8123/simulator/photos/")
    finally:
        runtime.db.dispose()
