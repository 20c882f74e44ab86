"""Staff broadcasts: remind everyone with a visit on a day, or tell them a visit is disrupted.

There is deliberately no way to send text that is not tied to a visit: each broadcast
derives one message per booked appointment, keyed (appointment, version, kind) like the
planner's, and every one goes through the contact policy and is recorded with its
decision. Sending the same broadcast twice queues nothing new. A preview runs exactly
the same code in a transaction that is rolled back, so what staff see is what would
happen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.outbound.planning import PlanStats, enqueue_planned, load_facts
from flows.local_time import LONDON
from flows.planner import PlannedMessage, VisitFacts
from flows.wording import service as words
from storage.db import Database
from storage.enums import Decision
from storage.models import Appointment
from storage.repositories import visit_listing, visits
from storage.repositories.visit_listing import BookedKey

Progress = Callable[[int, int], None]
REMINDER_KIND = "reminder_broadcast"
DISRUPTION_KIND = "disruption"


class BroadcastRefused(ValueError):
    """The broadcast cannot go as asked (no reason given for a disruption, say)."""


@dataclass(frozen=True, slots=True)
class BroadcastLine:
    """One resident's line in a preview or a send: who, which visit, what the policy said."""

    appointment_id: int
    resident_name: str
    masked_phone: str
    visit: str
    decision: str
    reason: str
    detail: str
    #: None when the message was already queued by an earlier run.
    outbox_id: int | None


@dataclass(frozen=True, slots=True)
class BroadcastSummary:
    lines: tuple[BroadcastLine, ...]
    by_decision: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def queued(self) -> int:
        return self.by_decision.get(Decision.SEND, 0)

    @property
    def deferred(self) -> int:
        return self.by_decision.get(Decision.DEFER, 0)

    @property
    def expired(self) -> int:
        return self.by_decision.get(Decision.EXPIRE, 0)

    @property
    def blocked(self) -> int:
        return self.by_decision.get(Decision.BLOCK, 0)

    @property
    def already_queued(self) -> int:
        return self.by_decision.get("already_queued", 0)


def mask_phone(mobile: str | None) -> str:
    """+447400123456 -> +44 7*** ***456: enough for staff to tell residents apart."""
    if not mobile:
        return "(no mobile)"
    digits = mobile.removeprefix("+44")
    return f"+44 {digits[:1]}*** ***{digits[-3:]}"


@dataclass(frozen=True, slots=True)
class PreviewPage:
    """One page of a preview: these visits judged by the real planner and policy (in a
    transaction rolled back), out of `total` booked that day; `following` is where the
    next page starts (None on the last)."""

    lines: tuple[BroadcastLine, ...]
    total: int
    following: BookedKey | None


def preview_page(
    db: Database,
    *,
    day: date,
    now: datetime,
    after: BookedKey | None,
    limit: int,
    operative_id: int | None = None,
    reason: str = "",
) -> PreviewPage:
    """A page of the reminders preview (or, with `operative_id`, of the disruption notice
    preview): the next `limit` booked visits in start order. A big landlord's day has a
    thousand visits, each judged for real, so a preview judges one page at a time; the
    send judges them all."""
    with _rolled_back(db) as session:
        found = visit_listing.booked_page(
            session, day=day, operative_id=operative_id, after=after, limit=limit + 1
        )
        total = visit_listing.booked_count(session, day=day, operative_id=operative_id)
        shown = found[:limit]
        if operative_id is None:
            summary = _reminders(session, day=day, now=now, progress=None, appointments=shown)
        else:
            summary = _disruption(
                session,
                operative_id=operative_id,
                day=day,
                now=now,
                reason=reason,
                progress=None,
                appointments=shown,
            )
        last = shown[-1] if len(found) > limit and shown else None
        following = None
        if last is not None:
            assert last.id is not None
            following = BookedKey(starts_at=last.starts_at, id=last.id)
        return PreviewPage(summary.lines, total, following)


def preview_reminders(db: Database, *, day: date, now: datetime) -> list[BroadcastLine]:
    with _rolled_back(db) as session:
        return list(_reminders(session, day=day, now=now, progress=None).lines)


def send_reminders(
    db: Database, *, day: date, now: datetime, progress: Progress | None = None
) -> BroadcastSummary:
    with db.session() as session:
        return _reminders(session, day=day, now=now, progress=progress)


def preview_disruption(
    db: Database, *, operative_id: int, day: date, now: datetime, reason: str
) -> list[BroadcastLine]:
    with _rolled_back(db) as session:
        return list(
            _disruption(
                session, operative_id=operative_id, day=day, now=now, reason=reason, progress=None
            ).lines
        )


def send_disruption(
    db: Database,
    *,
    operative_id: int,
    day: date,
    now: datetime,
    reason: str,
    progress: Progress | None = None,
) -> BroadcastSummary:
    with db.session() as session:
        return _disruption(
            session, operative_id=operative_id, day=day, now=now, reason=reason, progress=progress
        )


def _reminders(
    session: Session,
    *,
    day: date,
    now: datetime,
    progress: Progress | None,
    zone: ZoneInfo = LONDON,
    appointments: list[Appointment] | None = None,
) -> BroadcastSummary:
    if appointments is None:
        appointments = _booked(session, day=day)

    def message(facts: VisitFacts) -> PlannedMessage:
        text = words.morning_reminder if _today(now, zone) == day else words.evening_reminder
        return _message(
            facts,
            REMINDER_KIND,
            text(facts.resident_first_name, facts.label, facts.operative_name, facts.visit_code),
            now=now,
            zone=zone,
            menu=[
                ["1", "Change the time", "rebook", facts.appointment_id],
                ["2", "Call the visit off", "cancel", facts.appointment_id],
            ],
        )

    return _broadcast(session, appointments, message, now=now, zone=zone, progress=progress)


def _disruption(
    session: Session,
    *,
    operative_id: int,
    day: date,
    now: datetime,
    reason: str,
    progress: Progress | None,
    zone: ZoneInfo = LONDON,
    appointments: list[Appointment] | None = None,
) -> BroadcastSummary:
    cleaned = words.clean_reason(reason)
    if len(cleaned) < 3:
        raise BroadcastRefused("say why the visits are disrupted (--reason)")
    if appointments is None:
        appointments = _booked(session, day=day, operative_id=operative_id)

    def message(facts: VisitFacts) -> PlannedMessage:
        return _message(
            facts,
            DISRUPTION_KIND,
            words.disruption(facts.resident_first_name, facts.label, cleaned),
            now=now,
            zone=zone,
            menu=[["1", "Choose a new time", "rebook", facts.appointment_id]],
        )

    return _broadcast(session, appointments, message, now=now, zone=zone, progress=progress)


def _booked(session: Session, *, day: date, operative_id: int | None = None) -> list[Appointment]:
    return visits.booked_on(session, day=day, operative_id=operative_id)


def _message(
    facts: VisitFacts,
    kind: str,
    text: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    menu: list[list[object]],
) -> PlannedMessage:
    return PlannedMessage(
        kind=kind,
        key=f"{facts.appointment_id}:{facts.version}:{kind}",
        text=text,
        not_before=now,
        expires_at=facts.ends_at if kind == DISRUPTION_KIND else facts.starts_at,
        # On the day itself the news cannot wait for Monday: it may use Sunday hours.
        time_critical=_today(now, zone) == facts.day,
        appointment_id=facts.appointment_id,
        appointment_version=facts.version,
        visit_day=facts.day,
        payload={
            "options": [{"key": str(k), "label": str(label)} for k, label, *_ in menu],
            "menu": menu,
        },
    )


def _broadcast(
    session: Session,
    appointments: list[Appointment],
    message: Callable[[VisitFacts], PlannedMessage],
    *,
    now: datetime,
    zone: ZoneInfo,
    progress: Progress | None,
) -> BroadcastSummary:
    total = len(appointments)
    lines: list[BroadcastLine] = []
    by_decision: dict[str, int] = {}
    by_reason: dict[str, int] = {}
    done = 0
    for start in range(0, total, 200):
        batch = appointments[start : start + 200]
        people = _people(session, batch)  # per batch: no statement lists a whole day's ids
        facts = load_facts(session, batch, now=now, zone=zone)
        stats = PlanStats()
        judged = enqueue_planned(
            session, [message(f) for f in facts], now=now, zone=zone, stats=stats
        )
        verdicts = {row.appointment_id: (row, verdict) for row, verdict in judged}
        for f in facts:
            name, phone = people.get(f.appointment_id, ("(unknown)", None))
            found = verdicts.get(f.appointment_id)
            if found is None:
                decision, reason, detail, outbox_id = "already_queued", "already_queued", "", None
            else:
                row, verdict = found
                decision, reason = str(verdict.decision), str(verdict.reason)
                detail, outbox_id = verdict.detail, row.id
            lines.append(
                BroadcastLine(
                    f.appointment_id,
                    name,
                    mask_phone(phone),
                    f.label,
                    decision,
                    reason,
                    detail,
                    outbox_id,
                )
            )
            by_decision[decision] = by_decision.get(decision, 0) + 1
            by_reason[reason] = by_reason.get(reason, 0) + 1
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return BroadcastSummary(tuple(lines), by_decision, by_reason)


def _people(session: Session, appointments: list[Appointment]) -> dict[int, tuple[str, str | None]]:
    ids = [a.id for a in appointments if a.id is not None]
    return visits.contacts(session, appointment_ids=ids)


def _today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


@contextmanager
def _rolled_back(db: Database) -> Iterator[Session]:
    """A session whose writes are always undone: previews run the real code, then forget."""
    with Session(db.engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()
