"""UK mobile numbers: the only numbers Doorstep will text.

Parsing is lenient (07..., +44..., 0044..., spaces, dashes and brackets) and validation
strict: country code 44 and type MOBILE per `phonenumbers`, which includes the Crown
dependencies (Jersey, Guernsey, Isle of Man share +44 with their own regions).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType

#: Regions that share +44 and whose mobiles we accept.
UK_REGIONS = frozenset({"GB", "JE", "GG", "IM"})


def _mobile_pattern() -> re.Pattern[str]:
    """phonenumbers' own national-number patterns for mobiles in the +44 regions, as one."""
    patterns = []
    for region in sorted(UK_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        assert metadata is not None and metadata.mobile is not None
        patterns.append(f"(?:{metadata.mobile.national_number_pattern})")
    return re.compile("|".join(patterns))


_MOBILE = _mobile_pattern()
_SEPARATORS = re.compile(r"[\s().-]")


class PhoneNumberError(ValueError):
    """A number that cannot be texted; the message is safe to show to staff."""


def normalise_uk_mobile(raw: str) -> str:
    """Return the E.164 form of a valid UK mobile number, or raise PhoneNumberError."""
    ok, result = _normalised(raw or "")
    if not ok:
        raise PhoneNumberError(result)
    return result


@lru_cache(maxsize=8192)
def _normalised(raw: str) -> tuple[bool, str]:
    """(True, E.164) or (False, why): every inbound text passes through here and
    `phonenumbers` takes a quarter of a millisecond, so repeat senders are remembered."""
    fast = _plain_mobile(raw)
    if fast is not None:
        return True, fast
    try:
        return True, _parse_uk_mobile(raw)
    except PhoneNumberError as exc:
        return False, str(exc)


def _plain_mobile(raw: str) -> str | None:
    """The E.164 form of a number written plainly (07..., +44 7..., 0044 7..., spaces,
    dashes, brackets) that phonenumbers' own mobile patterns for the +44 regions accept;
    None for anything else, which then takes the full parse. A landlord's sync of 100,000
    residents has no repeats for the cache: this is 30 times faster than the parse, and
    tests/test_phones.py shows it never answers differently."""
    text = _SEPARATORS.sub("", raw)
    for prefix in ("+44", "0044", "0"):
        if text.startswith(prefix):
            national = text[len(prefix) :]
            break
    else:
        return None
    plain = len(national) == 10 and national.isascii() and national.isdigit()
    return "+44" + national if plain and _MOBILE.fullmatch(national) else None


def _parse_uk_mobile(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise PhoneNumberError("no phone number given")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "GB")
    except NumberParseException as exc:
        raise PhoneNumberError(f"{raw!r} is not a phone number") from exc
    if number.country_code != 44:
        raise PhoneNumberError(f"{raw!r} is not a UK number (country code +{number.country_code})")
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(f"{raw!r} is not a valid UK number")
    region = phonenumbers.region_code_for_number(number)
    kind = phonenumbers.number_type(number)
    if region not in UK_REGIONS or kind not in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise PhoneNumberError(f"{raw!r} is not a UK mobile number, so it cannot receive texts")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def is_uk_mobile(raw: str) -> bool:
    try:
        normalise_uk_mobile(raw)
    except PhoneNumberError:
        return False
    return True


def display_uk(e164: str) -> str:
    """National format for people reading it (07400 123456)."""
    try:
        number = phonenumbers.parse(e164, "GB")
    except NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
