"""The contact policy's decision, as a resident would notice it: did a message arrive, when,
and if not, why (the reason code staff see)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flows.messages import OPT_OUT_CONFIRMATION
from flows.policy import (
    Candidate,
    ContactRules,
    Purpose,
    PurposeState,
    Reason,
    Recipient,
    Verdict,
    decide,
)
from storage.enums import Channel, Decision, Nation

LONDON = ZoneInfo("Europe/London")
MOBILE = "+447400123456"
RULES = ContactRules()
LIVE = PurposeState(exists=True, current_version=2)
ENGLAND = Recipient(nation=Nation.ENGLAND)


def uk(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


def reminder(planned: datetime, **changes: object) -> Candidate:
    base = Candidate(
        purpose=Purpose.SERVICE,
        kind="reminder",
        channel=Channel.SMS,
        address=MOBILE,
        not_before=planned,
        appointment_version=2,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def run(
    candidate: Candidate,
    now: datetime,
    recipient: Recipient = ENGLAND,
    state: PurposeState | None = LIVE,
    rules: ContactRules = RULES,
) -> Verdict:
    return decide(candidate, recipient, state, rules, now=now)


# --- replies -----------------------------------------------------------------------------


def test_a_reply_at_half_past_eleven_at_night_is_sent() -> None:
    reply = Candidate(
        Purpose.REPLY, "answer", Channel.SMS, MOBILE, not_before=uk(2026, 3, 10, 23, 30)
    )
    verdict = run(reply, uk(2026, 3, 10, 23, 30), state=None)
    assert (verdict.decision, verdict.reason) == (Decision.SEND, Reason.REPLY)


def test_a_reply_on_a_sunday_ignores_caps_and_needs_no_appointment() -> None:
    sunday_night = uk(2026, 3, 8, 22)
    busy = replace(ENGLAND, recent_service_sends=(sunday_night - timedelta(minutes=5),) * 3)
    reply = Candidate(Purpose.REPLY, "answer", Channel.TELEGRAM, "42", not_before=sunday_night)
    assert run(reply, sunday_night, busy, state=None).decision is Decision.SEND


def test_a_reply_to_a_channel_the_resident_opted_out_of_is_blocked() -> None:
    now = uk(2026, 3, 10, 12)
    reply = Candidate(Purpose.REPLY, "answer", Channel.SMS, MOBILE, not_before=now)
    verdict = run(reply, now, replace(ENGLAND, opted_out=frozenset({Channel.SMS})), state=None)
    assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.OPTED_OUT)


def test_the_confirmation_of_an_opt_out_is_the_one_reply_that_goes_through_it() -> None:
    """The opt-out is recorded before its confirmation is sent: the resident must still
    learn it worked. Nothing else passes, and the confirmation passes nothing else
    (a number that is not a UK mobile, or unreachable, still blocks it)."""
    now = uk(2026, 3, 10, 23, 30)
    opted_out = replace(ENGLAND, opted_out=frozenset({Channel.SMS}))
    confirmation = Candidate(Purpose.REPLY, OPT_OUT_CONFIRMATION, Channel.SMS, MOBILE, now)
    verdict = run(confirmation, now, opted_out, state=None)
    assert (verdict.decision, verdict.reason) == (Decision.SEND, Reason.REPLY)
    as_service = replace(confirmation, purpose=Purpose.SERVICE)
    assert run(as_service, now, opted_out, state=None).reason == Reason.OPTED_OUT
    unreachable = replace(opted_out, unreachable=frozenset({Channel.SMS}))
    assert run(confirmation, now, unreachable, state=None).reason == Reason.UNREACHABLE
    landline = replace(confirmation, address="+441132000000")
    assert run(landline, now, opted_out, state=None).reason == Reason.NOT_UK_MOBILE


# --- hours -------------------------------------------------------------------------------


def test_saturday_nine_pm_reminder_is_deferred_to_monday_eight_am() -> None:
    saturday_9pm = uk(2026, 3, 7, 21)
    verdict = run(reminder(saturday_9pm), saturday_9pm)
    assert verdict.decision is Decision.DEFER
    assert verdict.reason is Reason.OUTSIDE_HOURS
    assert verdict.at == uk(2026, 3, 9, 8)
    assert "Mon 9 Mar 08:00" in verdict.detail


def test_saturday_nine_pm_time_critical_goes_sunday_at_ten() -> None:
    saturday_9pm = uk(2026, 3, 7, 21)
    verdict = run(reminder(saturday_9pm, time_critical=True), saturday_9pm)
    assert (verdict.decision, verdict.at) == (Decision.DEFER, uk(2026, 3, 8, 10))


def test_sunday_morning_reminder_says_sunday_is_why() -> None:
    sunday_11am = uk(2026, 3, 8, 11)
    verdict = run(reminder(sunday_11am), sunday_11am)
    assert (verdict.reason, verdict.at) == (Reason.SUNDAY_OR_HOLIDAY, uk(2026, 3, 9, 8))


def test_resident_hours_move_a_nine_am_reminder_to_noon() -> None:
    rules = ContactRules.from_config(None, {"weekday": ["12:00", "20:00"]})
    tuesday_9am = uk(2026, 3, 10, 9)
    verdict = run(reminder(tuesday_9am), tuesday_9am, rules=rules)
    assert (verdict.decision, verdict.at) == (Decision.DEFER, uk(2026, 3, 10, 12))
    assert run(reminder(tuesday_9am), uk(2026, 3, 10, 12), rules=rules).decision is Decision.SEND


def test_a_reminder_planned_for_later_waits_for_its_planned_time() -> None:
    verdict = run(reminder(uk(2026, 3, 10, 15)), uk(2026, 3, 10, 9))
    assert (verdict.decision, verdict.reason, verdict.at) == (
        Decision.DEFER,
        Reason.NOT_YET_DUE,
        uk(2026, 3, 10, 15),
    )


def test_scottish_resident_on_st_andrews_day_hears_on_tuesday_english_on_monday() -> None:
    monday_9am = uk(2026, 11, 30, 9)
    scot = replace(ENGLAND, nation=Nation.SCOTLAND)
    assert run(reminder(monday_9am), monday_9am).decision is Decision.SEND
    verdict = run(reminder(monday_9am), monday_9am, scot)
    assert (verdict.reason, verdict.at) == (Reason.SUNDAY_OR_HOLIDAY, uk(2026, 12, 1, 8))


@pytest.mark.parametrize(
    ("due", "critical", "expected_utc"),
    [
        (uk(2026, 3, 29, 1, 30), False, datetime(2026, 3, 30, 7, tzinfo=UTC)),
        (uk(2026, 3, 29, 1, 30), True, datetime(2026, 3, 29, 9, tzinfo=UTC)),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), True, datetime(2026, 10, 25, 10, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), True, datetime(2026, 10, 25, 10, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), False, datetime(2026, 10, 26, 8, tzinfo=UTC)),
    ],
)
def test_a_message_due_at_half_past_one_on_clock_change_night(
    due: datetime, critical: bool, expected_utc: datetime
) -> None:
    verdict = run(reminder(due, time_critical=critical), due)
    assert verdict.decision is Decision.DEFER
    assert verdict.at.utcoffset() == timedelta(0)
    assert verdict.at == expected_utc


def test_on_clock_change_night_an_all_hours_landlord_waits_for_three_am() -> None:
    rules = ContactRules.from_config({"weekday": ["00:00", "23:59"], "sunday": ["00:00", "23:59"]})
    due = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 01:30 BST
    verdict = run(reminder(due, time_critical=True), due, rules=rules)
    assert (verdict.reason, verdict.at) == (
        Reason.QUIET_HOURS,
        datetime(2026, 10, 25, 3, tzinfo=UTC),
    )


# --- caps --------------------------------------------------------------------------------


def test_fourth_message_in_a_day_waits_until_the_first_leaves_the_24_hours() -> None:
    sent = (uk(2026, 3, 10, 9), uk(2026, 3, 10, 11), uk(2026, 3, 10, 13))
    now = uk(2026, 3, 10, 15)
    verdict = run(reminder(now), now, replace(ENGLAND, recent_service_sends=sent))
    assert (verdict.decision, verdict.reason) == (Decision.DEFER, Reason.DAILY_CAP)
    assert verdict.at == uk(2026, 3, 11, 9)


def test_daily_cap_clearing_at_night_waits_for_the_morning_too() -> None:
    sent = (uk(2026, 3, 10, 19), uk(2026, 3, 10, 19, 30), uk(2026, 3, 10, 19, 45))
    now = uk(2026, 3, 11, 8)
    verdict = run(reminder(now), now, replace(ENGLAND, recent_service_sends=sent))
    assert (verdict.reason, verdict.at) == (Reason.DAILY_CAP, uk(2026, 3, 11, 19))


def test_ninth_message_in_a_week_waits_for_the_oldest_to_age_out() -> None:
    sent = tuple(uk(2026, 3, day, hour) for day in (2, 3, 4, 5) for hour in (9, 15))
    now = uk(2026, 3, 6, 10)
    verdict = run(reminder(now), now, replace(ENGLAND, recent_service_sends=sent))
    assert (verdict.reason, verdict.at) == (Reason.WEEKLY_CAP, uk(2026, 3, 9, 9))


def test_messages_are_at_least_thirty_minutes_apart() -> None:
    now = uk(2026, 3, 10, 10, 10)
    verdict = run(reminder(now), now, replace(ENGLAND, recent_service_sends=(uk(2026, 3, 10, 10),)))
    assert (verdict.reason, verdict.at) == (Reason.MIN_GAP, uk(2026, 3, 10, 10, 30))


def test_time_critical_message_for_todays_visit_goes_over_the_caps() -> None:
    sent = (uk(2026, 3, 10, 8), uk(2026, 3, 10, 8, 30), uk(2026, 3, 10, 9, 50))
    now = uk(2026, 3, 10, 10)
    on_the_way = reminder(now, kind="on_the_way", time_critical=True, visit_day=date(2026, 3, 10))
    verdict = run(on_the_way, now, replace(ENGLAND, recent_service_sends=sent))
    assert (verdict.decision, verdict.reason) == (Decision.SEND, Reason.VISIT_TODAY_EXCEPTION)


def test_time_critical_message_for_tomorrows_visit_keeps_to_the_caps() -> None:
    sent = (uk(2026, 3, 10, 8), uk(2026, 3, 10, 8, 30), uk(2026, 3, 10, 9, 50))
    now = uk(2026, 3, 10, 10)
    change = reminder(now, kind="change", time_critical=True, visit_day=date(2026, 3, 11))
    verdict = run(change, now, replace(ENGLAND, recent_service_sends=sent))
    assert (verdict.decision, verdict.reason) == (Decision.DEFER, Reason.DAILY_CAP)


def test_a_resident_with_a_lower_cap_gets_fewer_messages() -> None:
    rules = ContactRules.from_config(None, {"per_day": 1})
    now = uk(2026, 3, 10, 15)
    verdict = run(
        reminder(now),
        now,
        replace(ENGLAND, recent_service_sends=(uk(2026, 3, 10, 9),)),
        rules=rules,
    )
    assert (verdict.reason, verdict.at) == (Reason.DAILY_CAP, uk(2026, 3, 11, 9))


# --- expiry ------------------------------------------------------------------------------


def test_reminder_that_could_only_arrive_once_the_visit_started_expires() -> None:
    # Visit Mon 9 Mar, 8am-12pm; reminder planned Sunday evening, useless from 08:00 Monday.
    sunday_6pm = uk(2026, 3, 8, 18)
    verdict = run(reminder(sunday_6pm, expires_at=uk(2026, 3, 9, 8)), sunday_6pm)
    assert (verdict.decision, verdict.reason) == (Decision.EXPIRE, Reason.TOO_LATE_WHEN_ALLOWED)
    assert "sunday_or_holiday" in verdict.detail


def test_a_capped_message_that_would_clear_too_late_expires() -> None:
    sent = (uk(2026, 3, 10, 9), uk(2026, 3, 10, 11), uk(2026, 3, 10, 13))
    now = uk(2026, 3, 10, 15)
    candidate = reminder(now, expires_at=uk(2026, 3, 10, 17))
    verdict = run(candidate, now, replace(ENGLAND, recent_service_sends=sent))
    assert (verdict.decision, verdict.reason) == (Decision.EXPIRE, Reason.TOO_LATE_WHEN_ALLOWED)


def test_a_message_already_past_its_use_by_time_expires() -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(uk(2026, 3, 10, 9), expires_at=uk(2026, 3, 10, 11)), now)
    assert (verdict.decision, verdict.reason) == (Decision.EXPIRE, Reason.EXPIRED)


def test_a_deferral_that_still_arrives_in_time_is_deferred_not_expired() -> None:
    saturday_9pm = uk(2026, 3, 7, 21)
    verdict = run(reminder(saturday_9pm, expires_at=uk(2026, 3, 9, 12)), saturday_9pm)
    assert (verdict.decision, verdict.at) == (Decision.DEFER, uk(2026, 3, 9, 8))


# --- opt-outs, channels, urgent safety ---------------------------------------------------


def test_opt_out_blocks_at_plan_time_and_urgent_safety_cannot_override_it() -> None:
    opted_out = replace(ENGLAND, opted_out=frozenset({Channel.SMS}))
    now = uk(2026, 3, 10, 12)
    for purpose in (Purpose.SERVICE, Purpose.URGENT_SAFETY):
        verdict = run(reminder(uk(2026, 3, 11, 9), purpose=purpose), now, opted_out)
        assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.OPTED_OUT)


def test_opting_out_of_sms_leaves_telegram_open() -> None:
    opted_out = replace(ENGLAND, opted_out=frozenset({Channel.SMS}))
    now = uk(2026, 3, 10, 12)
    on_telegram = reminder(now, channel=Channel.TELEGRAM, address="123456789")
    assert run(on_telegram, now, opted_out).decision is Decision.SEND


def test_urgent_safety_at_eleven_pm_sends_and_records_the_override() -> None:
    now = uk(2026, 3, 10, 23)
    gas = reminder(now, purpose=Purpose.URGENT_SAFETY, kind="gas_leak_warning")
    verdict = run(gas, now)
    assert (verdict.decision, verdict.reason) == (Decision.SEND, Reason.URGENT_OVERRIDE)
    assert "outside_hours" in verdict.detail


def test_urgent_safety_overrides_the_caps_too() -> None:
    now = uk(2026, 3, 10, 12)
    sent = (now - timedelta(minutes=1),)
    flood = reminder(now, purpose=Purpose.URGENT_SAFETY, kind="flood_warning")
    verdict = run(flood, now, replace(ENGLAND, recent_service_sends=sent))
    assert (verdict.reason, verdict.detail) == (
        Reason.URGENT_OVERRIDE,
        "urgent safety flood_warning overrode min_gap",
    )


def test_urgent_safety_in_hours_needs_no_override() -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now, purpose=Purpose.URGENT_SAFETY), now)
    assert (verdict.decision, verdict.reason) == (Decision.SEND, Reason.WITHIN_POLICY)


def test_unreachable_channel_is_blocked_so_the_caller_can_fall_back() -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now), now, replace(ENGLAND, unreachable=frozenset({Channel.SMS})))
    assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.UNREACHABLE)


@pytest.mark.parametrize("address", ["+12025550123", "+442079460000", "not a number", ""])
def test_sms_to_anything_but_a_uk_mobile_is_blocked(address: str) -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now, address=address), now)
    assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.NOT_UK_MOBILE)


def test_telegram_address_is_not_checked_as_a_phone_number() -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now, channel=Channel.TELEGRAM, address="123456789"), now)
    assert verdict.decision is Decision.SEND


# --- purpose -----------------------------------------------------------------------------


def test_reminder_for_an_older_version_of_the_appointment_is_blocked() -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now, appointment_version=1), now)
    assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.STALE_VERSION)


def test_reminder_for_a_cancelled_appointment_is_blocked() -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now), now, state=replace(LIVE, active=False))
    assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.PURPOSE_ENDED)


def test_reminder_no_longer_needed_is_blocked() -> None:
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now), now, state=replace(LIVE, still_needed=False))
    assert verdict.reason is Reason.NO_LONGER_NEEDED


def test_no_cold_contact_without_an_appointment_or_open_conversation() -> None:
    now = uk(2026, 3, 10, 12)
    broadcast = reminder(now, kind="broadcast", appointment_version=None)
    verdict = run(broadcast, now, state=None)
    assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.NO_LIVE_PURPOSE)
    deleted = run(reminder(now), now, state=PurposeState(exists=False))
    assert deleted.reason is Reason.NO_LIVE_PURPOSE


def test_a_conversation_the_resident_opened_is_a_live_purpose() -> None:
    now = uk(2026, 3, 10, 12)
    follow_up = reminder(now, kind="follow_up", appointment_version=None)
    chatting = replace(ENGLAND, open_conversation=True)
    assert run(follow_up, now, chatting, state=None).decision is Decision.SEND


def test_an_open_conversation_does_not_revive_a_message_for_a_gone_appointment() -> None:
    now = uk(2026, 3, 10, 12)
    chatting = replace(ENGLAND, open_conversation=True)
    verdict = run(reminder(now), now, chatting, state=None)
    assert verdict.reason is Reason.NO_LIVE_PURPOSE


def test_hours_that_leave_no_moment_block_with_a_reason_instead_of_looping() -> None:
    rules = ContactRules.from_config(None, {"weekday": ["21:00", "22:00"]})
    now = uk(2026, 3, 10, 12)
    verdict = run(reminder(now), now, rules=rules)
    assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.NO_CONTACT_HOURS)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run(reminder(uk(2026, 3, 10, 12)), datetime(2026, 3, 10, 12))


def test_every_reason_has_a_one_line_explanation() -> None:
    for reason in Reason:
        assert reason.explanation
        assert "\n" not in reason.explanation
        assert len(reason.explanation) <= 100


# --- property ----------------------------------------------------------------------------

_HOLIDAYS = {
    nation: holidays.country_holidays("GB", subdiv=nation.holidays_subdiv, years=range(2026, 2029))
    for nation in Nation
}


def _inside_hours(moment: datetime, rules: ContactRules, nation: Nation, critical: bool) -> bool:
    """An independent reading of the hours rule, straight from DESIGN.md."""
    local = moment.astimezone(LONDON)
    if time(1) <= local.time() < time(3):
        return False
    restricted = local.weekday() == 6 or local.date() in _HOLIDAYS[nation]
    span = (rules.sunday_hours if critical else None) if restricted else rules.weekday_hours
    return span is not None and span.start <= local.time() < span.end


def _within_caps(moment: datetime, sends: tuple[datetime, ...], rules: ContactRules) -> bool:
    before = [s for s in sends if s <= moment]
    return (
        sum(1 for s in before if moment - s < timedelta(hours=24)) < rules.per_day
        and sum(1 for s in before if moment - s < timedelta(days=7)) < rules.per_week
        and all(moment - s >= rules.min_gap for s in before)
    )


_minutes = st.integers(min_value=0, max_value=23 * 60 + 59)


@st.composite
def _resident_hours(draw: st.DrawFn) -> dict[str, object] | None:
    if draw(st.integers(min_value=0, max_value=3)):
        return None
    a, b = sorted(draw(st.lists(_minutes, min_size=2, max_size=2, unique=True)))
    return {"weekday": [f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"]}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    now=st.builds(
        lambda day, minute: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day, minutes=minute),
        st.integers(min_value=0, max_value=729),
        st.integers(min_value=8 * 60, max_value=19 * 60) | st.integers(min_value=0, max_value=1439),
    ),
    lead=st.sampled_from([timedelta(0), timedelta(hours=-1)])
    | st.timedeltas(min_value=timedelta(hours=-6), max_value=timedelta(days=3)),
    life=st.none() | st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=5)),
    critical=st.booleans(),
    visit_offset=st.none() | st.integers(min_value=-1, max_value=3),
    nation=st.sampled_from(Nation),
    channel=st.sampled_from([Channel.SMS, Channel.TELEGRAM]),
    opted_out=st.sampled_from(
        [frozenset(), frozenset(), frozenset(), frozenset({Channel.SMS}), frozenset(Channel)]
    ),
    ages=st.lists(
        st.integers(min_value=0, max_value=8 * 24 * 60).map(lambda m: timedelta(minutes=m)),
        max_size=2,
    )
    | st.lists(
        st.integers(min_value=0, max_value=8 * 24 * 60).map(lambda m: timedelta(minutes=m)),
        max_size=12,
    ),
    resident_hours=_resident_hours(),
)
def test_service_messages_only_ever_go_or_are_deferred_into_allowed_hours(
    now: datetime,
    lead: timedelta,
    life: timedelta | None,
    critical: bool,
    visit_offset: int | None,
    nation: Nation,
    channel: Channel,
    opted_out: frozenset[Channel],
    ages: list[timedelta],
    resident_hours: dict[str, object] | None,
) -> None:
    rules = ContactRules.from_config(None, resident_hours)
    planned = now + lead
    local_today = now.astimezone(LONDON).date()
    candidate = Candidate(
        purpose=Purpose.SERVICE,
        kind="reminder",
        channel=channel,
        address=MOBILE if channel is Channel.SMS else "987654321",
        not_before=planned,
        expires_at=None if life is None else planned + life,
        time_critical=critical,
        visit_day=None if visit_offset is None else local_today + timedelta(days=visit_offset),
        appointment_version=2,
    )
    sends = tuple(now - age for age in ages)
    recipient = Recipient(nation=nation, opted_out=opted_out, recent_service_sends=sends)

    verdict = decide(candidate, recipient, LIVE, rules, now=now)
    event(f"{verdict.decision}: {verdict.reason}")

    if channel in opted_out:
        assert (verdict.decision, verdict.reason) == (Decision.BLOCK, Reason.OPTED_OUT)
        return
    if verdict.decision is Decision.SEND:
        assert verdict.at == now
        assert _inside_hours(now, rules, nation, critical)
        if verdict.reason is not Reason.VISIT_TODAY_EXCEPTION:
            assert _within_caps(now, sends, rules)
    elif verdict.decision is Decision.DEFER:
        assert verdict.at > now
        assert verdict.at >= planned
        assert _inside_hours(verdict.at, rules, nation, critical)
        visit_day_then = verdict.at.astimezone(LONDON).date() == candidate.visit_day
        if not (critical and visit_day_then):
            assert _within_caps(verdict.at, sends, rules)
        if candidate.expires_at is not None:
            assert verdict.at < candidate.expires_at
    elif verdict.decision is Decision.BLOCK:
        assert verdict.reason is Reason.NO_CONTACT_HOURS
    else:
        assert candidate.expires_at is not None
