"""Staff sessions and sign-in attempts (issue 13): the reads and bulk writes of sign-in.

Owns `staff_sessions` (found by the hash of the cookie's token, revoked by setting
`revoked_at`) and `staff_login_attempts` (counted per account, per address and per pair
for the sign-in back-off).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from storage.models import StaffLoginAttempt, StaffSession


def session_by_token_hash(session: Session, *, token_hash: str) -> StaffSession | None:
    """The session row for this token hash, revoked or not."""
    return session.exec(
        select(StaffSession).where(col(StaffSession.token_hash) == token_hash)
    ).first()


def live_sessions_of(
    session: Session, *, user_id: int, created_after: datetime
) -> Sequence[StaffSession]:
    """The user's sessions not revoked and created after `created_after`, newest first."""
    return session.exec(
        select(StaffSession)
        .where(
            col(StaffSession.user_id) == user_id,
            col(StaffSession.revoked_at).is_(None),
            col(StaffSession.created_at) > created_after,
        )
        .order_by(col(StaffSession.last_seen_at).desc(), col(StaffSession.id).desc())
    ).all()


def live_session_counts(
    session: Session, *, created_after: datetime, user_ids: Collection[int]
) -> dict[int, int]:
    """How many live sessions each of these users has (users with none are absent)."""
    if not user_ids:
        return {}
    rows = session.exec(
        select(StaffSession.user_id, func.count())
        .where(
            col(StaffSession.user_id).in_(set(user_ids)),
            col(StaffSession.revoked_at).is_(None),
            col(StaffSession.created_at) > created_after,
        )
        .group_by(col(StaffSession.user_id))
    ).all()
    return {int(user_id): int(count) for user_id, count in rows}


def revoke_sessions_of(
    session: Session, *, user_id: int, now: datetime, keep_id: int | None = None
) -> int:
    """Revoke every live session of the user (but `keep_id`); returns how many."""
    statement = (
        update(StaffSession)
        .where(col(StaffSession.user_id) == user_id, col(StaffSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    if keep_id is not None:
        statement = statement.where(col(StaffSession.id) != keep_id)
    result = session.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def failure_times(
    session: Session,
    *,
    since: datetime,
    account: str | None = None,
    address: str | None = None,
) -> list[datetime]:
    """When sign-ins failed after `since`, for this account and/or address, oldest first."""
    statement = select(StaffLoginAttempt.at).where(
        col(StaffLoginAttempt.at) > since, col(StaffLoginAttempt.succeeded).is_(False)
    )
    if account is not None:
        statement = statement.where(col(StaffLoginAttempt.account) == account)
    if address is not None:
        statement = statement.where(col(StaffLoginAttempt.address) == address)
    return list(session.exec(statement.order_by(col(StaffLoginAttempt.at))).all())


def last_success(session: Session, *, account: str, since: datetime) -> datetime | None:
    """The account's latest completed sign-in after `since`, if any."""
    found = session.exec(
        select(func.max(StaffLoginAttempt.at)).where(
            col(StaffLoginAttempt.account) == account,
            col(StaffLoginAttempt.succeeded).is_(True),
            col(StaffLoginAttempt.at) > since,
        )
    ).one()
    return found if isinstance(found, datetime) else None
