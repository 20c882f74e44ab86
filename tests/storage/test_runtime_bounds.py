"""The runtime's reads are bounded by what is live, not by the history (issue 16).

The recover job's unanswered messages, /metrics' live outbox and last day, the caps'
window and the inbound view's recent past each ignore old rows however many there are;
on PostgreSQL each hot query is shown to use its index (the partial ones only apply
when the query repeats the index's predicate word for word).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text, update
from sqlmodel import select

from bot.inbound.context import NoPhotoLinks, build_context
from bot.outbound.planning import BOOKED_LOOKBACK, CANCELLED_LOOKBACK, FEEDBACK_LOOKBACK
from flows.feedback import due_for_feedback
from flows.local_time import LONDON
from storage.db import Database
from storage.enums import AppointmentStatus, Channel, JobStatus, OutboxStatus
from storage.models import Appointment, Message, Operative, OutboxMessage, RepairJob, Resident
from storage.repositories import contact_policy, outbox, outbox_stats, resident_world, visits
from storage.repositories.transcript import record_inbound, record_outbound, unprocessed_inbound

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MARGARET = "+447400123456"


def _margaret(db: Database) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()


def _outbox_row(
    db: Database, key: str, *, resident_id: int | None, status: OutboxStatus, **values: Any
) -> None:
    with db.session() as session:
        row_id = outbox.enqueue(
            session,
            key=key,
            kind=values.pop("kind", "reminder_evening"),
            purpose=values.pop("purpose", "service"),
            text="x",
            not_before=values.pop("not_before", NOW - timedelta(days=400)),
            now=NOW - timedelta(days=400),
            resident_id=resident_id,
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)  # type: ignore[arg-type]
            .values(status=status, **values)
        )


def test_recover_reads_the_unanswered_inbound_messages_only(db: Database) -> None:
    with db.session() as session:
        ids = [
            record_inbound(
                session,
                channel=Channel.SMS,
                address="+447400123456",
                text="hi",
                channel_message_id=f"SM{n}",
                at=NOW - timedelta(minutes=10 - n),
            )
            for n in range(4)
        ]
        record_outbound(session, channel=Channel.SMS, address="+447400123456", text="x", at=NOW)
        session.execute(
            update(Message).where(Message.id == ids[1]).values(processed_at=NOW)  # type: ignore[arg-type]
        )
    with db.session() as session:
        every = unprocessed_inbound(session)
        settled = unprocessed_inbound(session, stored_before=NOW - timedelta(minutes=8))
    assert [m.id for m in every] == [ids[0], ids[2], ids[3]]
    assert [m.id for m in settled] == [ids[0], ids[2]]


def test_metrics_read_the_live_outbox_and_the_last_day(demo_db: Database) -> None:
    hour = timedelta(hours=1)
    for n in range(30):  # years of history that /metrics must not count
        _outbox_row(demo_db, f"old{n}", resident_id=None, status=OutboxStatus.DELIVERED)
    _outbox_row(
        demo_db, "due", resident_id=None, status=OutboxStatus.PENDING, not_before=NOW - hour
    )
    _outbox_row(
        demo_db, "later", resident_id=None, status=OutboxStatus.PENDING, not_before=NOW + hour
    )
    _outbox_row(
        demo_db, "going", resident_id=None, status=OutboxStatus.SENDING, not_before=NOW - 2 * hour
    )
    _outbox_row(
        demo_db, "went", resident_id=None, status=OutboxStatus.DELIVERED, not_before=NOW - 3 * hour
    )
    _outbox_row(
        demo_db, "lost", resident_id=None, status=OutboxStatus.FAILED, not_before=NOW - hour
    )
    with demo_db.session() as session:
        live = outbox_stats.count_live(session)
        done = outbox_stats.count_finished_since(session, since=NOW - 24 * hour, now=NOW)
        oldest = outbox_stats.oldest_due(session, now=NOW)
    assert live == {OutboxStatus.PENDING: 2, OutboxStatus.SENDING: 1}
    assert done == {OutboxStatus.DELIVERED: 1, OutboxStatus.FAILED: 1}
    assert oldest is not None and oldest.replace(tzinfo=UTC) == NOW - 2 * hour


def test_caps_count_the_window_not_a_long_history(demo_db: Database) -> None:
    margaret = _margaret(demo_db).id
    day = timedelta(days=1)
    for n in range(40):  # sent over the years: outside the 7-day window
        _outbox_row(
            demo_db, f"old{n}", resident_id=margaret, status=OutboxStatus.DELIVERED,
            sent_at=NOW - (10 + 20 * n) * day,
        )  # fmt: skip
    _outbox_row(
        demo_db, "recent", resident_id=margaret, status=OutboxStatus.SENT, sent_at=NOW - 2 * day
    )
    _outbox_row(
        demo_db, "going", resident_id=margaret, status=OutboxStatus.SENDING,
        claimed_at=NOW - timedelta(minutes=1),
    )  # fmt: skip
    _outbox_row(
        demo_db, "reply", resident_id=margaret, status=OutboxStatus.SENT, purpose="reply",
        sent_at=NOW - day,
    )  # fmt: skip
    _outbox_row(
        demo_db, "failed", resident_id=margaret, status=OutboxStatus.FAILED, sent_at=NOW - day
    )
    with demo_db.session() as session:
        sends = contact_policy.service_sends_since(
            session, resident_ids=[margaret or -1], since=NOW - 7 * day
        )
    assert sorted(at.replace(tzinfo=UTC) for _, at in sends) == [
        NOW - 2 * day,
        NOW - timedelta(minutes=1),
    ]


def _visit(db: Database, resident: Resident, day: date, status: AppointmentStatus) -> int:
    """A job and its visit on `day` 10:00-12:00 UTC, closed as `status` (job likewise)."""
    with db.session() as session:
        operative = session.exec(select(Operative).order_by(Operative.id)).first()  # type: ignore[arg-type]
        assert operative is not None and operative.id is not None
        assert resident.id is not None and resident.property_id is not None
        job_status = {
            AppointmentStatus.COMPLETED: JobStatus.COMPLETED,
            AppointmentStatus.CANCELLED: JobStatus.CANCELLED,
        }.get(status, JobStatus.BOOKED)
        job = RepairJob(
            landlord_id=resident.landlord_id,
            reference=f"RB-{day.isoformat()}-{status}",
            property_id=resident.property_id,
            resident_id=resident.id,
            description="Tap dripping",
            status=job_status,
            created_at=NOW - timedelta(days=800),
        )
        session.add(job)
        session.flush()
        assert job.id is not None
        starts = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
        visit = Appointment(
            job_id=job.id,
            operative_id=operative.id,
            day=day,
            window="morning",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            status=status,
            visit_code="4821",
            created_at=starts - timedelta(days=7),
            updated_at=starts + timedelta(hours=2),
        )
        session.add(visit)
        session.flush()
        assert visit.id is not None
        return visit.id


def test_the_inbound_view_reads_the_recent_past_and_still_offers_feedback(
    demo_db: Database,
) -> None:
    margaret = _margaret(demo_db)
    old: set[int] = set()
    for n in range(25):  # a long-standing tenant: years of completed repairs
        visit = _visit(
            demo_db,
            margaret,
            date(2024, 1, 8) + timedelta(days=21 * n),
            AppointmentStatus.COMPLETED,
        )
        old.add(visit)
    completed = _visit(demo_db, margaret, date(2026, 11, 28), AppointmentStatus.COMPLETED)
    _visit(demo_db, margaret, date(2026, 11, 27), AppointmentStatus.CANCELLED)
    booked = _visit(demo_db, margaret, date(2026, 12, 3), AppointmentStatus.BOOKED)
    with demo_db.session() as session:
        resident = session.get(Resident, margaret.id)
        ctx = build_context(
            session, resident=resident, now=NOW, zone=LONDON, paused=False, links=NoPhotoLinks()
        )
        read = resident_world.visits_ending_since(
            session, resident_ids=[margaret.id or -1], since=NOW - timedelta(days=30)
        )
    assert ctx.resident is not None
    past = [a.id for a in ctx.resident.past_appointments]
    assert past[0] == completed and not old & set(past)  # newest first; no old visit read
    assert booked in [a.id for a in ctx.resident.appointments]
    assert all(a.status != "completed" for a in ctx.resident.appointments)
    assert all(job.status != "completed" for job in ctx.resident.open_jobs)
    due = due_for_feedback(ctx)
    assert due is not None and due.id == completed
    assert not old & {a.id for a, _ in read}


# -- PostgreSQL: each hot query uses its index ------------------------------------------


def _plans(db: Database, call: Callable[[Any], object]) -> str:
    """The plans of the statements `call` issues, with sequential scans priced out (an
    empty table would otherwise be scanned whole; the point is that the index applies)."""
    issued: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if not statement.startswith("EXPLAIN"):
            issued.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        with db.session() as session:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            issued.clear()
            call(session)
            plans = [
                "\n".join(
                    row[0]
                    for row in session.connection().exec_driver_sql(f"EXPLAIN {statement}", params)
                )
                for statement, params in issued
            ]
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return "\n".join(plans)


@pytest.mark.postgres
def test_the_hot_queries_use_their_indexes_on_postgresql(postgres_database_url: str) -> None:
    db = Database(postgres_database_url)
    try:
        checks: list[tuple[str, Callable[[Any], object]]] = [
            ("ix_messages_unanswered", lambda s: unprocessed_inbound(s, stored_before=NOW)),
            ("ix_outbox_live", lambda s: outbox_stats.oldest_due(s, now=NOW)),
            (
                "ix_outbox_resident_sent",
                lambda s: contact_policy.service_sends_since(s, resident_ids=[1, 2], since=NOW),
            ),
            (
                "ix_appointments_booked_ends_at",
                lambda s: visits.live_visits(
                    s,
                    now=NOW,
                    booked_lookback=BOOKED_LOOKBACK,
                    feedback_lookback=FEEDBACK_LOOKBACK,
                    cancelled_lookback=CANCELLED_LOOKBACK,
                ),
            ),
            (
                "ix_appointments_status_updated_at",
                lambda s: visits.live_visits(
                    s,
                    now=NOW,
                    booked_lookback=BOOKED_LOOKBACK,
                    feedback_lookback=FEEDBACK_LOOKBACK,
                    cancelled_lookback=CANCELLED_LOOKBACK,
                ),
            ),
            (
                "ix_repair_jobs_resident_under_way",
                lambda s: resident_world.jobs_under_way(s, resident_ids=[1]),
            ),
        ]
        for index, call in checks:
            assert index in _plans(db, call), index
    finally:
        db.dispose()
