"""The pure planner: which messages a visit needs, when, and under which key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.planner import VisitEvent, VisitFacts, outside_quiet_band, plan_visit
from flows.sms import sms_cost
from flows.wording import service as words
from storage.enums import AppointmentStatus

BOOKED = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def facts(day: date, **changes: object) -> VisitFacts:
    starts = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    base = VisitFacts(
        appointment_id=7,
        version=1,
        status=AppointmentStatus.BOOKED,
        day=day,
        label=f"{day:%a} {day.day} {day:%b}, morning 8am-12pm",
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        created_at=BOOKED,
        resident_first_name="Margaret",
        operative_name="Sam Carter",
        visit_code="4821",
    )
    return VisitFacts(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})


def by_kind(day: date, now: datetime, **changes: object) -> dict[str, datetime]:
    return {m.kind: m.not_before for m in plan_visit(facts(day, **changes), now=now)}


def test_reminders_follow_the_wall_clock_across_the_spring_change() -> None:
    # Mon 30 Mar 2026: the clocks went forward early on Sun 29 Mar (BST = UTC+1).
    planned = by_kind(date(2026, 3, 30), BOOKED)
    assert planned["reminder_evening"] == datetime(2026, 3, 29, 17, 0, tzinfo=UTC)  # 18:00 BST
    assert planned["reminder_morning"] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 08:00 BST


def test_reminders_follow_the_wall_clock_across_the_autumn_change() -> None:
    # Sat 24 Oct is still BST; the clocks go back early on Sun 25 Oct (GMT = UTC).
    planned = by_kind(date(2026, 10, 26), BOOKED)
    assert planned["reminder_evening"] == datetime(2026, 10, 25, 18, 0, tzinfo=UTC)
    assert planned["reminder_morning"] == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    saturday = by_kind(date(2026, 10, 25), BOOKED)
    assert saturday["reminder_evening"] == datetime(2026, 10, 24, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "moved_to"),
    [
        # 01:30 BST, first pass of the repeated hour on 25 Oct -> 03:00 GMT
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 3, 0, tzinfo=UTC)),
        # 01:30 GMT, the second pass
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), datetime(2026, 10, 25, 3, 0, tzinfo=UTC)),
        # 00:59 GMT on 29 Mar, then the clock jumps from 01:00 GMT to 02:00 BST -> 03:00 BST
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),
        (datetime(2026, 3, 29, 1, 10, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
        # an ordinary winter night
        (datetime(2026, 12, 2, 2, 59, tzinfo=UTC), datetime(2026, 12, 2, 3, 0, tzinfo=UTC)),
        (datetime(2026, 12, 2, 3, 0, tzinfo=UTC), datetime(2026, 12, 2, 3, 0, tzinfo=UTC)),
    ],
)
def test_nothing_is_planned_between_one_and_three(moment: datetime, moved_to: datetime) -> None:
    assert outside_quiet_band(moment) == moved_to


def test_feedback_request_two_hours_after_completion_starts_the_feedback_flow() -> None:
    done_at = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    visit = facts(
        date(2026, 12, 1),
        status=AppointmentStatus.COMPLETED,
        events=(VisitEvent(40, "done", done_at, "operative"),),
    )
    (request,) = plan_visit(visit, now=done_at)
    assert request.kind == "feedback_request"
    assert request.key == "7:1:feedback_request"
    assert request.not_before == done_at + timedelta(hours=2)
    assert request.expires_at == done_at + timedelta(days=7)
    assert dict(request.payload) == {"start_flow": "feedback", "appointment_id": 7}
    given = facts(
        date(2026, 12, 1),
        status=AppointmentStatus.COMPLETED,
        events=(VisitEvent(40, "done", done_at, "operative"),),
        feedback_given=True,
    )
    assert plan_visit(given, now=done_at) == []


def test_a_late_finish_asks_for_feedback_after_the_quiet_band() -> None:
    done_at = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # +2h = 01:30
    visit = facts(
        date(2026, 12, 1),
        status=AppointmentStatus.COMPLETED,
        events=(VisitEvent(1, "done", done_at),),
    )
    (request,) = plan_visit(visit, now=done_at)
    assert request.not_before == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_status_reports_are_time_critical_and_keyed_by_event() -> None:
    now = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
    events = (
        VisitEvent(51, "on_the_way", now, "operative", {"eta": "2026-12-01T09:05:00+00:00"}),
        VisitEvent(52, "arrived", now + timedelta(minutes=25), "operative"),
    )
    planned = {m.kind: m for m in plan_visit(facts(date(2026, 12, 1), events=events), now=now)}
    assert planned["on_the_way"].key == "7:1:on_the_way:51"
    assert planned["on_the_way"].time_critical
    assert "arriving about 9:05am" in planned["on_the_way"].text
    assert planned["arrived"].key == "7:1:arrived:52"
    assert "4821" in planned["arrived"].text
    assert "reminder_evening" not in planned  # its use-by time (the visit start) has passed


def test_only_the_current_version_is_planned_and_reports_before_it_are_ignored() -> None:
    rebooked_at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    events = (
        VisitEvent(1, "booked", BOOKED, "resident"),
        VisitEvent(2, "running_late", BOOKED + timedelta(hours=1), "operative"),
        VisitEvent(3, "rebooked", rebooked_at, "resident", {"version": 2}),
    )
    planned = plan_visit(facts(date(2026, 12, 2), version=2, events=events), now=rebooked_at)
    assert {m.key for m in planned} == {"7:2:reminder_evening", "7:2:reminder_morning"}


def test_a_change_staff_made_is_confirmed_and_resident_changes_are_not() -> None:
    at = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    by_staff = (VisitEvent(3, "rebooked", at, "staff:4", {"version": 2}),)
    planned = {
        m.kind: m for m in plan_visit(facts(date(2026, 12, 1), version=2, events=by_staff), now=at)
    }
    assert planned["change_confirmation"].key == "7:2:change_confirmation"
    assert planned["change_confirmation"].time_critical  # same-day change
    assert "reminder_evening" not in planned  # the resident has just been told
    by_resident = (VisitEvent(3, "rebooked", at, "resident", {"version": 2}),)
    kinds = {
        m.kind for m in plan_visit(facts(date(2026, 12, 1), version=2, events=by_resident), now=at)
    }
    assert "change_confirmation" not in kinds
    cancelled = facts(
        date(2026, 12, 3),
        version=2,
        status=AppointmentStatus.CANCELLED,
        events=(VisitEvent(3, "cancelled", at, "staff:4", {"version": 2}),),
    )
    (notice,) = plan_visit(cancelled, now=at)
    assert notice.kind == "change_confirmation" and "called off" in notice.text


def test_review_prompt_only_when_a_need_is_due_before_the_next_visit() -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    due = by_kind(date(2026, 12, 2), now, review_dates=(date(2026, 11, 1),))
    assert due["needs_review"] == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    later = by_kind(date(2026, 12, 2), now, review_dates=(date(2027, 6, 1),))
    assert "needs_review" not in later
    not_next = by_kind(
        date(2026, 12, 2), now, review_dates=(date(2026, 11, 1),), is_next_visit=False
    )
    assert "needs_review" not in not_next


LONGEST = "Bartholomew-Montgomery"
TEXTS = [
    words.evening_reminder(LONGEST, "Wed 30 Sep, afternoon 12pm-5pm", f"{LONGEST} Smythe", "4821"),
    words.morning_reminder(LONGEST, "Wed 30 Sep, afternoon 12pm-5pm", f"{LONGEST} Smythe", "4821"),
    words.on_the_way(f"{LONGEST} Smythe", datetime(2026, 9, 30, 11, tzinfo=UTC), LONDON),
    words.arrived(f"{LONGEST} Smythe", "4821"),
    words.running_late(f"{LONGEST} Smythe", datetime(2026, 9, 30, 11, tzinfo=UTC), LONDON),
    words.cant_get_in(f"{LONGEST} Smythe"),
    words.feedback_request("Wed 30 Sep, afternoon 12pm-5pm"),
    words.needs_review(LONGEST, "Wed 30 Sep, afternoon 12pm-5pm"),
    words.staff_rebooked(LONGEST, "Wed 30 Sep, afternoon 12pm-5pm", f"{LONGEST} Smythe", "4821"),
    words.staff_cancelled(LONGEST, "Wed 30 Sep, afternoon 12pm-5pm"),
    words.disruption(LONGEST, "Wed 30 Sep, afternoon 12pm-5pm", "x" * 500),
]


@pytest.mark.parametrize("text", TEXTS)
def test_every_service_message_is_gsm7_within_two_segments(text: str) -> None:
    cost = sms_cost(text)
    assert cost.encoding == "GSM-7", text
    assert cost.segments <= 2, (cost, text)


def test_staff_reason_is_made_sms_safe() -> None:
    assert (
        words.clean_reason("Van broke down \u2013 we\u2019re sorry.")
        == "Van broke down - we're sorry"
    )
