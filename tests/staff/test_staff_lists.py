"""Staff lists on years of data (issue 16): the contact log finds a resident by a search
(the start of a name, a reference or a mobile number in any common form, never more than
a bounded number of matches) instead of a drop-down of every resident, and pages by key:
walking the "Older" links shows every decision matching the filters exactly once, and a
damaged page link is a polite 400.

Most tests run on SQLite only (the behaviour is the same; `sqlite_only`); the walk runs on
both databases, since the key compares zone-aware times the two store differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select
from staff.helpers import SignedIn

from bot.common.clock import FixedClock
from bot.outbound.broadcasts import REMINDER_KIND
from bot.web.staff import cursors, routes_broadcasts
from bot.web.staff.read_models import PAGE_SIZE, RESIDENT_MATCHES
from flows.windows import window_named
from storage.db import Database
from storage.enums import (
    AccessNeedCategory,
    AppointmentStatus,
    Channel,
    Decision,
    OutboxStatus,
    StaffRole,
    TaskKind,
    TaskStatus,
)
from storage.models import (
    AccessNeed,
    Appointment,
    AuditEvent,
    ContactDecision,
    Contractor,
    Operative,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
    StaffUser,
)
from storage.repositories.contact_log import reason_codes
from storage.repositories.people import search_residents

SignIn = Callable[[StaffRole], SignedIn]
MARGARET = "+447400123456"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_DECISION_ROW = re.compile(r'<tr id="decision-(\d+)"')
_NEXT = re.compile(r'href="(/staff/[a-z/-]+\?[^"]*after=[^"]+)" rel="next"')


def _resident(db: Database, mobile: str = MARGARET) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.mobile == mobile)).one()


def _add_decisions(
    db: Database, clock: FixedClock, *, resident_id: int | None, count: int, tag: str
) -> list[int]:
    """`count` decisions, newest every 3 minutes back, seven at each moment (so the id
    breaks ties), alternating send and block."""
    ids = []
    with db.session() as session:
        for n in range(count):
            at = clock.now() - timedelta(minutes=3 * (n // 7))
            outbox = OutboxMessage(
                resident_id=resident_id,
                kind="reminder",
                purpose="visit",
                channel=Channel.SMS,
                address=MARGARET,
                text=f"{tag} message {n}",
                idempotency_key=f"{tag}:{n}",
                not_before=at,
                status=OutboxStatus.SENT,
                created_at=at,
            )
            session.add(outbox)
            session.flush()
            assert outbox.id is not None
            decision = ContactDecision(
                outbox_id=outbox.id,
                decision=Decision.SEND if n % 2 else Decision.BLOCK,
                reason_code="within_policy" if n % 2 else "opted_out",
                at=at,
            )
            session.add(decision)
            session.flush()
            assert decision.id is not None
            ids.append(decision.id)
    return ids


def _walk(client: TestClient, first: str, row: re.Pattern[str] = _DECISION_ROW) -> list[int]:
    """Every row id shown, following the next-page links from the first page."""
    seen: list[int] = []
    path: str | None = first
    while path is not None:
        page = client.get(path)
        assert page.status_code == 200, page.text
        shown = [int(i) for i in row.findall(page.text)]
        assert len(shown) <= PAGE_SIZE
        seen += shown
        found = _NEXT.search(page.text)
        path = found.group(1).replace("&amp;", "&") if found else None
    return seen


def test_the_contact_log_pages_walk_every_decision_once_with_the_filters_kept(
    client: TestClient, staff_users: Database, clock: FixedClock, signed_in: SignIn
) -> None:
    margaret = _resident(staff_users)
    assert margaret.id is not None
    hers = _add_decisions(staff_users, clock, resident_id=margaret.id, count=450, tag="m")
    _add_decisions(staff_users, clock, resident_id=None, count=30, tag="other")
    signed_in(StaffRole.STAFF)

    seen = _walk(client, f"/staff/contact-log?resident_id={margaret.id}&decision=block")
    blocked = [i for n, i in enumerate(hers) if n % 2 == 0]
    assert sorted(seen) == sorted(blocked)  # each once, no other resident's, none missed
    assert len(seen) == len(set(seen))

    everyone = _walk(client, "/staff/contact-log")
    assert set(hers) <= set(everyone) and len(everyone) == len(set(everyone))


@sqlite_only
def test_a_damaged_page_link_is_a_polite_400(
    client: TestClient, staff_users: Database, signed_in: SignIn
) -> None:
    signed_in(StaffRole.VIEWER)
    wrong_shape = cursors.encode(3)
    naive = "WyIyMDI2LTEyLTAxVDEwOjAwOjAwIiwgNV0"  # ["2026-12-01T10:00:00", 5]: no zone
    for after in ("not-a-cursor", "x" * 500, wrong_shape, naive, "W10", "e30"):
        page = client.get("/staff/contact-log", params={"after": after})
        assert page.status_code == 400, after
        assert "first page" in page.text


@sqlite_only
def test_a_resident_is_found_by_name_reference_or_mobile_in_any_form(
    client: TestClient, staff_users: Database, clock: FixedClock, signed_in: SignIn
) -> None:
    margaret = _resident(staff_users)
    assert margaret.id is not None and margaret.reference is not None
    _add_decisions(staff_users, clock, resident_id=margaret.id, count=3, tag="m")
    _add_decisions(staff_users, clock, resident_id=None, count=2, tag="other")
    searches = (
        "marg",
        "MARGARET  ok",
        margaret.reference,
        "07400 123456",
        "+44 7400 123456",
        "(07400) 123-456",
        "0044 7400 123456",
    )
    with staff_users.session() as session:
        for text in searches:
            assert [r.id for r in search_residents(session, text=text, limit=5)] == [margaret.id], (
                text
            )
        assert search_residents(session, text="m", limit=5) == []  # one letter is too few
        assert search_residents(session, text="%", limit=5) == []  # no wildcards
    signed_in(StaffRole.STAFF)
    for text in ("Margaret", "07400 123456"):
        page = client.get("/staff/contact-log", params={"resident": text})
        assert page.status_code == 200
        assert "Resident: <strong>Margaret Okafor</strong>" in page.text
        assert len(_DECISION_ROW.findall(page.text)) == 3  # hers only
    none = client.get("/staff/contact-log", params={"resident": "Zebedee"})
    assert "No resident matches" in none.text and not _DECISION_ROW.findall(none.text)


@sqlite_only
def test_a_search_never_lists_more_than_the_bound(
    client: TestClient, staff_users: Database, clock: FixedClock, signed_in: SignIn
) -> None:
    margaret = _resident(staff_users)
    with staff_users.session() as session:
        for n in range(RESIDENT_MATCHES + 5):
            session.add(
                Resident(
                    landlord_id=margaret.landlord_id,
                    name=f"Marsh {n:02d}",
                    created_at=clock.now(),
                )
            )
    signed_in(StaffRole.STAFF)
    page = client.get("/staff/contact-log", params={"resident": "mar", "decision": "send"})
    assert page.status_code == 200
    picks = re.findall(r'href="/staff/contact-log\?([^"]*resident_id=\d+[^"]*)"', page.text)
    assert len(picks) == RESIDENT_MATCHES
    assert all("decision=send" in pick for pick in picks)  # the other filters are kept
    assert "Margaret Okafor" in page.text  # by name: Margaret before Marsh
    # The page never lists every resident.
    assert '<select name="resident_id"' not in page.text


@sqlite_only
def test_the_reason_codes_are_each_recorded_code_once(
    staff_users: Database, clock: FixedClock
) -> None:
    _add_decisions(staff_users, clock, resident_id=None, count=9, tag="r")
    with staff_users.session() as session:
        assert reason_codes(session) == ["opted_out", "within_policy"]


@sqlite_only
def test_the_queue_and_alerts_pages_walk_every_task_once_urgent_first(
    client: TestClient, staff_users: Database, clock: FixedClock, signed_in: SignIn
) -> None:
    kinds = (TaskKind.CALLBACK, TaskKind.HANDOFF, TaskKind.ALERT)
    with staff_users.session() as session:
        for n in range(420):
            session.add(
                StaffTask(
                    kind=kinds[n % 3],
                    status=TaskStatus.CLOSED if n % 5 == 0 else TaskStatus.OPEN,
                    urgent=n % 4 == 0,
                    summary=f"task {n}",
                    created_at=clock.now() - timedelta(minutes=n // 3),  # ties: by id
                )
            )
    with staff_users.session() as session:
        tasks = session.exec(select(StaffTask)).all()
    signed_in(StaffRole.VIEWER)

    def expected(wanted: set[TaskKind], closed: bool) -> list[int | None]:
        chosen = [t for t in tasks if t.kind in wanted and (closed or t.status != "closed")]
        chosen.sort(key=lambda t: (not t.urgent, t.created_at, t.id))
        return [t.id for t in chosen]

    queue = {k for k in TaskKind if k != TaskKind.ALERT}
    task_row = re.compile(r'<tr id="task-(\d+)"')
    assert _walk(client, "/staff/tasks", task_row) == expected(queue, False)
    assert _walk(client, "/staff/tasks?closed=yes", task_row) == expected(queue, True)
    handoffs = _walk(client, "/staff/tasks?kind=handoff&closed=yes", task_row)
    assert handoffs == expected({TaskKind.HANDOFF}, True)
    assert _walk(client, "/staff/alerts", task_row) == expected({TaskKind.ALERT}, False)
    home = client.get("/staff").text
    open_queue = [t for t in tasks if t.kind != TaskKind.ALERT and t.status != "closed"]
    assert f">{len(open_queue)}<" in home.replace(" ", "")


@sqlite_only
def test_the_visits_and_access_needs_pages_walk_every_row_once(
    client: TestClient, staff_users: Database, clock: FixedClock, signed_in: SignIn
) -> None:
    today = clock.now().date()
    resident = _resident(staff_users)
    assert resident.id is not None
    with staff_users.session() as session:
        model = session.exec(select(Appointment)).first()
        assert model is not None
        for n in range(230):
            starts = clock.now() + timedelta(days=n % 3, hours=n % 2)
            session.add(
                Appointment(
                    job_id=model.job_id,
                    operative_id=model.operative_id,
                    day=starts.date(),
                    window="morning",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=4),
                    visit_code=f"{n:06d}",
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
        for n in range(210):
            session.add(
                AccessNeed(
                    resident_id=resident.id,
                    category=AccessNeedCategory.OTHER,
                    own_words=f"need {n}",
                    recorded_at=clock.now(),
                    review_by=today - timedelta(days=n % 4),
                    active=n % 7 != 0,
                )
            )
    with staff_users.session() as session:
        window = today + timedelta(days=2)
        visits = sorted(
            (a for a in session.exec(select(Appointment)).all() if today <= a.day <= window),
            key=lambda a: (a.day, a.starts_at, a.id),
        )
        needs = sorted(
            (
                n
                for n in session.exec(select(AccessNeed)).all()
                if n.active and n.review_by is not None and n.review_by <= today
            ),
            key=lambda n: (n.review_by, n.id),
        )
    signed_in(StaffRole.STAFF)
    visit_row = re.compile(r'<tr id="visit-(\d+)"')
    path = f"/staff/visits?date_from={today}&date_to={window}"
    assert _walk(client, path, visit_row) == [a.id for a in visits]
    need_row = re.compile(r'<tr id="need-(\d+)"')
    assert _walk(client, "/staff/access-needs", need_row) == [n.id for n in needs]


@sqlite_only
def test_every_paged_list_refuses_a_damaged_page_link(
    client: TestClient, staff_users: Database, signed_in: SignIn
) -> None:
    signed_in(StaffRole.VIEWER)
    for path in ("/staff/tasks", "/staff/alerts", "/staff/visits", "/staff/access-needs"):
        for after in ("garbage", cursors.encode(1, 2, 3, 4, 5)):
            page = client.get(path, params={"after": after})
            assert page.status_code == 400, (path, after)
            assert "first page" in page.text


@sqlite_only
def test_a_broadcast_result_pages_its_lines_and_counts_progress_over_all(
    client: TestClient,
    staff_users: Database,
    clock: FixedClock,
    signed_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its lines come a page at a time; the progress counts every queued row (in bounded
    chunks, see storage.repositories.broadcast_progress)."""
    monkeypatch.setattr(routes_broadcasts, "LINES_PAGE", 4)
    margaret = _resident(staff_users)
    with staff_users.session() as session:
        lines = []
        for n in range(10):
            outbox = OutboxMessage(
                resident_id=margaret.id,
                kind="reminder",
                purpose="visit",
                text="Reminder",
                idempotency_key=f"b:{n}",
                not_before=clock.now(),
                status=OutboxStatus.PENDING if n < 3 else OutboxStatus.SENT,
                created_at=clock.now(),
            )
            session.add(outbox)
            session.flush()
            lines.append(
                {
                    "appointment_id": n + 1,
                    "resident_name": f"Resident {n}",
                    "masked_phone": "+44 7*** ***456",
                    "visit": "Tue 1 Dec, morning",
                    "decision": "send",
                    "reason": "within_policy",
                    "detail": "",
                    "outbox_id": outbox.id,
                }
            )
        event = AuditEvent(
            at=clock.now(),
            actor="sam@landlord.example",
            action=routes_broadcasts.ACTION_SENT,
            subject_type="broadcast",
            detail={"request": {"kind": "reminders", "day": "2026-12-01"}, "lines": lines},
        )
        session.add(event)
        session.flush()
        event_id = event.id
    signed_in(StaffRole.VIEWER)
    assert f'href="/staff/broadcasts/{event_id}"' in client.get("/staff/broadcasts").text
    names: list[str] = []
    path: str | None = f"/staff/broadcasts/{event_id}"
    while path is not None:
        page = client.get(path)
        assert page.status_code == 200, page.text
        assert "7 of 10 queued messages have left the outbox; 3 waiting" in page.text
        shown = re.findall(r"<td>(Resident \d+)</td>", page.text)
        assert len(shown) <= 4
        names += shown
        found = re.search(r'href="(/staff/broadcasts/\d+\?after=[^"]+)" rel="next"', page.text)
        path = found.group(1) if found else None
    assert names == [f"Resident {n}" for n in range(10)]
    bad = client.get(f"/staff/broadcasts/{event_id}", params={"after": cursors.encode(99)})
    assert bad.status_code == 400


@sqlite_only
def test_operatives_page_by_name_and_menus_list_one_contractors_operatives(
    client: TestClient, staff_users: Database, signed_in: SignIn
) -> None:
    """A large landlord has hundreds of operatives: the operatives page pages by name, and
    the visits and broadcast forms offer a contractor's operatives once it is chosen."""
    with staff_users.session() as session:
        contractor = session.exec(select(Contractor)).first()
        assert contractor is not None and contractor.id is not None
        for n in range(PAGE_SIZE + 20):
            session.add(
                Operative(
                    landlord_id=contractor.landlord_id,
                    contractor_id=contractor.id,
                    name=f"Zed Operative {n % 50:02d}",  # names repeat: the id breaks ties
                    badge_number=f"Z{n:05d}",
                )
            )
    with staff_users.session() as session:
        everyone = sorted(session.exec(select(Operative)).all(), key=lambda o: (o.name, o.id))
        theirs = [o for o in everyone if o.contractor_id == contractor.id]
    signed_in(StaffRole.STAFF)
    operative_row = re.compile(r'<tr id="operative-(\d+)"')
    assert _walk(client, "/staff/operatives", operative_row) == [o.id for o in everyone]

    menu = re.compile(r'<option value="(\d+)"')
    visits = client.get("/staff/visits").text
    assert 'name="operative_id"' not in visits  # no menu of every operative
    chosen = client.get("/staff/visits", params={"contractor_id": contractor.id}).text
    listed = menu.findall(chosen.split('name="operative_id"')[1].split("</select>")[0])
    assert len(listed) == PAGE_SIZE and {int(i) for i in listed} <= {o.id for o in theirs}
    broadcasts = client.get("/staff/broadcasts").text
    assert 'name="operative_id"' not in broadcasts
    chosen = client.get("/staff/broadcasts", params={"contractor_id": contractor.id}).text
    listed = menu.findall(chosen.split('name="operative_id"')[1].split("</select>")[0])
    assert len(listed) == PAGE_SIZE


@sqlite_only
def test_the_staff_accounts_page_walks_every_account_once_active_first(
    client: TestClient, staff_users: Database, clock: FixedClock, signed_in: SignIn
) -> None:
    with staff_users.session() as session:
        for n in range(220):
            session.add(
                StaffUser(
                    email=f"person{n}@landlord.example",
                    name=f"Person {n % 60:02d}",  # names repeat: the id breaks ties
                    password_hash="not-a-usable-hash",
                    active=n % 6 != 0,
                    created_at=clock.now(),
                )
            )
    with staff_users.session() as session:
        members = session.exec(select(StaffUser)).all()
    expected = [m.id for m in sorted(members, key=lambda m: (not m.active, m.name, m.id))]
    signed_in(StaffRole.ADMIN)
    member_row = re.compile(r'<tr id="member-(\d+)"')
    assert _walk(client, "/staff/admin/staff", member_row) == expected


@sqlite_only
def test_a_broadcast_preview_judges_a_page_of_the_days_visits_at_a_time(
    client: TestClient,
    staff_users: Database,
    clock: FixedClock,
    signed_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A big landlord's day has a thousand visits: the preview judges a page of them (by
    start, id) and counts the day's total; walking its pages meets each visit once."""
    monkeypatch.setattr(routes_broadcasts, "PREVIEW_PAGE", 2)
    day = date(2026, 12, 9)
    with staff_users.session() as session:
        residents = session.exec(select(Resident).order_by(col(Resident.id)).limit(5)).all()
        operative = session.exec(select(Operative)).first()
        assert operative is not None and operative.id is not None
        for n, resident in enumerate(residents):
            job = RepairJob(
                landlord_id=resident.landlord_id,
                reference=f"PV-{n}",
                property_id=resident.property_id,
                resident_id=resident.id,
                description="Kitchen tap dripping",
                created_at=clock.now(),
            )
            session.add(job)
            session.flush()
            assert job.id is not None
            window = "morning" if n % 2 else "afternoon"
            starts, ends = window_named(window).bounds(day)
            session.add(
                Appointment(
                    job_id=job.id,
                    operative_id=operative.id,
                    day=day,
                    window=window,
                    starts_at=starts,
                    ends_at=ends,
                    status=AppointmentStatus.BOOKED,
                    visit_code="4821",
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
        names = sorted(r.name for r in residents)
    signed_in(StaffRole.STAFF)
    seen: list[str] = []
    path: str | None = f"/staff/broadcasts/preview?kind=reminders&day={day}"
    while path is not None:
        page = client.get(path)
        assert page.status_code == 200, page.text
        assert "5 booked visits." in page.text
        shown = re.findall(r'<tr class="decision-[a-z_]+">\s*<td>([^<]+)</td>', page.text)
        assert 1 <= len(shown) <= 2
        seen += shown
        found = re.search(r'href="(/staff/broadcasts/preview\?[^"]+)" rel="next"', page.text)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == names
    with staff_users.session() as session:  # a preview queues nothing
        assert not session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind) == REMINDER_KIND)
        ).all()
