"""Staff accounts of the web app."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import StaffUser


def staff_user_by_email(session: Session, *, email: str) -> StaffUser | None:
    """The account with this (already normalised) email, active or not."""
    return session.exec(select(StaffUser).where(col(StaffUser.email) == email)).first()
