"""One-time tokens that link a resident's Telegram account to their record.

Only a hash is stored: the token itself travels once, by SMS, to the resident's own
mobile, and a database leak must not let anyone link themselves to a resident.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models._base import bigint_field, utc_field


class LinkToken(SQLModel, table=True):
    __tablename__ = "link_tokens"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    #: SHA-256 of the token, hex; the token is never stored.
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
    #: The Telegram user the token linked, for the audit trail.
    used_by_telegram_id: int | None = bigint_field()
