from __future__ import annotations

import pytest

from storage.phones import PhoneNumberError, display_uk, is_uk_mobile, normalise_uk_mobile


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07400 123456", "+447400123456"),
        ("07400123456", "+447400123456"),
        ("+44 7400 123456", "+447400123456"),
        ("0044 7400 123456", "+447400123456"),
        ("+44 (0)7400 123-456", "+447400123456"),
        ("(07400) 123456", "+447400123456"),
        ("+447797 123456", "+447797123456"),  # Jersey mobile
        ("+447781 123456", "+447781123456"),  # Guernsey mobile
        ("+447624 123456", "+447624123456"),  # Isle of Man mobile
    ],
)
def test_uk_mobiles_in_any_common_form(raw: str, expected: str) -> None:
    assert normalise_uk_mobile(raw) == expected
    assert is_uk_mobile(raw)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("0113 496 0000", "mobile"),  # Leeds landline
        ("020 7946 0018", "mobile"),  # London landline
        ("0800 123 4567", "mobile"),  # freephone
        ("+33 6 12 34 56 78", "not a UK number"),  # French mobile
        ("07700 900123", "not a valid UK number"),  # Ofcom drama range
        ("0740012345", "not a valid UK number"),  # a digit short
        ("hello", "not a phone number"),
        ("", "no phone number"),
    ],
)
def test_anything_else_gets_a_clear_error(raw: str, why: str) -> None:
    with pytest.raises(PhoneNumberError, match=why):
        normalise_uk_mobile(raw)
    assert not is_uk_mobile(raw)


def test_display_is_national_format() -> None:
    assert display_uk("+447400123456") == "07400 123456"


def test_the_fast_path_answers_exactly_as_phonenumbers_does() -> None:
    """Numbers in every plain form, mobiles and not (all 07 ranges, landlines, Crown
    dependencies, short and long): the fast path's answer is the full parse's answer."""
    import random

    from storage.phones import _parse_uk_mobile, _plain_mobile

    rng = random.Random(20261203)
    numbers = [f"07{rng.randrange(10**9):09d}" for _ in range(4_000)]
    numbers += [f"0{d}{rng.randrange(10**9):09d}" for d in range(1, 10) for _ in range(100)]
    numbers += ["07700900123", "07624123456", "07797123456", "07781123456", "0740012345"]
    taken = 0
    for national in numbers:
        for form in (national, "+44" + national[1:], "0044 " + national[1:4] + " " + national[4:]):
            fast = _plain_mobile(form)
            try:
                slow: str | None = _parse_uk_mobile(form)
            except PhoneNumberError:
                slow = None
            if fast is not None:
                taken += 1
                assert fast == slow, form
    assert taken > 8_000  # most mobiles take the fast path
