"""Everyday time requests, as transcripts: a time or constraint said anywhere in a booking
or rebooking conversation is honoured for the rest of it, windows that cannot meet it are
not offered, and when nothing fits the resident is told so.

The demo world: it is Monday 30 Nov 2026, 9am; visits are mornings 8am-12pm and
afternoons 12pm-5pm, Monday to Saturday, 1-14 Dec.
"""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import select

from flows.slots import Days, Hours, Preference, Wish
from simphone import Phone
from storage.db import Database
from storage.models import AccessNeed, Appointment, Resident

DAVID = "+447400123457"  # a hearing need on record, so booking checks it first
GARETH = "+447400123463"  # no needs on record, so booking asks for them
KELLY = "+447400123460"  # a night worker: never offered mornings


def labels(reply: dict[str, object]) -> list[str]:
    options = reply.get("options") or []
    assert isinstance(options, list)
    return [str(o["label"]) for o in options]


def windows(reply: dict[str, object]) -> list[str]:
    """The offered windows, without the "None of these" option."""
    return [label for label in labels(reply) if "Dec" in label]


def offered_after(phone: Phone, *turns: str) -> dict[str, object]:
    for turn in turns:
        phone.say(turn)
    reply = phone.inbox[-1]
    phone.inbox.clear()
    return reply


def test_half_2_friday_with_a_repair_waiting_books_it_for_friday_afternoon(
    client: TestClient, demo_db: Database
) -> None:
    david = Phone(client, DAVID)
    david.say("can the plumber come half 2 friday")
    assert "Is that still right?" in david.pop_text()  # booking, not "no visit to change"
    offer = offered_after(david, "1")
    assert windows(offer) == ["Fri 4 Dec, afternoon 12pm-5pm"]
    david.say("1")
    assert david.pop_text().startswith("Booked: Fri 4 Dec, afternoon 12pm-5pm")
    with demo_db.session() as session:
        (visit,) = session.exec(select(Appointment)).all()[-1:]
    assert (visit.day, visit.window) == (date(2026, 12, 4), "afternoon")


def test_none_of_them_work_what_about_thursday_week(client: TestClient) -> None:
    david = Phone(client, DAVID)
    first = offered_after(david, "book a visit", "1")
    assert windows(first)[0] == "Tue 1 Dec, morning 8am-12pm"
    again = offered_after(david, "none of them work, what about thursday week")
    assert windows(again) == ["Thu 10 Dec, morning 8am-12pm", "Thu 10 Dec, afternoon 12pm-5pm"]


def test_none_of_them_work_alone_asks_when_and_never_offers_them_again(
    client: TestClient,
) -> None:
    david = Phone(client, DAVID)
    first = windows(offered_after(david, "book a visit", "1"))
    asked = offered_after(david, "none of them work sorry")
    assert "When suits you?" in str(asked["text"])
    later = windows(offered_after(david, "any time"))
    assert later and not set(later) & set(first)


def test_after_the_school_run_is_never_a_morning_and_is_not_an_access_need(
    client: TestClient, demo_db: Database
) -> None:
    gareth = Phone(client, GARETH)
    gareth.say("book a repair pls")
    assert "operative should know" in gareth.pop_text()
    offer = offered_after(gareth, "any time after the school run")
    assert windows(offer) and all("afternoon" in w for w in windows(offer))
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.name == "Gareth Hughes")).one()
        needs = session.exec(select(AccessNeed).where(AccessNeed.resident_id == resident.id))
        assert list(needs) == []


def test_after_3_when_they_sleep_till_2_is_never_a_morning_or_noon_start(
    client: TestClient,
) -> None:
    kelly = Phone(client, KELLY)
    kelly.say("i need someone to fix my socket, after 3? i sleep till 2")
    kelly.pop()  # her needs on record: still right?
    told = offered_after(kelly, "1")
    text = str(told["text"])
    assert "none of our visit times fit after 3pm" in text
    assert "8am" not in text and "12pm" not in text
    assert labels(told) == ["Nearest times"]
    nearest = offered_after(kelly, "1")
    assert "Nearest:" in str(nearest["text"])
    assert windows(nearest) and all("afternoon" in w for w in windows(nearest))


def test_cant_do_that_day_now_never_offers_the_visits_day(client: TestClient) -> None:
    david = Phone(client, DAVID)
    offered_after(david, "book a visit", "1")
    david.say("1")
    assert david.pop_text().startswith("Booked: Tue 1 Dec")
    david.inbox.clear()
    offer = offered_after(david, "need to change my appointment, cant do that day now")
    assert windows(offer) and not any(w.startswith("Tue 1 Dec") for w in windows(offer))


def test_constraints_are_kept_for_the_rest_of_the_conversation(client: TestClient) -> None:
    david = Phone(client, DAVID)
    david.say("i need a visit, not mondays and mornings only")
    first = windows(offered_after(david, "1"))
    assert first and all("morning" in w for w in first)
    later = windows(offered_after(david, "next week pls"))
    assert later and all("morning" in w and not w.startswith("Mon") for w in later)
    assert all(w.split(",")[0].split()[1] in {"8", "9", "10", "11", "12"} for w in later)


def test_a_time_said_while_needs_are_checked_is_kept(client: TestClient) -> None:
    david = Phone(client, DAVID)
    david.say("book a visit")
    david.pop()
    david.say("after 12 pls")  # not an answer to "is that still right?"
    noted = david.pop_text()
    assert "Noted: after 12pm." in noted and "still right?" in noted
    offer = windows(offered_after(david, "yes"))
    assert offer and all("afternoon" in w for w in offer)
    asked = offered_after(david, str(len(offer) + 1))  # "None of these"
    assert "When suits you?" in str(asked["text"])
    weds = windows(offered_after(david, "wednesday"))
    assert weds == ["Wed 2 Dec, afternoon 12pm-5pm"]  # still after 12


def test_the_14th_and_a_day_with_no_visits(client: TestClient) -> None:
    david = Phone(client, DAVID)
    offered_after(david, "book a visit", "1")
    assert windows(offered_after(david, "the 14th")) == [
        "Mon 14 Dec, morning 8am-12pm",
        "Mon 14 Dec, afternoon 12pm-5pm",
    ]
    sunday = offered_after(david, "sunday afternoon?")  # no visits on Sundays
    assert "fits" in str(sunday["text"]) and "Nearest:" in str(sunday["text"])
    assert windows(sunday)[:2] == ["Sat 5 Dec, afternoon 12pm-5pm", "Mon 7 Dec, afternoon 12pm-5pm"]


def test_before_10_cannot_be_promised_but_not_before_11_can(client: TestClient) -> None:
    david = Phone(client, DAVID)
    offered_after(david, "book a visit", "1")
    early = offered_after(david, "before 10")
    assert "none of our visit times fit before 10am" in str(early["text"])
    anyway = windows(offered_after(david, "ok then"))  # the nearest, on request
    assert anyway and all("morning" in w for w in anyway)
    david.say(str(len(anyway) + 1))  # none of these
    late = windows(offered_after(david, "not before 11"))
    assert late and all("afternoon" in w for w in late)


def test_at_work_mon_to_fri_is_offered_saturdays_only(
    client: TestClient,
) -> None:
    gareth = Phone(client, GARETH)
    gareth.say("book a repair pls")
    gareth.pop()
    offer = offered_after(gareth, "im at work mon to fri, all day")
    assert windows(offer) and all(w.startswith("Sat") for w in windows(offer))


def test_thursday_at_2_names_a_time_not_option_2(client: TestClient) -> None:
    david = Phone(client, DAVID)
    offered_after(david, "book a visit", "1")
    offer = offered_after(david, "thursday at 2")
    assert windows(offer) == ["Thu 3 Dec, afternoon 12pm-5pm"]


def test_the_second_one_still_picks_the_second_window(client: TestClient) -> None:
    david = Phone(client, DAVID)
    offer = windows(offered_after(david, "book a visit", "1"))
    david.say("the second one")
    assert david.pop_text().startswith(f"Booked: {offer[1]}")


# ---- the preference itself ------------------------------------------------------------

FRIDAY = Days(date(2026, 12, 4), date(2026, 12, 5))
AFTER_3 = Hours(15 * 60, 20 * 60)


def test_later_words_fill_in_or_replace_earlier_ones() -> None:
    after_3 = Preference(wanted=(Wish(None, AFTER_3),))
    thursday_week = Preference(wanted=(Wish(Days(date(2026, 12, 10), date(2026, 12, 11))),))
    both = after_3.then(thursday_week)
    assert both.wanted == (Wish(Days(date(2026, 12, 10), date(2026, 12, 11)), AFTER_3),)
    mornings = Preference(wanted=(Wish(None, Hours(8 * 60, 12 * 60)),))
    assert both.then(mornings).wanted == (
        Wish(Days(date(2026, 12, 10), date(2026, 12, 11)), Hours(8 * 60, 12 * 60)),
    )


def test_a_change_of_mind_undoes_what_it_contradicts() -> None:
    not_mondays = Preference(avoided=(Wish(Days(weekday=0)),))
    monday_14th = Preference(wanted=(Wish(Days(date(2026, 12, 14), date(2026, 12, 15))),))
    assert not_mondays.then(monday_14th).avoided == ()
    next_week = Preference(wanted=(Wish(Days(date(2026, 12, 7), date(2026, 12, 14))),))
    assert not_mondays.then(next_week).avoided == not_mondays.avoided  # still not Mondays
    friday = Preference(wanted=(Wish(FRIDAY),))
    assert friday.then(Preference(avoided=(Wish(FRIDAY),))).wanted == ()


def test_a_preference_round_trips_and_an_old_stored_one_still_reads() -> None:
    pref = Preference(
        wanted=(Wish(FRIDAY, AFTER_3),),
        avoided=(Wish(Days(weekday=0)),),
        declined=((date(2026, 12, 1), "morning"),),
    )
    assert Preference.from_data(pref.to_data()) == pref
    old = {
        "wanted": [["2026-12-04T14:00:00+00:00", "2026-12-04T20:00:00+00:00"]],
        "unwanted": [["2026-12-02T00:00:00+00:00", "2026-12-03T00:00:00+00:00"]],
    }
    read = Preference.from_data(old)
    assert read.wanted == (Wish(FRIDAY, Hours(14 * 60, 20 * 60)),)
    assert read.avoided == (Wish(Days(date(2026, 12, 2), date(2026, 12, 3))),)
