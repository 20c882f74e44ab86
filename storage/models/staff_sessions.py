"""Staff sign-in state kept server-side: sessions and sign-in attempts (issue 13).

A session row is found by the SHA-256 of the random token in the browser's cookie; the
token itself is never stored, so a copy of the table signs nobody in. Revoking a session
(sign-out, password change, an administrator) sets `revoked_at`, and the cookie is dead at
once, whatever it still says.

Sign-in attempts are kept in their own narrow table, indexed by account and by address,
so the back-off can count failures per account, per address and per pair cheaply.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models._base import utc_field


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_sessions"

    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the cookie's token, hex; the token is never stored.
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(foreign_key="staff_users.id", index=True)
    created_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()
    #: False between a right password and the two-factor code.
    second_factor_done: bool = False
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)
    revoked_at: datetime | None = utc_field(nullable=True)


class StaffLoginAttempt(SQLModel, table=True):
    __tablename__ = "staff_login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(index=True)
    #: The normalised email typed, whether or not such an account exists.
    account: str = Field(index=True, max_length=320)
    address: str = Field(index=True, max_length=64)
    succeeded: bool = False
