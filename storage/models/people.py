"""Landlords, homes, the people who live in them, and the people who visit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from storage.enums import AccessNeedCategory, Channel, Nation, StaffRole
from storage.models._base import bigint_field, enum_field, json_field, utc_field

#: Default landlord contact hours (DESIGN.md "Contact policy"): weekday = Mon-Sat.
DEFAULT_CONTACT_HOURS: dict[str, list[str]] = {
    "weekday": ["08:00", "20:00"],
    "sunday": ["10:00", "16:00"],
}


class Landlord(SQLModel, table=True):
    __tablename__ = "landlords"

    id: int | None = Field(default=None, primary_key=True)
    #: The landlord's own short reference ("demo"): the CLI and API name landlords by it.
    reference: str = Field(max_length=40, unique=True, index=True)
    name: str
    phone: str
    emergency_phone: str
    contact_hours: dict[str, Any] = json_field()
    code_of_conduct_text: str = ""
    code_of_conduct_url: str = ""
    compensation_policy: str = ""
    #: Named visit windows {"morning": ["08:00", "12:00"], ...}; empty = the defaults.
    visit_windows: dict[str, Any] = json_field()
    created_at: datetime = utc_field()


class Property(SQLModel, table=True):
    __tablename__ = "properties"
    __table_args__ = (
        UniqueConstraint("landlord_id", "reference", name="uq_properties_landlord_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id", index=True)
    #: The landlord's own reference for the home (issue 14): upserts are keyed by it.
    reference: str | None = Field(default=None, max_length=100)
    #: Unique Property Reference Number (HACT UK Housing Data Standard), up to 12 digits.
    uprn: str | None = Field(default=None, max_length=12, index=True)
    address: str
    postcode: str
    nation: Nation = enum_field(Nation, default=Nation.ENGLAND)
    #: SHA-256 of the last record the landlord sent: a re-sync of the same record writes nothing.
    source_hash: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = utc_field(nullable=True)


class Resident(SQLModel, table=True):
    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("landlord_id", "reference", name="uq_residents_landlord_reference"),
        #: Staff find a resident by the start of their name, in any case
        #: (storage.repositories.people.search_residents); text_pattern_ops lets
        #: PostgreSQL answer `LIKE 'mar%'` from the index whatever the database's collation.
        Index(
            "ix_residents_name_lower",
            func.lower(text("name")).label("name_lower"),
            postgresql_ops={"name_lower": "text_pattern_ops"},
        ),
        #: ... or by the landlord's own reference for them.
        Index("ix_residents_reference", "reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id", index=True)
    #: The landlord's own reference for the resident (issue 14).
    reference: str | None = Field(default=None, max_length=100)
    property_id: int | None = Field(default=None, foreign_key="properties.id", index=True)
    name: str
    #: E.164, validated as a UK mobile before it is stored (storage.phones).
    mobile: str | None = Field(default=None, unique=True, index=True)
    telegram_id: int | None = bigint_field(unique=True, index=True)
    preferred_channel: Channel = enum_field(Channel, default=Channel.SMS)
    language: str = "en"
    #: Narrows the landlord's hours, e.g. {"weekday": ["10:00", "18:00"]}; empty = landlord's.
    contact_hours: dict[str, Any] = json_field()
    nominee_name: str | None = None
    #: E.164 like `mobile`. Someone the resident asked us to involve; a text from this
    #: number is answered as from their nominee (docs/nominees.md), so it is indexed.
    nominee_phone: str | None = Field(default=None, index=True)
    nominee_relationship: str | None = None
    door_password_hash: str | None = None
    sms_opted_out_at: datetime | None = utc_field(nullable=True)
    telegram_opted_out_at: datetime | None = utc_field(nullable=True)
    #: Set when a provider says the address cannot be reached (Twilio permanent error, bot blocked).
    sms_unreachable_at: datetime | None = utc_field(nullable=True)
    telegram_unreachable_at: datetime | None = utc_field(nullable=True)
    source_hash: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    #: The day the tenancy ended, as the landlord's system says (issue 16): from then the
    #: resident's access needs and, years later, the resident are let go (docs/retention.md).
    tenancy_ended_on: date | None = None
    #: When retention blanked this resident's name, numbers and nominee (the id stays).
    anonymised_at: datetime | None = utc_field(nullable=True)


class AccessNeed(SQLModel, table=True):
    """Special-category data: shown to staff with the right role, shared only with consent."""

    __tablename__ = "access_needs"
    #: The needs due for review, soonest first (storage.repositories.access_needs), read
    #: from the active ones only (the predicate as the query writes it, per database).
    __table_args__ = (
        Index(
            "ix_access_needs_active_review_by",
            "review_by",
            "id",
            postgresql_where=text("active IS true AND review_by IS NOT NULL"),
            sqlite_where=text("active IS 1 AND review_by IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    category: AccessNeedCategory = enum_field(AccessNeedCategory)
    own_words: str
    consent_to_share: bool = False
    recorded_at: datetime = utc_field()
    review_by: date | None = None
    source: str = "resident"
    active: bool = True
    #: When the need stopped being active (replaced or withdrawn); retention deletes it a
    #: grace period later (docs/retention.md).
    withdrawn_at: datetime | None = utc_field(nullable=True)


class Contractor(SQLModel, table=True):
    __tablename__ = "contractors"

    id: int | None = Field(default=None, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id", index=True)
    name: str
    phone: str = ""


class Operative(SQLModel, table=True):
    __tablename__ = "operatives"
    __table_args__ = (
        UniqueConstraint("landlord_id", "reference", name="uq_operatives_landlord_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id", index=True)
    #: The landlord's own reference for the operative (issue 14).
    reference: str | None = Field(default=None, max_length=100)
    contractor_id: int = Field(foreign_key="contractors.id", index=True)
    name: str
    badge_number: str = Field(unique=True, index=True)
    #: A bare file name, looked up in the photos folder, then the demo folder
    #: (bot/common/photos.py resolve_photo); never a path.
    photo_path: str | None = None
    trades: list[str] = json_field(factory=list)
    telegram_id: int | None = bigint_field(unique=True, index=True)
    link_code_hash: str | None = None
    active: bool = True
    source_hash: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = utc_field(nullable=True)


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("email"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str
    name: str
    password_hash: str
    role: StaffRole = enum_field(StaffRole, default=StaffRole.STAFF)
    active: bool = True
    created_at: datetime = utc_field()
    #: Base32 TOTP secret once two-factor sign-in is set up (issue 13); None without it.
    totp_secret: str | None = Field(default=None, max_length=64)
    #: The last 30-second step whose code was accepted: a code is never accepted twice.
    totp_last_step: int | None = bigint_field()
