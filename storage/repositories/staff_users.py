"""Staff accounts of the web app."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import StaffUser


def staff_user_by_email(session: Session, *, email: str) -> StaffUser | None:
    """The account with this (already normalised) email, active or not."""
    return session.exec(select(StaffUser).where(col(StaffUser.email) == email)).first()


def all_staff_users(session: Session) -> Sequence[StaffUser]:
    """Every account, active ones first, then by name (the staff admin page)."""
    return session.exec(
        select(StaffUser).order_by(col(StaffUser.active).desc(), col(StaffUser.name))
    ).all()
