"""Which messages a visit needs, derived from its state alone.

The planner is pure: given one appointment as it stands (status, version, timeline, the
resident's access-need review dates) and the time, it returns the messages that visit
needs. Nothing is remembered between runs; the outbox's idempotency key
(appointment, version, kind) makes planning twice harmless, and because the key carries
the version a message planned for an old version can never be confused with the new
one. Whether and when each message may actually go is the contact policy's job, asked at
plan time and again at send time (bot/outbound/planning.py, bot/dispatch).

What a visit needs (times are Europe/London wall clock):

- `booking_confirmation`: a visit the landlord's scheduler booked (issue 14): day, window,
  who is coming (name, employer, badge) and the visit code, at once; the resident booked
  nothing themselves, so this is their first word of it. Useless after the visit starts.
- `change_confirmation`: a change staff or the landlord's scheduler made (the latest
  version is theirs), at once; useless after the visit starts (a cancellation: after its
  end); time-critical same day.
- `reminder_evening`: 18:00 the day before, until the visit starts.
- `reminder_morning`: 08:00 on the day, until the window ends; time-critical.
- `needs_review`: once an access need's review date has passed, before the next visit.
- `on_the_way`, `arrived`, `running_late`, `cant_get_in`: at the operative's report;
  time-critical; the key carries the event id (a second report is a second message).
- `feedback_request`: 2 hours after completion, for 7 days (the feedback flow's window).
- `no_access`: the landlord's system reports nobody could get in (issue 14), at once, with
  "reply 1 to choose a new time"; for 2 days. (An operative's own report was preceded by
  `cant_get_in` while they stood at the door, which already offered a new time.)
- `follow_on`: the visit is done but the repair needs another one (the landlord's system
  says so), at once, with "reply 1 to choose a time"; for 7 days.

Nothing is planned for 01:00-03:00 UK time (the clocks change then); a moment in that
band moves to 03:00.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flows.feedback import WINDOW as FEEDBACK_WINDOW
from flows.local_time import LONDON, QUIET_END, in_quiet_band
from flows.wording import service as words
from storage.enums import AppointmentStatus

#: Purpose word stored on every planned row (flows.policy.Purpose.SERVICE).
SERVICE = "service"
EVENING_AT = time(18, 0)
MORNING_AT = time(8, 0)
FEEDBACK_AFTER = timedelta(hours=2)
#: An evening reminder first planned later than this after 18:00 (the planner was down) is
#: left out: the morning reminder follows anyway.
EVENING_GRACE = timedelta(hours=2)
#: Event kinds that change the appointment's version (storage.repositories.appointments
#: `bump_version`).
VERSION_EVENTS = frozenset({"rebooked", "cancelled"})
#: Who made a change the resident did not make themselves, so must be told of: staff
#: ("staff", "staff:<id>") and the landlord's own systems through the API.
LANDLORD = "landlord"
#: How long the news of a landlord's no-access report or a follow-on visit is worth sending.
NO_ACCESS_USE_BY = timedelta(days=2)
FOLLOW_ON_USE_BY = timedelta(days=7)
STATUS_EVENTS = ("on_the_way", "arrived", "running_late", "cant_get_in")
#: How long after the report a status message is still worth sending.
_STATUS_USE_BY = {
    "on_the_way": timedelta(hours=2),
    "arrived": timedelta(minutes=30),
    "running_late": timedelta(hours=2),
    "cant_get_in": timedelta(hours=4),
}


@dataclass(frozen=True, slots=True)
class VisitEvent:
    id: int
    kind: str
    at: datetime
    actor: str = "system"
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """One appointment as the planner needs it; built from the database by
    bot/outbound/planning.py."""

    appointment_id: int
    version: int
    status: AppointmentStatus
    day: date
    #: How residents see the visit: "Tue 1 Dec, morning 8am-12pm".
    label: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    resident_first_name: str
    operative_name: str
    visit_code: str
    events: tuple[VisitEvent, ...] = ()
    #: Review dates of the resident's active access needs.
    review_dates: tuple[date, ...] = ()
    #: The resident's earliest booked visit from now on: the one a review prompt is for.
    is_next_visit: bool = True
    feedback_given: bool = False
    #: Said in a confirmation of a visit the resident did not book themselves.
    operative_employer: str = ""
    operative_badge: str = ""
    job_description: str = ""
    #: The visit's repair: "1" books a new visit for that very job.
    job_id: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    kind: str
    key: str
    text: str
    not_before: datetime
    expires_at: datetime
    time_critical: bool
    appointment_id: int
    appointment_version: int
    visit_day: date
    purpose: str = SERVICE
    payload: Mapping[str, Any] = field(default_factory=dict)


def plan_visit(
    facts: VisitFacts,
    *,
    now: datetime,
    zone: ZoneInfo = LONDON,
    planned: Collection[str] = frozenset(),
) -> list[PlannedMessage]:
    """Every message this visit needs now, for its current version only.

    Messages whose use-by time has passed are left out, and reminders whose moment came
    before the current version was made are too (the resident has just been told).
    Messages whose key is in `planned` (in the outbox already) are left out too, without
    writing their text: a planning pass re-reads every live visit, and wording and
    costing the same SMS again for each was most of its time (`plan_new`).
    """
    return plan_new(facts, now=now, zone=zone, planned=planned)[0]


def plan_new(
    facts: VisitFacts,
    *,
    now: datetime,
    zone: ZoneInfo = LONDON,
    planned: Collection[str] = frozenset(),
) -> tuple[list[PlannedMessage], int]:
    """`plan_visit`'s messages, and how many more it needs that `planned` holds already."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    made_at = version_made_at(facts)
    plan = _Plan(facts, zone, now=now, planned=planned)
    if facts.status == AppointmentStatus.BOOKED:
        plan.booking_confirmation()
        plan.change_confirmation(made_at)
        plan.reminders(made_at, now)
        plan.needs_review(now)
        plan.status_news(made_at)
    elif facts.status == AppointmentStatus.CANCELLED:
        plan.change_confirmation(made_at)
    elif facts.status == AppointmentStatus.COMPLETED:
        plan.follow_on()
        if not facts.feedback_given:
            plan.feedback()
    elif facts.status == AppointmentStatus.NO_ACCESS:
        plan.no_access()
    return plan.messages, plan.already_planned


def version_made_at(facts: VisitFacts) -> datetime:
    """When the current version came about: its change event, else the booking."""
    for event in reversed(facts.events):
        if event.kind in VERSION_EVENTS and _version_of(event) == facts.version:
            return event.at
    return facts.created_at


def outside_quiet_band(moment: datetime, zone: ZoneInfo = LONDON) -> datetime:
    """`moment`, or 03:00 UK time if it falls in the 01:00-03:00 band (clock changes)."""
    # Both passes of October's repeated 01:00-02:00 read 01:xx on the wall clock, and
    # March's missing hour cannot occur in an aware instant, so one wall-clock test covers
    # the changes.
    if in_quiet_band(moment, zone):
        local_day = moment.astimezone(zone).date()
        return datetime.combine(local_day, QUIET_END, tzinfo=zone).astimezone(UTC)
    return moment


def told_of(actor: str) -> bool:
    """Whether a change by `actor` must be confirmed to the resident (they did not make it)."""
    return actor.startswith("staff") or actor == LANDLORD


def _version_of(event: VisitEvent) -> int | None:
    value = event.data.get("version")
    return (
        int(value)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit())
        else None
    )


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _eta(event: VisitEvent) -> datetime | None:
    value = event.data.get("eta")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


class _Plan:
    """Collects one visit's messages; each method adds at most one kind. A message past
    its use-by time, or whose key is planned already, is left out before its text is
    written."""

    def __init__(
        self, facts: VisitFacts, zone: ZoneInfo, *, now: datetime, planned: Collection[str]
    ) -> None:
        self.facts = facts
        self.zone = zone
        self.now = now
        self.planned = planned
        self.messages: list[PlannedMessage] = []
        self.already_planned = 0

    def add(
        self,
        kind: str,
        text: Callable[[], str],
        *,
        not_before: datetime,
        expires_at: datetime,
        time_critical: bool,
        key_suffix: str = "",
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        f = self.facts
        if expires_at <= self.now:
            return
        key = f"{f.appointment_id}:{f.version}:{kind}{key_suffix}"
        if key in self.planned:
            self.already_planned += 1
            return
        self.messages.append(
            PlannedMessage(
                kind=kind,
                key=key,
                text=text(),
                not_before=outside_quiet_band(not_before, self.zone),
                expires_at=expires_at,
                time_critical=time_critical,
                appointment_id=f.appointment_id,
                appointment_version=f.version,
                visit_day=f.day,
                payload=dict(payload or {}),
            )
        )

    def _visit_menu(self) -> dict[str, Any]:
        a = self.facts.appointment_id
        return {
            "options": [
                {"key": "1", "label": "Change the time"},
                {"key": "2", "label": "Call the visit off"},
            ],
            "menu": [
                ["1", "Change the time", "rebook", a],
                ["2", "Call the visit off", "cancel", a],
            ],
        }

    def _at_door_menu(self) -> dict[str, Any]:
        a = self.facts.appointment_id
        return {
            "options": [
                {"key": "1", "label": "I am in"},
                {"key": "2", "label": "Choose a new time"},
            ],
            "menu": [["1", "I am in", "at_home", a], ["2", "Choose a new time", "rebook", a]],
        }

    def _rebook_menu(self) -> dict[str, Any]:
        a = self.facts.appointment_id
        return {
            "options": [{"key": "1", "label": "Choose a new time"}],
            "menu": [["1", "Choose a new time", "rebook", a]],
        }

    def _book_menu(self) -> dict[str, Any]:
        """ "1" books a new time for the repair (the visit itself is over or off)."""
        return {
            "options": [{"key": "1", "label": "Choose a new time"}],
            "menu": [["1", "Choose a new time", "book", self.facts.job_id]],
        }

    def booking_confirmation(self) -> None:
        f = self.facts
        booked = next((e for e in f.events if e.kind == "booked"), None)
        if f.version != 1 or booked is None or not told_of(booked.actor):
            return
        text = partial(
            words.landlord_booked,
            f.label,
            f.job_description,
            f.operative_name,
            f.operative_employer,
            f.operative_badge,
            f.visit_code,
        )
        self.add(
            "booking_confirmation",
            text,
            not_before=booked.at,
            expires_at=f.starts_at,
            time_critical=booked.at.astimezone(self.zone).date() == f.day,
            payload=self._visit_menu(),
        )

    def change_confirmation(self, made_at: datetime) -> None:
        f = self.facts
        change = next(
            (
                e
                for e in reversed(f.events)
                if e.kind in VERSION_EVENTS and _version_of(e) == f.version
            ),
            None,
        )
        if change is None or not told_of(change.actor):
            return
        same_day = made_at.astimezone(self.zone).date() == f.day
        if change.kind == "cancelled" and change.data.get("job") == "cancelled":
            # The landlord cancelled the repair itself: there is nothing to book again.
            self.add(
                "change_confirmation",
                partial(words.repair_cancelled, f.resident_first_name, f.label),
                not_before=made_at,
                expires_at=f.ends_at,
                time_critical=same_day,
            )
            return
        if change.kind == "cancelled":
            text = partial(words.staff_cancelled, f.resident_first_name, f.label)
            self.add(
                "change_confirmation",
                text,
                not_before=made_at,
                expires_at=f.ends_at,
                time_critical=same_day,
                payload=self._book_menu(),
            )
            return
        text = partial(
            words.staff_rebooked, f.resident_first_name, f.label, f.operative_name, f.visit_code
        )
        self.add(
            "change_confirmation",
            text,
            not_before=made_at,
            expires_at=f.starts_at,
            time_critical=same_day,
            payload=self._rebook_menu(),
        )

    def reminders(self, made_at: datetime, now: datetime) -> None:
        f = self.facts
        evening = _local(f.day - timedelta(days=1), EVENING_AT, self.zone)
        if made_at < evening and now < evening + EVENING_GRACE:
            self.add(
                "reminder_evening",
                partial(
                    words.evening_reminder,
                    f.resident_first_name,
                    f.label,
                    f.operative_name,
                    f.visit_code,
                ),
                not_before=evening,
                expires_at=f.starts_at,
                time_critical=False,
                payload=self._visit_menu(),
            )
        morning = _local(f.day, MORNING_AT, self.zone)
        if made_at < morning:
            self.add(
                "reminder_morning",
                partial(
                    words.morning_reminder,
                    f.resident_first_name,
                    f.label,
                    f.operative_name,
                    f.visit_code,
                ),
                not_before=morning,
                expires_at=f.ends_at,
                time_critical=True,
            )

    def needs_review(self, now: datetime) -> None:
        f = self.facts
        due = [d for d in f.review_dates if d <= f.day]
        if not f.is_next_visit or not due:
            return
        prompt_day = max(min(due), now.astimezone(self.zone).date())
        self.add(
            "needs_review",
            partial(words.needs_review, f.resident_first_name, f.label),
            not_before=max(now, _local(prompt_day, time(10, 0), self.zone)),
            expires_at=f.starts_at,
            time_critical=False,
            payload={
                "options": [{"key": "1", "label": "Check my needs"}],
                "menu": [["1", "Check my needs", "access", None]],
            },
        )

    def status_news(self, made_at: datetime) -> None:
        f = self.facts
        for event in f.events:
            if event.kind not in STATUS_EVENTS or event.at < made_at:
                continue
            name, zone = f.operative_name, self.zone
            payload: Mapping[str, Any] = {}
            match event.kind:
                case "on_the_way":
                    text = partial(words.on_the_way, name, _eta(event), zone)
                    use_by = max(event.at, f.ends_at) + _STATUS_USE_BY[event.kind]
                case "arrived":
                    text = partial(words.arrived, name, f.visit_code)
                    use_by = event.at + _STATUS_USE_BY[event.kind]
                case "running_late":
                    text = partial(words.running_late, name, _eta(event), zone)
                    use_by = max(event.at, f.ends_at) + _STATUS_USE_BY[event.kind]
                    payload = self._rebook_menu()
                case _:
                    text = partial(words.cant_get_in, name)
                    use_by = event.at + _STATUS_USE_BY[event.kind]
                    payload = self._at_door_menu()
            self.add(
                event.kind,
                text,
                not_before=event.at,
                expires_at=use_by,
                time_critical=True,
                key_suffix=f":{event.id}",
                payload=payload,
            )

    def no_access(self) -> None:
        f = self.facts
        report = next((e for e in reversed(f.events) if e.kind == "no_access"), None)
        if report is None or report.actor != LANDLORD:
            return
        self.add(
            "no_access",
            partial(words.no_access, f.resident_first_name, f.label, f.operative_name),
            not_before=report.at,
            expires_at=report.at + NO_ACCESS_USE_BY,
            time_critical=False,
            payload=self._book_menu(),
        )

    def follow_on(self) -> None:
        f = self.facts
        report = next((e for e in reversed(f.events) if e.kind == "follow_on_needed"), None)
        if report is None:
            return
        self.add(
            "follow_on",
            partial(words.follow_on, f.resident_first_name, f.label),
            not_before=report.at,
            expires_at=report.at + FOLLOW_ON_USE_BY,
            time_critical=False,
            payload=self._book_menu(),
        )

    def feedback(self) -> None:
        f = self.facts
        done = next((e for e in reversed(f.events) if e.kind == "done"), None)
        if done is None:
            return
        self.add(
            "feedback_request",
            partial(words.feedback_request, f.label),
            not_before=done.at + FEEDBACK_AFTER,
            expires_at=done.at + FEEDBACK_WINDOW,
            time_critical=False,
            payload={"start_flow": "feedback", "appointment_id": f.appointment_id},
        )
