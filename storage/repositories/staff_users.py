"""Staff accounts of the web app."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from storage.models import StaffUser


def staff_user_by_email(session: Session, *, email: str) -> StaffUser | None:
    """The account with this (already normalised) email, active or not."""
    return session.exec(select(StaffUser).where(col(StaffUser.email) == email)).first()


@dataclass(frozen=True, slots=True)
class StaffKey:
    """Where a page of accounts ends: the last one shown (active first, then by name)."""

    active: bool
    name: str
    id: int


def staff_users_page(
    session: Session, *, after: StaffKey | None = None, limit: int
) -> list[StaffUser]:
    """Up to `limit` accounts after `after`: active ones first, then by name and id (the
    staff admin page). Active and inactive are read as two runs by (name, id)."""
    found: list[StaffUser] = []
    for active in (True, False):
        if after is not None and after.active and not active:
            key = None  # past the last active account: the inactive from their start
        elif after is not None and after.active != active:
            continue  # a page that began among the inactive has no active one left
        else:
            key = after
        wanted = limit - len(found)
        if wanted <= 0:
            break
        query = select(StaffUser).where(col(StaffUser.active) == active)
        if key is not None:
            query = query.where(tuple_(col(StaffUser.name), col(StaffUser.id)) > (key.name, key.id))
        found += session.exec(
            query.order_by(col(StaffUser.name), col(StaffUser.id)).limit(wanted)
        ).all()
    return found
