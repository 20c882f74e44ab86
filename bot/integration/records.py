"""The records a landlord's system sends us (issue 14), as pydantic models: what each field
may hold, checked before anything touches the database.

Field names follow the HACT UK Housing Data Standard where it names one (`uprn`,
`address_line_1`, `town_or_city`, `postcode`, `sor_code`, `raised_at`, `target_date`).
Every record is keyed by the landlord's own `reference`; references to other records
(`property`, `resident`, `operative`) are the landlord's references too, resolved within
the landlord's own records only. Unknown fields are refused, so a typo is never silently
dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from bot.integration.photos import photo_field
from flows.policy.rules import ContactRules
from storage.enums import HazardCategory, Nation, Trade
from storage.phones import PhoneNumberError, normalise_uk_mobile

#: A landlord's reference: letters, digits and . _ - : ~ (no spaces, no slashes), since it
#: appears in URLs (/api/v1/properties/{reference}).
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,99}$"
Reference = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=REFERENCE_PATTERN
    ),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

#: The shape of a UK postcode (outward code, then inward code: digit and two letters).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_HOURS_KEYS = ("weekday", "sunday")


def _invalid(reason: str) -> PydanticCustomError:
    """A validation error whose message is the reason alone (no "Value error, " prefix)."""
    return PydanticCustomError("invalid", reason.replace("{", "(").replace("}", ")"))


#: Characters no database column may hold (PostgreSQL refuses NUL; a lone surrogate
#: cannot be encoded).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise _invalid("contains a character that cannot be stored")
        return value


def normalise_postcode(raw: str) -> str:
    """'sw1a1aa' -> 'SW1A 1AA'; ValueError if it is not the shape of a UK postcode."""
    compact = re.sub(r"\s+", "", raw).upper()
    match = _POSTCODE.match(compact)
    if match is None:
        raise ValueError("not a UK postcode")
    return f"{match.group(1)} {match.group(2)}"


@lru_cache(maxsize=1024)
def _hours_problem(spans: tuple[tuple[str, tuple[str, ...] | None], ...]) -> str | None:
    """What is wrong with these contact hours, or None; most residents share a few."""
    try:
        ContactRules.from_config(
            None, {key: None if span is None else list(span) for key, span in spans}
        )
    except ValueError as exc:
        return str(exc)
    return None


def _uk_phone(raw: str) -> str:
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, "GB")
    except NumberParseException as exc:
        raise _invalid("not a phone number") from exc
    if number.country_code != 44 or not phonenumbers.is_valid_number(number):
        raise _invalid("not a valid UK phone number")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


# --- properties -------------------------------------------------------------------------


class PropertyFields(_Strict):
    uprn: str | None = Field(
        default=None, description="Unique Property Reference Number, 1-12 digits."
    )
    address_line_1: Text
    address_line_2: Text | None = None
    town_or_city: Text
    postcode: str = Field(description="A UK postcode; stored as 'SW1A 1AA'.")
    nation: Nation = Nation.ENGLAND

    @field_validator("uprn", mode="before")
    @classmethod
    def _uprn(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,12}", value.strip()):
            raise _invalid("a UPRN is 1 to 12 digits")
        return value.strip() if isinstance(value, str) else value

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        try:
            return normalise_postcode(value)
        except ValueError as exc:
            raise _invalid(str(exc)) from None


class PropertyBody(PropertyFields):
    """A home, as sent to PUT /properties/{reference}."""

    reference: Reference | None = Field(
        default=None, description="Optional here; if given it must match the path."
    )
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "uprn": "100023336956",
                    "address_line_1": "Flat 4, Ash Court",
                    "address_line_2": "12 Mill Lane",
                    "town_or_city": "Leeds",
                    "postcode": "LS6 2AB",
                    "nation": "england",
                }
            ]
        },
    )


class PropertyRecord(PropertyFields):
    reference: Reference

    def address(self) -> str:
        lines = (self.address_line_1, self.address_line_2, self.town_or_city)
        return ", ".join(line for line in lines if line)


# --- residents --------------------------------------------------------------------------


class Nominee(_Strict):
    """Someone the resident asked us to involve (HACT: nominated contact)."""

    name: Text
    phone: str = Field(description="A UK phone number.")
    relationship: Text

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _uk_phone(value)


class ResidentFields(_Strict):
    name: Text
    mobile: str = Field(description="A UK mobile number; stored in E.164 (+447...).")
    property: Reference = Field(description="The landlord's reference of the resident's home.")
    preferred_channel: Literal["sms", "telegram"] = "sms"
    language: str = Field(default="en", description="A language tag: en, cy, pl, pt-BR ...")
    contact_hours: dict[str, list[str] | None] = Field(
        default_factory=dict,
        description=(
            "Narrows the landlord's contact hours: {'weekday': ['09:00', '18:00'], "
            "'sunday': null}. weekday = Monday to Saturday; null or [] = never that day."
        ),
    )
    nominee: Nominee | None = None
    door_password: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="A word the operative must say at the door. Stored only as a hash; "
        "never shown again.",
    )
    tenancy_end: date | None = Field(
        default=None,
        description="The day the tenancy ended, once it has: the resident's access needs are "
        "deleted 90 days later, and the resident is anonymised six years later unless a job "
        "is still live or a complaint open (docs/retention.md).",
    )

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        try:
            return normalise_uk_mobile(value)
        except PhoneNumberError:
            raise _invalid("not a UK mobile number") from None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.fullmatch(value):
            raise _invalid("not a language tag like 'en', 'cy' or 'pl'")
        return value

    @field_validator("contact_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str] | None]) -> dict[str, list[str] | None]:
        unknown = sorted(set(value) - set(_HOURS_KEYS))
        if unknown:
            raise _invalid(f"unknown key(s) {', '.join(unknown)}: use weekday and sunday")
        spans = tuple((key, None if span is None else tuple(span)) for key, span in value.items())
        problem = _hours_problem(spans)
        if problem is not None:
            raise _invalid(problem)
        return {key: value[key] for key in _HOURS_KEYS if key in value}


_RESIDENT_EXAMPLE: JsonDict = {
    "name": "Margaret Hughes",
    "mobile": "07400 900123",
    "property": "PR-1001",
    "preferred_channel": "sms",
    "language": "en",
    "contact_hours": {"weekday": ["09:00", "18:00"], "sunday": None},
    "nominee": {"name": "Sian Hughes", "phone": "07400 900456", "relationship": "daughter"},
}


class ResidentBody(ResidentFields):
    """A resident, as sent to PUT /residents/{reference}."""

    reference: Reference | None = Field(default=None, description="Optional; must match.")
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [_RESIDENT_EXAMPLE]}
    )


class ResidentRecord(ResidentFields):
    reference: Reference


# --- operatives -------------------------------------------------------------------------


class OperativeFields(_Strict):
    name: Text
    employer: Text = Field(description="The contractor's name; created if new.")
    badge_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)
    ] = Field(description="Shown to residents at the door; unique across Doorstep.")
    trades: list[Trade] = Field(min_length=1, max_length=len(Trade))
    active: StrictBool = True
    photo: str | None = Field(
        default=None,
        description="The operative's photo, shown to residents: base64 of a JPEG or PNG of at "
        "most 500 KB (a data:image/...;base64, prefix is allowed). Left out: the stored photo "
        "stays as it is; null: removed. Never given back (GET answers has_photo).",
    )

    @field_validator("trades")
    @classmethod
    def _trades(cls, value: list[Trade]) -> list[Trade]:
        return sorted(set(value))

    @field_validator("photo")
    @classmethod
    def _photo(cls, value: str | None) -> str | None:
        return None if value is None else photo_field(value)


class OperativeBody(OperativeFields):
    """An operative, as sent to PUT /operatives/{reference}."""

    reference: Reference | None = Field(default=None, description="Optional; must match.")
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Dave Price",
                    "employer": "Price Plumbing Ltd",
                    "badge_number": "PP-0421",
                    "trades": ["plumbing", "gas"],
                    "active": True,
                }
            ]
        },
    )


class OperativeRecord(OperativeFields):
    reference: Reference


# --- jobs -------------------------------------------------------------------------------


class JobFields(_Strict):
    property: Reference = Field(description="The landlord's reference of the home.")
    resident: Reference | None = Field(
        default=None, description="The landlord's reference of the resident to contact."
    )
    trade: Trade | None = Field(default=None, description="Give a trade, a sor_code or both.")
    sor_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._/-]{1,40}$")]
        | None
    ) = Field(default=None, validate_default=True, description="Schedule of rates code.")
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ]
    priority: Literal["emergency", "urgent", "routine"] = "routine"
    hazard_category: HazardCategory | None = None
    raised_at: AwareDatetime | None = Field(
        default=None, description="When the repair was reported, with a UTC offset."
    )
    target_date: date | None = None

    @field_validator("raised_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:
            raise _invalid("out of range") from None

    @field_validator("sor_code")
    @classmethod
    def _trade_or_sor(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("trade") is None and "trade" in info.data:
            raise _invalid("give a trade or a sor_code")
        return value


class JobBody(JobFields):
    """A repair job, as sent to PUT /jobs/{reference}."""

    reference: Reference | None = Field(default=None, description="Optional; must match.")
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "property": "PR-1001",
                    "resident": "TN-2001",
                    "trade": "plumbing",
                    "sor_code": "PL0101",
                    "description": "Kitchen tap dripping constantly",
                    "priority": "routine",
                    "hazard_category": "leak",
                    "raised_at": "2026-11-30T09:12:00+00:00",
                    "target_date": "2026-12-28",
                }
            ]
        },
    )


class JobRecord(JobFields):
    reference: Reference


# --- windows ----------------------------------------------------------------------------


class WindowRecord(_Strict):
    """An operative's capacity in one named visit window of one day."""

    operative: Reference
    date: date
    window: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="A visit window of the landlord: morning, afternoon by default."
    )
    capacity: StrictInt = Field(ge=0, le=100, description="Visits the operative can take.")
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"operative": "OP-421", "date": "2026-12-01", "window": "morning", "capacity": 2}
            ]
        },
    )

    @property
    def reference(self) -> str:
        return window_reference(self.operative, self.date.isoformat(), self.window)


def window_reference(operative: str, day: str, window: str) -> str:
    """'OP-421/2026-12-01/morning': how a window is named in results."""
    return f"{operative}/{day}/{window}"
