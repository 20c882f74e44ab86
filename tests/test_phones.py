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
