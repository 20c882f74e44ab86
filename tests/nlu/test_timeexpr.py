"""What a resident's message means in time, with fixed message timestamps (DST days included)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from nlu.timeexpr import DUCKLING, UK, TimeMatch, find_times, read_times, read_wishes

WED = datetime(2026, 3, 25, 10, 15, tzinfo=UTC)  # GMT; clocks go forward Sun 29 Mar
THU_BST = datetime(2026, 10, 22, 18, 40, tzinfo=timezone(timedelta(hours=1)))  # back Sun 25 Oct
TUE_DEC = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FRI_MAY = datetime(2026, 5, 15, 14, 0, tzinfo=timezone(timedelta(hours=1)))


def day(d: str, offset: str = "+00:00", next_offset: str | None = None) -> dict[str, str]:
    start = datetime.fromisoformat(d)
    end = (start + timedelta(days=1)).date().isoformat()
    return {
        "from": f"{d}T00:00:00{offset}",
        "to": f"{end}T00:00:00{next_offset or offset}",
        "grain": "day",
    }


def window(d: str, a: str, b: str, offset: str = "+00:00", grain: str = "hour") -> dict[str, str]:
    return {"from": f"{d}T{a}:00{offset}", "to": f"{d}T{b}:00{offset}", "grain": grain}


def at(d: str, hm: str, offset: str = "+00:00", grain: str = "minute") -> dict[str, str]:
    return {"value": f"{d}T{hm}:00{offset}", "grain": grain}


def only(text: str, now: datetime = WED) -> TimeMatch:
    found = find_times(text, now=now)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon", day("2026-03-30", "+01:00")),
        ("tues", day("2026-03-31", "+01:00")),
        ("weds", day("2026-03-25")),  # today's name is today
        ("thurs", day("2026-03-26")),
        ("fri", day("2026-03-27")),
        ("sat", day("2026-03-28")),
        ("sun", day("2026-03-29", "+00:00", "+01:00")),  # the 23-hour day
        ("tmrw", day("2026-03-26")),
        ("tomoz", day("2026-03-26")),
        ("2moro", day("2026-03-26")),
        ("day after tomorrow", day("2026-03-27")),
        ("next monday", day("2026-03-30", "+01:00")),
        ("next friday", day("2026-04-03", "+01:00")),  # Friday of next week
        ("this friday", day("2026-03-27")),
        ("Wednesday week", day("2026-04-01", "+01:00")),
        ("a week today", day("2026-04-01", "+01:00")),
        ("a week on friday", day("2026-04-03", "+01:00")),
        ("in a fortnight", day("2026-04-08", "+01:00")),
        ("in 3 days", day("2026-03-28")),
        ("in 3 weeks", day("2026-04-15", "+01:00")),
        ("the 28th", day("2026-03-28")),
        ("the 25th", day("2026-03-25")),
        ("on the 1st", day("2026-04-01", "+01:00")),
        ("good friday", day("2026-04-03", "+01:00")),
        ("easter monday", day("2026-04-06", "+01:00")),
        ("this time next week", at("2026-04-01", "10:15", "+01:00")),
    ],
)
def test_days_from_a_wednesday_before_the_clocks_go_forward(
    text: str, expected: dict[str, str]
) -> None:
    assert only(text).value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3/12", day("2026-12-03")),
        ("3/12/2026", day("2026-12-03")),
        ("03.12", day("2026-12-03")),
        ("3rd of December", day("2026-12-03")),
        ("Dec 3", day("2026-12-03")),
        ("december 3rd", day("2026-12-03")),
        ("christmas eve", day("2026-12-24")),
        ("Christmas Day", day("2026-12-25")),
        ("boxing day", day("2026-12-26")),
        ("new years eve", day("2026-12-31")),
        ("New Year's Day", day("2027-01-01")),
    ],
)
def test_uk_dates_and_holidays(text: str, expected: dict[str, str]) -> None:
    assert only(text, TUE_DEC).value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("spring bank holiday", day("2026-05-25", "+01:00")),
        ("bank holiday monday", day("2026-05-25", "+01:00")),
        ("summer bank holiday", day("2026-08-31", "+01:00")),
        ("early may bank holiday", day("2027-05-03", "+01:00")),  # this year's has passed
    ],
)
def test_bank_holidays_come_from_the_england_calendar(text: str, expected: dict[str, str]) -> None:
    assert only(text, FRI_MAY).value == expected


def test_scottish_properties_use_the_scottish_calendar() -> None:
    scotland = replace(UK, holiday_subdiv="SCT")
    found = find_times("summer bank holiday", now=FRI_MAY, conventions=scotland)
    assert found[0].value == day("2026-08-03", "+01:00")  # first Monday of August


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tmrw pm", window("2026-03-26", "12:00", "17:00")),
        ("tmrw am", window("2026-03-26", "08:00", "12:00")),
        ("thursday afternoon", window("2026-03-26", "12:00", "17:00")),
        ("friday aft", window("2026-03-27", "12:00", "17:00")),
        ("mon arvo", window("2026-03-30", "12:00", "17:00", "+01:00")),
        ("next tues morning", window("2026-03-31", "08:00", "12:00", "+01:00")),
        ("this evening", window("2026-03-25", "17:00", "20:00")),
        ("first thing tomorrow", window("2026-03-26", "08:00", "10:00")),
        ("lunchtime friday", window("2026-03-27", "12:00", "14:00")),
        ("sunday morning", window("2026-03-29", "08:00", "12:00", "+01:00")),
        ("friday after 2", window("2026-03-27", "14:00", "20:00")),
        ("after 2pm tomorrow", window("2026-03-26", "14:00", "20:00")),
        ("before 12 thursday", window("2026-03-26", "08:00", "12:00")),
        ("between 1 and 3 on thursday", window("2026-03-26", "13:00", "15:00")),
        ("10 til 12 tomorrow", window("2026-03-26", "10:00", "12:00")),
        ("tomorrow 10 till 12", window("2026-03-26", "10:00", "12:00")),
        ("tomorrow 10-12", window("2026-03-26", "10:00", "12:00")),
        ("friday 9.30-11", window("2026-03-27", "09:30", "11:00", grain="minute")),
    ],
)
def test_day_parts_and_windows(text: str, expected: dict[str, str]) -> None:
    assert only(text).value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("half 2 friday", at("2026-03-27", "14:30")),
        ("half past 2 tomorrow", at("2026-03-26", "14:30")),
        ("quarter past 9 monday", at("2026-03-30", "09:15", "+01:00")),
        ("quarter to 3 thursday", at("2026-03-26", "14:45")),
        ("tomorrow at 2pm", at("2026-03-26", "14:00", grain="hour")),
        ("2.30 tomorrow", at("2026-03-26", "14:30")),
        ("14:30 on friday", at("2026-03-27", "14:30")),
        ("noon tomorrow", at("2026-03-26", "12:00", grain="hour")),
        ("midday friday", at("2026-03-27", "12:00", grain="hour")),
        ("tomorrow at 3", at("2026-03-26", "15:00", grain="hour")),  # bare 1-6 is afternoon
        ("tomorrow at 9", at("2026-03-26", "09:00", grain="hour")),
        ("sunday at 10am", at("2026-03-29", "10:00", "+01:00", grain="hour")),
        ("saturday at 10am", at("2026-03-28", "10:00", grain="hour")),
        ("at 9am", at("2026-03-26", "09:00", grain="hour")),  # 9am today has gone
        ("at 2pm", at("2026-03-25", "14:00", grain="hour")),
    ],
)
def test_clock_times(text: str, expected: dict[str, str]) -> None:
    assert only(text).value == expected


def test_clocks_going_back_gives_each_day_its_own_offset() -> None:
    assert only("saturday 9am", THU_BST).value == at("2026-10-24", "09:00", "+01:00", "hour")
    assert only("monday 9am", THU_BST).value == at("2026-10-26", "09:00", "+00:00", "hour")
    assert only("sunday", THU_BST).value == day("2026-10-25", "+01:00", "+00:00")


def test_now_is_read_on_the_london_clock() -> None:
    just_after_midnight_bst = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)
    assert only("today", just_after_midnight_bst).value == day("2026-06-11", "+01:00")


def test_a_time_that_has_gone_today_means_tomorrow() -> None:
    assert only("half 2", THU_BST).value == at("2026-10-23", "14:30", "+01:00")


def test_several_expressions_are_found_with_their_spans() -> None:
    text = "cant do weds, tmrw pm ok?"
    found = find_times(text, now=WED)
    assert [(m.start, m.end, m.text) for m in found] == [(8, 12, "weds"), (14, 21, "tmrw pm")]
    assert all(text[m.start : m.end] == m.text for m in found)


def test_a_combined_expression_inside_a_sentence_is_one_match() -> None:
    found = find_times("hiya, any time after 2 on friday is fine x", now=WED)
    assert [m.text for m in found] == ["after 2 on friday"]


@pytest.mark.parametrize(
    "text",
    [
        "my visit code is 4821",
        "code 1030",
        "I'd rate it 5 out of 5",
        "rated 5",
        "call me on 07700 900123",
        "ring 0161 496 0000",
        "flat 3, 12 high street",
        "the boiler is 10 years old",
        "am i still booked in?",
        "i sat waiting for ages",
        "may i ask who is coming",
        "there are 2 dogs",
        "badge number 20931",
    ],
)
def test_numbers_and_words_that_are_not_times_are_ignored(text: str) -> None:
    assert find_times(text, now=WED) == []


def test_duckling_conventions_read_month_first_and_keep_its_day_parts() -> None:
    ref = datetime(2013, 2, 12, 4, 30, tzinfo=timezone(timedelta(hours=-2)))
    us = find_times("2/15", now=ref, tz="Etc/GMT+2", conventions=DUCKLING)
    gb = find_times("15/2", now=ref, tz="Etc/GMT+2", conventions=UK)
    assert us[0].value["from"] == gb[0].value["from"] == "2013-02-15T00:00:00-02:00"
    morning = find_times("morning", now=ref, tz="Etc/GMT+2", conventions=DUCKLING)[0]
    assert (morning.value["from"][11:16], morning.value["to"][11:16]) == ("00:00", "12:00")
    window_ = find_times("3-4pm", now=ref, tz="Etc/GMT+2", conventions=DUCKLING)[0]
    assert window_.value["to"] == "2013-02-12T17:00:00-02:00"  # Duckling's end includes 4pm's hour


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        find_times("tomorrow", now=datetime(2026, 3, 25, 10, 15))


# ---- what a resident says about when a visit may be (read_wishes) -----------------------

MON_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def wishes(text: str) -> list[tuple[str, bool]]:
    """(the words, avoided?) for each time in `text`, said on Monday 30 Nov 2026."""
    return [(w.reading.text, w.avoid) for w in read_wishes(text, now=MON_9AM).wishes]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cant do weds, tmrw pm ok?", [("weds", True), ("tmrw pm", False)]),
        ("not mondays", [("mondays", True)]),
        ("any day but wednesday", [("wednesday", True)]),
        ("whenever except fridays", [("fridays", True)]),
        ("fridays are no good for me", [("fridays", True)]),
        ("thursday doesnt work, tuesday?", [("thursday", True), ("tuesday", False)]),
        ("i cant do monday but friday is fine", [("monday", True), ("friday", False)]),
        ("no worries friday is fine", [("friday", False)]),
        ("after 3? i sleep till 2", [("after 3", False), ("till 2", True)]),
        ("im at work till 3", [("till 3", True)]),
        ("im in till 1", [("till 1", False)]),
        ("no mornings please", [("mornings", True)]),
        ("mornings only", [("mornings", False)]),
        ("not before 11", [("not before 11", False)]),
        ("any time after the school run", [("after the school run", False)]),
        ("cant do mondays and fridays", [("mondays", True), ("fridays", True)]),
        ("not mondays n mornings only", [("mondays", True), ("mornings", False)]),
        ("i do drop off till 9", [("till 9", True)]),
        ("come any time till 2", [("till 2", False)]),
    ],
)
def test_each_time_said_is_wanted_or_avoided(text: str, expected: list[tuple[str, bool]]) -> None:
    assert wishes(text) == expected


def test_a_reading_keeps_the_parts_that_were_written() -> None:
    (after_3,) = read_times("after 3", now=MON_9AM)
    assert after_3.days is None and after_3.minutes == (15 * 60, 20 * 60)
    (friday,) = read_times("half 2 friday", now=MON_9AM)
    assert friday.days == (date(2026, 12, 4), date(2026, 12, 5))
    assert friday.weekday == 4 and not friday.every
    assert friday.minutes == (14 * 60 + 30, 14 * 60 + 30)  # a clock time: from == to
    (mondays,) = read_times("not mondays", now=MON_9AM)
    assert mondays.weekday == 0 and mondays.every
    (every,) = read_times("every tuesday is fine", now=MON_9AM)
    assert every.weekday == 1 and every.every
    (next_week,) = read_times("next week", now=MON_9AM)
    assert next_week.days == (date(2026, 12, 7), date(2026, 12, 14))
    assert next_week.weekday is None and next_week.minutes is None


@pytest.mark.parametrize(
    ("text", "weekdays", "avoided"),
    [
        ("im at work mon to fri", [0, 1, 2, 3, 4], True),
        ("not weekends", [5, 6], True),
        ("weekdays are best", [0, 1, 2, 3, 4], False),
        ("cant do tues to thurs", [1, 2, 3], True),
    ],
)
def test_a_span_of_weekdays_is_those_days_in_any_week(
    text: str, weekdays: list[int], avoided: bool
) -> None:
    found = read_wishes(text, now=MON_9AM).wishes
    assert [w.reading.weekday for w in found] == weekdays
    assert all(w.reading.every and w.avoid == avoided for w in found)


def test_a_time_before_a_span_of_weekdays_is_read_on_its_own() -> None:
    found = read_wishes("at work till 3 mon to fri", now=MON_9AM).wishes
    assert found[0].reading.text == "till 3" and found[0].avoid
    assert [w.reading.weekday for w in found[1:]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("any time after the school run", "09:30"),
        ("after i drop the kids off", "09:30"),
        ("not before the school run", "09:30"),
        ("before school pick up pls", "08:00"),
    ],
)
def test_the_school_run_is_a_time_of_day(text: str, start: str) -> None:
    (found,) = find_times(text, now=MON_9AM)
    assert found.value["from"][11:16] == start


@pytest.mark.parametrize(
    "text", ["the second one", "2nd one", "the first one", "that one pls", "the one on the left"]
)
def test_a_choice_from_a_list_is_not_a_date_or_one_oclock(text: str) -> None:
    assert find_times(text, now=MON_9AM) == []


def test_the_one_on_friday_is_friday_not_1pm() -> None:
    (found,) = find_times("the one on friday", now=MON_9AM)
    assert found.text == "on friday" and found.value["grain"] == "day"


@pytest.mark.parametrize(
    ("text", "other_day", "none_suit"),
    [
        ("need to change my appointment, cant do that day now", True, False),
        ("a different day pls", True, False),
        ("that day is no good anymore", True, False),
        ("none of them work, what about thursday week", False, True),
        ("none of those suit sorry", False, True),
        ("cant make any of them", False, True),
        ("can u come thursday", False, False),
    ],
)
def test_remarks_about_the_visit_day_and_the_offers(
    text: str, other_day: bool, none_suit: bool
) -> None:
    said = read_wishes(text, now=MON_9AM)
    assert (said.other_day, said.none_suit) == (other_day, none_suit)
