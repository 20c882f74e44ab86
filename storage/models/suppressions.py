"""Opt-outs that outlive the resident's record (issue 16, docs/retention.md).

When retention anonymises a resident who had opted out of a channel, their number (or
Telegram id) is blanked, but the opt-out must still hold: a number that said STOP is never
texted again, even if the landlord's system later sends a new record with it. So the
opt-out is kept here as a SHA-256 of the channel and address, with when it began.

A SHA-256 of a UK mobile number is not anonymous (there are few enough numbers to try them
all); it is the least that honours the opt-out, as a suppression list, and it is never shown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import Channel
from storage.models._base import enum_field, utc_field


class ContactSuppression(SQLModel, table=True):
    __tablename__ = "contact_suppressions"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = enum_field(Channel)
    #: SHA-256, hex, of "<channel>:<address>" (storage.repositories.suppressions).
    address_hash: str = Field(max_length=64)
    #: When the opt-out began (the resident's own `*_opted_out_at`).
    opted_out_at: datetime = utc_field()
    created_at: datetime = utc_field()
