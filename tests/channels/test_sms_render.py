"""What a reply looks like on a resident's phone, and what it costs."""

from __future__ import annotations

from bot.channels.sms.render import render_reply, render_sms
from flows.messages import Option, Reply


def test_options_become_numbered_lines_the_resident_can_answer() -> None:
    body = render_reply(
        Reply(
            "Your visit code is 4821.",
            (Option("1", "Change the time"), Option("2", "Call the visit off")),
        )
    )
    assert body.text == "Your visit code is 4821.\n1 Change the time\n2 Call the visit off"
    assert body.cost.encoding == "GSM-7"
    assert body.segments == 1


def test_curly_punctuation_is_straightened_to_stay_in_gsm7() -> None:
    body = render_sms("We\u2019ll see you \u201cthis morning\u201d \u2013 8am\u2026")
    assert body.text == 'We\'ll see you "this morning" - 8am...'
    assert body.cost.encoding == "GSM-7"


def test_a_name_that_needs_ucs2_keeps_the_text_exactly_as_written() -> None:
    text = "Si\u00e2n\u2019s visit \u2013 Wed 2 Dec"
    body = render_sms(text)
    assert body.text == text
    assert body.cost.encoding == "UCS-2"


def test_segments_are_reported_for_long_texts() -> None:
    body = render_sms("a" * 150, (Option("1", "Book a repair visit"),))
    assert body.segments == 2
    assert render_sms("short").segments == 1
