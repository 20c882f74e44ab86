"""Contact hours as a resident would notice them: on which day and at what UK time a
held message arrives, across bank holidays of each nation and both clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.policy import (
    DEFAULT_HOURS,
    ContactRules,
    Reason,
    Span,
    hours_reason,
    is_bank_holiday,
    next_allowed,
)
from storage.enums import Nation

LONDON = ZoneInfo("Europe/London")
RULES = ContactRules()
#: A landlord open all day, to see the 01:00-03:00 quiet band on its own.
ALL_DAY = ContactRules.from_config({"weekday": ["00:00", "23:59"], "sunday": ["00:00", "23:59"]})


def uk(y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def nxt(
    moment: datetime,
    rules: ContactRules = RULES,
    nation: Nation = Nation.ENGLAND,
    critical: bool = False,
) -> datetime | None:
    return next_allowed(moment, rules, nation=nation, time_critical=critical)


# --- the week ---------------------------------------------------------------------------


def test_saturday_evening_reminder_waits_for_monday_morning() -> None:
    assert nxt(uk(2026, 3, 7, 21)) == utc(2026, 3, 9, 8)


def test_saturday_evening_time_critical_message_goes_sunday_at_ten() -> None:
    assert nxt(uk(2026, 3, 7, 21), critical=True) == utc(2026, 3, 8, 10)


def test_sunday_afternoon_time_critical_after_four_waits_for_monday() -> None:
    assert nxt(uk(2026, 3, 8, 16), critical=True) == utc(2026, 3, 9, 8)


def test_saturday_is_a_working_day() -> None:
    moment = uk(2026, 3, 7, 9)
    assert nxt(moment) == moment


def test_eight_pm_is_already_too_late_and_eight_am_is_fine() -> None:
    assert nxt(uk(2026, 3, 10, 8)) == utc(2026, 3, 10, 8)
    assert nxt(uk(2026, 3, 10, 20)) == utc(2026, 3, 11, 8)
    assert (
        hours_reason(uk(2026, 3, 10, 19, 59), RULES, nation=Nation.ENGLAND, time_critical=False)
        is None
    )


def test_summer_deferral_lands_on_uk_eight_am_not_utc() -> None:
    # Sat 4 Jul 2026 21:00 BST -> Mon 6 Jul 08:00 BST, which is 07:00 UTC.
    assert nxt(uk(2026, 7, 4, 21)) == utc(2026, 7, 6, 7)


def test_deferral_across_the_spring_change_lands_on_eight_am_bst() -> None:
    # Planned in GMT on Sat 28 Mar, delivered after the clocks went forward.
    assert nxt(uk(2026, 3, 28, 21)) == utc(2026, 3, 30, 7)


# --- resident's own hours ---------------------------------------------------------------


def test_resident_hours_narrow_a_nine_am_reminder_to_noon() -> None:
    rules = ContactRules.from_config(DEFAULT_HOURS, {"weekday": ["12:00", "20:00"]})
    assert rules.weekday_hours == Span(time(12), time(20))
    assert nxt(uk(2026, 3, 10, 9), rules) == utc(2026, 3, 10, 12)


def test_resident_cannot_widen_the_landlords_hours() -> None:
    rules = ContactRules.from_config(None, {"weekday": ["06:00", "22:00"]})
    assert rules.weekday_hours == Span(time(8), time(20))


def test_resident_hours_outside_the_landlords_leave_no_weekday_moment() -> None:
    rules = ContactRules.from_config(None, {"weekday": ["21:00", "22:00"]})
    assert rules.weekday_hours is None
    assert nxt(uk(2026, 3, 10, 9), rules) is None
    # Sundays still allow time-critical messages: the resident only narrowed weekdays.
    assert nxt(uk(2026, 3, 10, 9), rules, critical=True) == utc(2026, 3, 15, 10)


# --- bank holidays, per nation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "nation", "holiday"),
    [
        (date(2026, 4, 6), Nation.ENGLAND, True),  # Easter Monday
        (date(2026, 4, 6), Nation.WALES, True),
        (date(2026, 4, 6), Nation.SCOTLAND, False),
        (date(2026, 4, 6), Nation.NORTHERN_IRELAND, True),
        (date(2026, 1, 2), Nation.SCOTLAND, True),  # 2 January
        (date(2026, 1, 2), Nation.ENGLAND, False),
        (date(2026, 11, 30), Nation.SCOTLAND, True),  # St Andrew's Day, a Monday
        (date(2026, 11, 30), Nation.ENGLAND, False),
        (date(2026, 11, 30), Nation.WALES, False),
        (date(2027, 3, 1), Nation.WALES, False),  # St David's Day is not a bank holiday
        (date(2026, 3, 17), Nation.NORTHERN_IRELAND, True),  # St Patrick's Day
        (date(2026, 3, 17), Nation.ENGLAND, False),
        (date(2026, 12, 25), Nation.SCOTLAND, True),
        (date(2026, 12, 28), Nation.ENGLAND, True),  # Boxing Day (observed)
        (date(2026, 8, 31), Nation.ENGLAND, True),  # late summer bank holiday
        (date(2026, 8, 31), Nation.SCOTLAND, False),
        (date(2026, 8, 3), Nation.SCOTLAND, True),  # Scotland's summer bank holiday
        (date(2026, 8, 3), Nation.ENGLAND, False),
    ],
)
def test_bank_holidays_follow_the_property_nation(day: date, nation: Nation, holiday: bool) -> None:
    assert is_bank_holiday(day, nation) is holiday


@pytest.mark.parametrize("year", [2026, 2027])
def test_wales_follows_the_england_and_wales_list(year: int) -> None:
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(365)]
    assert [d for d in days if is_bank_holiday(d, Nation.WALES)] == [
        d for d in days if is_bank_holiday(d, Nation.ENGLAND)
    ]


def test_st_andrews_day_holds_a_scottish_reminder_but_not_an_english_one() -> None:
    monday_9am = uk(2026, 11, 30, 9)
    assert nxt(monday_9am, nation=Nation.ENGLAND) == monday_9am
    assert nxt(monday_9am, nation=Nation.SCOTLAND) == utc(2026, 12, 1, 8)
    assert nxt(monday_9am, nation=Nation.SCOTLAND, critical=True) == utc(2026, 11, 30, 10)
    reason = hours_reason(monday_9am, RULES, nation=Nation.SCOTLAND, time_critical=False)
    assert reason is Reason.SUNDAY_OR_HOLIDAY


def test_scotlands_second_of_january_and_englands_easter_monday() -> None:
    assert nxt(uk(2026, 1, 2, 9), nation=Nation.ENGLAND) == utc(2026, 1, 2, 9)
    assert nxt(uk(2026, 1, 2, 9), nation=Nation.SCOTLAND) == utc(2026, 1, 3, 8)
    assert nxt(uk(2026, 4, 6, 9), nation=Nation.SCOTLAND) == utc(2026, 4, 6, 8)
    assert nxt(uk(2026, 4, 6, 9), nation=Nation.WALES) == utc(2026, 4, 7, 7)


def test_st_davids_day_is_an_ordinary_working_day_in_wales() -> None:
    assert nxt(uk(2027, 3, 1, 9), nation=Nation.WALES) == utc(2027, 3, 1, 9)


def test_christmas_eve_evening_reminder_waits_until_after_boxing_day_observed() -> None:
    # Fri 25 Christmas, Sat 26 Boxing Day, Sun 27, Mon 28 Boxing Day (observed).
    assert nxt(uk(2026, 12, 24, 20, 30)) == utc(2026, 12, 29, 8)
    assert nxt(uk(2026, 12, 24, 20, 30), critical=True) == utc(2026, 12, 25, 10)


# --- the clock changes -------------------------------------------------------------------


def test_spring_forward_half_past_one_defers_to_the_allowed_moment() -> None:
    due = uk(2026, 3, 29, 1, 30)  # does not exist on the wall; zoneinfo reads it as GMT
    assert due.astimezone(UTC) == utc(2026, 3, 29, 1, 30)
    assert nxt(due) == utc(2026, 3, 30, 7)  # Mon 08:00 BST (29 Mar is a Sunday)
    assert nxt(due, critical=True) == utc(2026, 3, 29, 9)  # Sun 10:00 BST
    assert nxt(due, ALL_DAY, critical=True) == utc(2026, 3, 29, 2)  # 03:00 BST
    reason = hours_reason(due, ALL_DAY, nation=Nation.ENGLAND, time_critical=True)
    assert reason is Reason.QUIET_HOURS


def test_spring_forward_just_before_the_quiet_band_is_allowed() -> None:
    just_before = utc(2026, 3, 29, 0, 59)  # 00:59 GMT
    assert nxt(just_before, ALL_DAY, critical=True) == just_before
    assert nxt(utc(2026, 3, 29, 1, 0), ALL_DAY, critical=True) == utc(2026, 3, 29, 2)


@pytest.mark.parametrize("fold", [0, 1])
def test_fall_back_both_half_past_ones_defer_to_three_am_gmt(fold: int) -> None:
    due = uk(2026, 10, 25, 1, 30, fold=fold)
    first_or_second = utc(2026, 10, 25, 0, 30) if fold == 0 else utc(2026, 10, 25, 1, 30)
    assert due.astimezone(UTC) == first_or_second
    assert nxt(due, ALL_DAY, critical=True) == utc(2026, 10, 25, 3)
    assert nxt(due) == utc(2026, 10, 26, 8)  # Mon 08:00 GMT (25 Oct is a Sunday)
    assert nxt(due, critical=True) == utc(2026, 10, 25, 10)  # Sun 10:00 GMT


def test_fall_back_quiet_band_lasts_three_real_hours() -> None:
    def all_day(moment: datetime) -> datetime | None:
        return nxt(moment, ALL_DAY, critical=True)

    assert all_day(utc(2026, 10, 24, 23, 59)) == utc(2026, 10, 24, 23, 59)  # 00:59 BST
    assert all_day(utc(2026, 10, 25, 0, 0)) == utc(2026, 10, 25, 3)  # the first 01:00
    assert all_day(utc(2026, 10, 25, 2, 59)) == utc(2026, 10, 25, 3)  # 02:59 GMT


def test_an_all_hours_landlord_still_gets_the_quiet_band_every_night() -> None:
    assert nxt(uk(2026, 6, 10, 2), ALL_DAY) == uk(2026, 6, 10, 3)


# --- configuration -----------------------------------------------------------------------


def test_defaults_match_the_storage_default() -> None:
    from storage.models.people import DEFAULT_CONTACT_HOURS

    assert DEFAULT_HOURS == DEFAULT_CONTACT_HOURS
    assert ContactRules.from_config(DEFAULT_CONTACT_HOURS) == ContactRules()
    assert ContactRules.from_config(None) == ContactRules()


def test_landlord_sets_caps_and_resident_can_only_tighten_them() -> None:
    landlord = {"weekday": ["09:00", "18:00"], "per_day": 2, "per_week": 6, "min_gap_minutes": 60}
    rules = ContactRules.from_config(landlord, {"per_day": 5, "per_week": 4, "min_gap_minutes": 15})
    assert rules.weekday_hours == Span(time(9), time(18))
    assert rules.sunday_hours == Span(time(10), time(16))
    assert (rules.per_day, rules.per_week, rules.min_gap) == (2, 4, timedelta(minutes=60))


def test_a_landlord_can_close_sundays_entirely() -> None:
    rules = ContactRules.from_config({"sunday": None})
    assert nxt(uk(2026, 3, 7, 21), rules, critical=True) == utc(2026, 3, 9, 8)


@pytest.mark.parametrize(
    "config",
    [
        {"weekdays": ["08:00", "20:00"]},
        {"weekday": ["20:00", "08:00"]},
        {"weekday": ["8am", "8pm"]},
        {"weekday": "08:00-20:00"},
        {"per_day": 0},
        {"per_day": "3"},
        {"min_gap_minutes": True},
    ],
)
def test_bad_configuration_is_refused_not_guessed(config: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        ContactRules.from_config(config)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        nxt(datetime(2026, 3, 10, 9))


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    nation=st.sampled_from(Nation),
    critical=st.booleans(),
)
def test_next_allowed_is_the_first_moment_hours_reason_accepts(
    moment: datetime, nation: Nation, critical: bool
) -> None:
    allowed = nxt(moment, nation=nation, critical=critical)
    assert allowed is not None
    assert allowed >= moment
    assert hours_reason(allowed, RULES, nation=nation, time_critical=critical) is None
    here = hours_reason(moment, RULES, nation=nation, time_critical=critical)
    assert (here is None) == (allowed == moment)
    if allowed > moment:
        # Nothing allowed in between: one minute before the answer is still held.
        before = max(moment, allowed - timedelta(minutes=1))
        assert hours_reason(before, RULES, nation=nation, time_critical=critical) is not None
