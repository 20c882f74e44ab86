"""Feedback pages on years of data (issue 16): the list pages by key (visit day, then id)
and walking its "Next page" links shows every answer matching the filters exactly once; a
damaged cursor is a polite 400; the weekly chart's figures come from the database, one
row a week, and match figures worked out by hand on both databases; the CSV export streams
every matching answer once, read in batches, spreadsheet-safe and audited.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select
from staff.helpers import SignedIn

from bot.common.clock import FixedClock
from bot.web.staff import cursors, feedback_views, read_models, routes_feedback
from storage.db import Database
from storage.enums import StaffRole
from storage.models import Appointment, AuditEvent, Feedback, Operative
from storage.repositories import feedback as feedback_repo
from storage.repositories.feedback import FeedbackFilters

SignIn = Callable[[StaffRole], SignedIn]
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_ROW = re.compile(r'<td><a href="/staff/feedback/(\d+)">')
_NEXT = re.compile(r'rel="next" href="(/staff/feedback\?[^"]*)"')


def _add_answers(db: Database, answers: list[tuple[date, dict[str, Any]]]) -> list[int]:
    """One visit (copying a demo visit's job and operative) and its answer per (day, fields)."""
    ids = []
    with db.session() as session:
        template = session.exec(select(Appointment).order_by(col(Appointment.id))).first()
        resident_id = session.exec(select(Feedback.resident_id)).first()
        assert template is not None and resident_id is not None
        for n, (day, fields) in enumerate(answers):
            visit = Appointment(
                job_id=template.job_id,
                operative_id=template.operative_id,
                day=day,
                window=template.window,
                starts_at=template.starts_at,
                ends_at=template.ends_at,
                status=template.status,
                visit_code=f"T{n:05d}",
                created_at=template.created_at,
                updated_at=template.updated_at,
            )
            session.add(visit)
            session.flush()
            assert visit.id is not None
            answer = Feedback(
                appointment_id=visit.id,
                resident_id=resident_id,
                created_at=template.ends_at,
                **fields,
            )
            session.add(answer)
            session.flush()
            assert answer.id is not None
            ids.append(answer.id)
    return ids


def _expected(db: Database, *, flagged: bool | None = None) -> list[int]:
    """Every answer's id in the list's order (visit day, then id, newest first)."""
    with db.session() as session:
        pairs = session.exec(
            select(Feedback, Appointment).where(col(Appointment.id) == col(Feedback.appointment_id))
        ).all()
    chosen = [(a.day, f.id) for f, a in pairs if flagged is None or f.flagged is flagged]
    return [i for _, i in sorted(chosen, reverse=True)]


def test_pages_walk_every_answer_once_keeping_the_filters(
    client: TestClient,
    staff_users: Database,
    signed_in: SignIn,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = clock.now().date()
    # Five answers a day on four days, so ids break ties within a day; every other flagged.
    _add_answers(
        staff_users,
        [(today - timedelta(days=n // 5), {"rating": 3, "flagged": n % 2 == 0}) for n in range(20)],
    )
    monkeypatch.setattr(read_models, "PAGE_SIZE", 3)
    signed_in(StaffRole.VIEWER)
    seen: list[int] = []
    link: str | None = "/staff/feedback?flagged=yes&rating="
    pages = 0
    while link is not None:
        page = client.get(html.unescape(link))
        assert page.status_code == 200
        seen += [int(i) for i in _ROW.findall(page.text)]
        found = _NEXT.search(page.text)
        link = found.group(1) if found else None
        if link is not None:
            assert "flagged=yes" in link  # the filters travel with the cursor
        pages += 1
    assert seen == _expected(staff_users, flagged=True)
    assert pages == -(-len(seen) // 3)
    assert len(seen) > 10


@sqlite_only
def test_a_damaged_page_link_is_a_polite_400(client: TestClient, signed_in: SignIn) -> None:
    signed_in(StaffRole.VIEWER)
    for token in ("not-a-cursor", cursors.encode(5), cursors.encode(date(2026, 1, 1), -1), "%%"):
        page = client.get("/staff/feedback", params={"after": token})
        assert page.status_code == 400
        assert "first page" in page.text
    good = cursors.encode(date(2026, 1, 1), 10)
    assert client.get("/staff/feedback", params={"after": good}).status_code == 200


def test_the_weekly_chart_matches_figures_worked_by_hand(staff_users: Database) -> None:
    wednesday, sunday, monday = date(2025, 3, 5), date(2025, 3, 9), date(2025, 3, 10)
    too_old = date(2024, 12, 1)  # more than CHART_WEEKS weeks before the "To" date
    _add_answers(
        staff_users,
        [
            (wednesday, {"rating": 5, "showed_id": True, "left_tidy": True}),
            (sunday, {"rating": 2, "showed_id": False, "left_tidy": True, "respectful": True}),
            (sunday, {"showed_id": True}),  # unfinished: no rating
            (monday, {"rating": 4, "showed_id": True, "asked_before_facilities": False}),
            (monday, {"rating": 4, "asked_before_facilities": True}),
            (monday, {"rating": 1, "asked_before_facilities": True}),
            (too_old, {"rating": 1}),
        ],
    )
    filters = FeedbackFilters(date_to=date(2025, 3, 16))
    with staff_users.session() as session:
        chart = feedback_views.weekly_summary(session, filters, today=date(2026, 1, 1))
    assert chart.until == date(2025, 3, 16)
    assert chart.since == date(2025, 3, 10) - timedelta(weeks=feedback_views.CHART_WEEKS - 1)
    first, second = chart.weeks  # the answer of 1 December is outside the window
    assert first.week_start == date(2025, 3, 3)  # Sunday belongs to the week before
    assert first.answers == 3
    assert first.average_rating == pytest.approx(3.5)  # (5 + 2) / 2
    assert first.showed_id == pytest.approx(2 / 3)
    assert first.asked_before_facilities is None
    assert first.left_tidy == 1.0 and first.respectful == 1.0
    assert first.ratings == (0, 1, 0, 0, 1)
    assert second.week_start == date(2025, 3, 10)
    assert second.answers == 3
    assert second.average_rating == pytest.approx(3.0)  # (4 + 4 + 1) / 3
    assert second.showed_id == 1.0
    assert second.asked_before_facilities == pytest.approx(2 / 3)
    assert second.left_tidy is None
    assert second.ratings == (1, 0, 0, 2, 0)
    narrow = FeedbackFilters(date_from=date(2025, 3, 9), date_to=date(2025, 3, 16), rating=4)
    with staff_users.session() as session:
        only = feedback_views.weekly_summary(session, narrow, today=date(2026, 1, 1))
    assert only.since == date(2025, 3, 9)
    assert [(w.week_start, w.answers) for w in only.weeks] == [(date(2025, 3, 10), 2)]


@sqlite_only
def test_the_csv_streams_every_answer_once_in_batches(
    client: TestClient,
    staff_users: Database,
    signed_in: SignIn,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = clock.now().date()
    _add_answers(
        staff_users,
        [(today - timedelta(days=n // 4), {"rating": 4, "comment": "@SUM(A1)"}) for n in range(9)],
    )
    statements: list[int] = []
    lines = feedback_repo.feedback_lines

    def counted(session: Any, **kwargs: Any) -> Any:
        statements.append(kwargs["limit"])
        return lines(session, **kwargs)

    streamed: list[object] = []

    class Streaming(routes_feedback.StreamingResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            streamed.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(feedback_repo, "feedback_lines", counted)
    monkeypatch.setattr(routes_feedback, "StreamingResponse", Streaming)
    monkeypatch.setattr(feedback_views, "CSV_BATCH", 4)
    signed_in(StaffRole.VIEWER)
    export = client.get("/staff/feedback.csv")
    assert export.status_code == 200 and len(streamed) == 1
    rows = list(csv.DictReader(io.StringIO(export.text)))
    expected = _expected(staff_users)
    assert [int(r["feedback_id"]) for r in rows] == expected
    assert set(statements) == {4} and len(statements) == len(expected) // 4 + 1
    assert [r["comment"] for r in rows].count("'@SUM(A1)") == 9  # never a formula
    recent = client.get("/staff/feedback.csv", params={"date_from": str(today - timedelta(days=1))})
    assert len(list(csv.DictReader(io.StringIO(recent.text)))) == 8  # 4 today, 4 yesterday
    with staff_users.session() as session:
        audits = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "staff.feedback.exported")
            .order_by(col(AuditEvent.id))
        ).all()
    assert [a.detail["rows"] for a in audits] == [len(expected), 8]


@sqlite_only
def test_the_operative_menu_lists_only_the_chosen_contractors(staff_users: Database) -> None:
    with staff_users.session() as session:
        operatives = session.exec(select(Operative)).all()
        contractor_id = operatives[0].contractor_id
        theirs = {o.id for o in operatives if o.contractor_id == contractor_id}
        other = next(o.id for o in operatives if o.contractor_id != contractor_id)
        assert other is not None
        nothing_chosen = feedback_views.filter_choices(session, FeedbackFilters())
        by_contractor = feedback_views.filter_choices(
            session, FeedbackFilters(contractor_id=contractor_id, operative_id=other)
        )
    assert nothing_chosen[0] == [] and len(nothing_chosen[1]) >= 2
    assert {c.id for c in by_contractor[0]} == theirs | {other}
