"""Retention (issue 16, docs/retention.md): each kind goes after its period and not a day
before; recent activity and open complaints hold what they must; opt-outs outlive the
resident; a dry run changes nothing and counts the same; batches are bounded."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from retention.world import LONDON, T0, Visit, complain, figures, message_on, policy, run, years
from retention.world import visit as make_visit
from sqlalchemy import event, func
from sqlmodel import SQLModel, col, select
from typer.testing import CliRunner

from bot.app import build_runtime, build_scheduler
from bot.channels.telegram.link import link_by_contact
from bot.cli.main import app as cli
from bot.common.clock import FixedClock
from bot.integration.sync import RecordKind, upsert_batch
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.retention import AUDIT_ACTION, RetentionFigures
from bot.settings import SettingsError, load_settings
from storage.db import Database
from storage.enums import Channel, Direction, JobStatus, OutboxStatus
from storage.models import (
    AccessNeed,
    AuditEvent,
    Complaint,
    ContactDecision,
    ContactSuppression,
    Conversation,
    Feedback,
    LandlordEvent,
    LinkToken,
    Message,
    OutboxMessage,
    Property,
    Resident,
    StaffLoginAttempt,
    StaffSession,
    StaffTask,
    StaffUser,
    WebhookDelivery,
    WebhookSubscription,
)
from storage.repositories import visit_evidence
from storage.repositories.outbox import enqueue
from storage.repositories.reachability import record_opt_in
from storage.repositories.retention import Kind, examine

DAY = timedelta(days=1)


def _extras(db: Database, v: Visit) -> None:
    """One row of each kind the visit does not make, written at T0."""
    with db.session() as session:
        user = StaffUser(email="a@example.org", name="Ann", password_hash="x", created_at=T0)
        subscription = WebhookSubscription(
            landlord_id=v.landlord_id, url="https://example.org/h", secret="s", created_at=T0
        )
        landlord_event = LandlordEvent(
            landlord_id=v.landlord_id, kind="appointment.booked", occurred_at=T0
        )
        session.add_all([user, subscription, landlord_event])
        session.flush()
        assert user.id and subscription.id and landlord_event.id
        session.add_all(
            [
                LinkToken(resident_id=v.resident_id, token_hash="h", created_at=T0, expires_at=T0),
                StaffSession(token_hash="t", user_id=user.id, created_at=T0, last_seen_at=T0),
                StaffLoginAttempt(at=T0, account="a@example.org", address="10.0.0.1"),
                WebhookDelivery(
                    subscription_id=subscription.id,
                    event_id=landlord_event.id,
                    ordering_key="-",
                    status="delivered",
                    not_before=T0,
                    delivered_at=T0,
                    created_at=T0,
                ),
                AuditEvent(at=T0, actor="cli", action="x", subject_type="resident"),
            ]
        )
    complain(db, v, at=T0, status="closed")


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.session() as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_each_kind_goes_after_its_period_and_not_a_day_before(lite: Database) -> None:
    db = lite
    v = make_visit(db, tenancy_ended_on=T0.date())
    with db.session() as session:  # a need replaced at T0
        session.add(
            AccessNeed(
                resident_id=v.resident_id,
                category="pet",
                own_words="a dog",
                recorded_at=T0 - years(1),
                active=False,
                withdrawn_at=T0,
            )
        )
    _extras(db, v)
    rules = policy()
    assert rules.days[Kind.MESSAGES] == 2192 and rules.days[Kind.ACCESS_NEEDS] == 90
    for kind in Kind:
        period = timedelta(days=rules.days[kind])
        with db.session() as session:
            early, late = (
                examine(
                    session,
                    kind=kind,
                    cutoff=rules.cutoff(kind, now=now, zone=LONDON),
                    after_id=0,
                    limit=100,
                )
                for now in (T0 + period - DAY, T0 + period + DAY)
            )
        assert early.examined == (), kind
        assert late.go, kind

    done = figures(run(db, T0 + years(6) + 3 * DAY))
    assert done["messages"][:2] == (3, 3)
    assert done["outbox"][:2] == (1, 1)
    assert done["residents"][2] == 1 and done["feedback"][2] == 1 and done["complaints"][2] == 1
    assert done["access_needs"][1] == 2
    for model in (
        Message,
        Conversation,
        OutboxMessage,
        ContactDecision,
        AccessNeed,
        StaffTask,
        LinkToken,
        StaffSession,
        StaffLoginAttempt,
        WebhookDelivery,
        LandlordEvent,
    ):
        assert _count(db, model) == 0, model
    assert _count(db, AuditEvent, col(AuditEvent.action) != AUDIT_ACTION) == 0
    with db.session() as session:
        resident = session.get(Resident, v.resident_id)
        feedback = session.get(Feedback, v.feedback_id)
        complaint = session.exec(select(Complaint)).one()
    assert resident is not None and feedback is not None
    assert (resident.name, resident.mobile, resident.nominee_phone) == ("", None, None)
    assert resident.anonymised_at is not None and resident.reference is not None
    assert (feedback.rating, feedback.comment, feedback.conversation_id) == (2, None, None)
    assert complaint.text == ""


def test_a_job_with_recent_activity_keeps_its_whole_transcript(lite: Database) -> None:
    db = lite
    v = make_visit(db)
    message_on(db, v, T0 + years(3))
    kept = figures(run(db, T0 + years(6) + 30 * DAY))
    assert kept["messages"] == (3, 0, 0, 0, 3)  # the two about the visit and the loose one
    assert kept["outbox"] == (1, 0, 0, 0, 1)
    assert kept["visit_timeline"] == (1, 0, 0, 0, 1)
    assert kept["conversations"] == (1, 0, 0, 0, 1)  # its messages stay, so it does
    assert _count(db, Message) == 4
    gone = figures(run(db, T0 + years(9) + 3 * DAY))
    assert gone["messages"][:2] == (4, 4)
    assert _count(db, Message) == 0 and _count(db, Conversation) == 0


def test_an_open_complaint_keeps_the_visits_evidence_and_a_closed_one_lets_it_go(
    db: Database,
) -> None:  # both databases: the holds are the SQL that matters most
    v = make_visit(db)
    complaint_id = complain(db, v, at=T0)
    held = figures(run(db, T0 + years(7)))
    for kind, n in (("messages", 3), ("outbox", 1), ("visit_timeline", 1), ("disclosures", 1)):
        assert held[kind] == (n, 0, 0, n, 0), kind
    assert held["feedback"] == (1, 0, 0, 1, 0)
    assert held["complaints"][0] == 0  # open: never a candidate
    with db.session() as session:  # the per-visit export still has it all
        a = v.appointment_id
        assert len(visit_evidence.messages(session, appointment_id=a)) == 2
        assert len(visit_evidence.events(session, appointment_id=a)) == 1
        outbox = visit_evidence.outbox(session, appointment_id=a)
        assert len(visit_evidence.decisions(session, outbox_ids=[o.id for o in outbox])) == 1
        assert len(visit_evidence.disclosures(session, appointment_id=a)) == 1
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        complaint.status = "closed"
        session.add(complaint)
    gone = figures(run(db, T0 + years(7)))
    assert gone["messages"][:2] == (3, 3) and gone["outbox"][:2] == (1, 1)
    assert gone["visit_timeline"][:2] == (1, 1) and gone["disclosures"][:2] == (1, 1)
    assert gone["complaints"][2] == 1
    with db.session() as session:
        assert visit_evidence.messages(session, appointment_id=v.appointment_id) == []
        stored = session.get(Complaint, complaint_id)
        assert stored is not None and stored.text == ""


def test_access_needs_withdrawn_or_after_the_tenancy_go(lite: Database) -> None:
    db = lite
    now = T0 + 200 * DAY
    staying = make_visit(db)
    moved_out = make_visit(db, tenancy_ended_on=(now - 91 * DAY).date())
    recently_moved = make_visit(db, tenancy_ended_on=(now - 89 * DAY).date())
    final_repair = make_visit(
        db, tenancy_ended_on=(now - 91 * DAY).date(), job_status=JobStatus.BOOKED
    )
    with db.session() as session:
        old, recent = (
            AccessNeed(
                resident_id=staying.resident_id,
                category="pet",
                own_words="a dog",
                recorded_at=T0,
                active=False,
                withdrawn_at=now - days,
            )
            for days in (91 * DAY, 89 * DAY)
        )
        session.add_all([old, recent])
        session.flush()
        old_id, recent_id = old.id, recent.id
    result = figures(run(db, now))
    assert result["access_needs"] == (3, 2, 0, 0, 1)  # a visit still to come keeps its need
    with db.session() as session:
        left = set(session.exec(select(AccessNeed.id)).all())
    assert left == {staying.need_id, recent_id, recently_moved.need_id, final_repair.need_id}
    assert moved_out.need_id not in left and old_id not in left
    assert result["residents"][0] == 0  # six years, not ninety days


def test_an_opted_out_number_stays_blocked_after_its_resident_is_anonymised(lite: Database) -> None:
    db = lite
    v = make_visit(db, tenancy_ended_on=T0.date(), opted_out=True)
    now = T0 + years(6) + 3 * DAY
    assert figures(run(db, now))["residents"] == (1, 0, 1, 0, 0)
    assert _count(db, Resident, col(Resident.mobile) == v.mobile) == 0
    with db.session() as session:
        suppression = session.exec(select(ContactSuppression)).one()
        assert v.mobile not in json.dumps(suppression.model_dump(mode="json"))
        # The landlord's system sends a new record with the same number, years later.
        prop = session.exec(select(Property).where(Property.landlord_id == v.landlord_id)).one()
        record = {"name": "New Tenant", "mobile": v.mobile, "property": prop.reference}
        outcome = upsert_batch(
            session,
            landlord_id=v.landlord_id,
            kind=RecordKind.RESIDENTS,
            records=[record | {"reference": "R-NEW"}],
            now=now,
        )
        assert outcome[0].status == "created"
        newcomer = session.exec(select(Resident).where(Resident.reference == "R-NEW")).one()
        assert newcomer.sms_opted_out_at is not None
        outbox_id = enqueue(
            session,
            key="after-anonymising",
            kind="notice",
            purpose="reply",
            text="Hello",
            not_before=now,
            now=now,
            channel=Channel.SMS,
            address=v.mobile,
            resident_id=newcomer.id,
        )
    sms = RecordingSender(Channel.SMS)
    dispatcher = Dispatcher(db=db, senders={Channel.SMS: sms}, clock=FixedClock(now), zone=LONDON)
    asyncio.run(dispatcher.run_once())
    assert sms.sent == []
    with db.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        reasons = session.exec(
            select(ContactDecision.reason_code).where(ContactDecision.outbox_id == outbox_id)
        ).all()
    assert row is not None and row.status == OutboxStatus.BLOCKED
    assert "opted_out" in reasons


def _table_counts(db: Database) -> dict[str, int]:
    return {t.name: _count(db, t) for t in SQLModel.metadata.sorted_tables}


def test_a_dry_run_changes_nothing_and_counts_what_a_run_does(database_url: str) -> None:
    db = Database(database_url)
    try:
        now = T0 + years(7)
        make_visit(db, tenancy_ended_on=T0.date(), opted_out=True)
        busy = make_visit(db)
        message_on(db, busy, now - years(1))
        complain(db, make_visit(db), at=T0)
        before = _table_counts(db)
        dry = run(db, now, dry_run=True)
        assert _table_counts(db) == before
        real = run(db, now)
        assert figures(dry) == figures(real)
        assert dry.dry_run and not real.dry_run and real.changed > 0
        assert _table_counts(db) != before
    finally:
        db.dispose()


def test_more_rows_than_one_batch_are_all_processed_in_bounded_batches(database_url: str) -> None:
    statements: list[int] = []
    db = Database(database_url)
    try:
        with db.session() as session:
            session.add_all(
                Message(
                    direction=Direction.INBOUND,
                    channel=Channel.SMS,
                    address="+447400000009",
                    text="x",
                    created_at=T0,
                )
                for _ in range(25)
            )
        event.listen(db.engine, "before_cursor_execute", _note_into(statements))
        # Each batch commits on its own: when the second batch deletes, another connection
        # already sees the first batch gone.
        seen_between: list[int] = []
        other = Database(database_url)

        def look(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            if sql.startswith("DELETE FROM messages") and len(seen_between) < 2:
                with other.autocommit() as reader:  # reads what is committed, takes no lock
                    seen_between.append(
                        int(reader.execute(select(func.count()).select_from(Message)).scalar_one())
                    )

        event.listen(db.engine, "before_cursor_execute", look)
        try:
            result = run(db, T0 + years(7), batch_size=10)
        finally:
            other.dispose()
        messages = next(k for k in result.kinds if k.kind is Kind.MESSAGES)
        assert (messages.examined, messages.deleted, messages.batches) == (25, 25, 3)
        assert seen_between == [25, 15]
        assert _count(db, Message) == 0
        assert max(statements) <= 30  # one batch's ids at most, never an unbounded IN list
    finally:
        db.dispose()


def _note_into(seen: list[int]) -> Any:
    """Notes the number of parameters of every statement run."""

    def note(_conn: Any, _cursor: Any, _sql: str, params: Any, *_: Any) -> None:
        seen.append(len(params) if isinstance(params, dict | list | tuple) else 0)

    return note


runner = CliRunner()


def test_the_cli_prints_the_figures_and_a_real_run_is_audited(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "doorstep.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", url)
    monkeypatch.setenv("DOORSTEP_RETENTION_TRANSCRIPTS_DAYS", "1")
    db = Database(url)
    try:
        make_visit(db)  # written in 2020: its transcript is long past a day
        dry = runner.invoke(cli, ["retention", "run", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "Retention dry run" in dry.output and "would delete" in dry.output
        assert "messages" in dry.output and "audit_events" in dry.output
        assert _count(db, Message) == 3 and _count(db, AuditEvent) == 0
        real = runner.invoke(cli, ["retention", "run"])
        assert real.exit_code == 0, real.output
        assert _count(db, Message) == 0
        with db.session() as session:
            audit = session.exec(select(AuditEvent)).one()
        assert audit.action == AUDIT_ACTION and audit.actor == "cli"
        assert audit.detail["kinds"]["messages"]["deleted"] == 3
        assert "+44" not in json.dumps(audit.detail)
    finally:
        db.dispose()


def test_the_scheduler_runs_retention_daily_on_the_leader(lite: Database) -> None:
    db = lite
    runtime = build_runtime(
        load_settings(database_url=db.url, scheduler_in_process=False, nlu="keyword"),
        clock=FixedClock(T0 + years(7)),
    )
    scheduler = build_scheduler(runtime, worker_id="test", dispatch=False)

    async def check() -> RetentionFigures | None:
        await scheduler.start()
        try:
            assert scheduler._scheduler is not None
            job = scheduler._scheduler.get_job("retention")
            assert job is not None
            trigger = str(job.trigger)
            assert "hour='3'" in trigger and "minute='30'" in trigger
            assert "Europe/London" in repr(job.trigger.timezone)
            await scheduler.leader_job()  # on SQLite this process is always the leader
            assert scheduler.is_leader
            return await scheduler.retention_job()
        finally:
            await scheduler.shutdown()

    make_visit(db)
    ran = asyncio.run(check())
    assert ran is not None and not ran.dry_run
    assert _count(db, Message) == 0


def test_a_telegram_account_that_opted_out_stays_opted_out_when_it_links_again(
    lite: Database,
) -> None:
    db = lite
    gone = make_visit(db, tenancy_ended_on=T0.date())
    with db.session() as session:
        resident = session.get(Resident, gone.resident_id)
        assert resident is not None
        resident.telegram_id, resident.telegram_opted_out_at = 777_001, T0
        session.add(resident)
    now = T0 + years(6) + 3 * DAY
    run(db, now)
    newcomer = make_visit(db, at=now)
    with db.session() as session:
        outcome = link_by_contact(
            session, phone=newcomer.mobile, telegram_id=777_001, now=now + DAY
        )
        assert outcome.resident_id == newcomer.resident_id
    with db.session() as session:
        linked = session.get(Resident, newcomer.resident_id)
        assert linked is not None and linked.telegram_opted_out_at == T0
        record_opt_in(session, resident_id=newcomer.resident_id, channel=Channel.TELEGRAM, at=now)
    assert _count(db, ContactSuppression) == 0  # opting back in lifts it


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("retention_feedback_days", 0, "DOORSTEP_RETENTION_FEEDBACK_DAYS: must be a whole number"),
        ("retention_outbox_days", -5, "DOORSTEP_RETENTION_OUTBOX_DAYS: must be a whole number"),
        ("retention_at", "02:15", "DOORSTEP_RETENTION_AT: must be outside the 01:00-03:00"),
        ("retention_at", "3.30", "DOORSTEP_RETENTION_AT: must be a time of day as HH:MM"),
        ("retention_batch_size", 0, "DOORSTEP_RETENTION_BATCH_SIZE"),
    ],
)
def test_a_bad_retention_setting_is_one_clear_line(name: str, value: object, says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(**{name: value})
    assert says in str(refused.value)
