"""Residents' recorded access needs as staff review them: a page at a time by key, and
how many are due.

Both read `ix_access_needs_active_review_by` (review date and id, over active needs with a
review date), so retired needs piling up over the years cost nothing here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, tuple_
from sqlmodel import Session, col, select

from storage.models import AccessNeed


@dataclass(frozen=True, slots=True)
class NeedKey:
    """Where a page of needs ends: the last need shown."""

    review_by: date
    id: int


def _due(by: date) -> tuple[ColumnElement[bool], ...]:
    """Active, with a review date on or before `by`: the partial index's predicate."""
    return (
        col(AccessNeed.active).is_(True),
        col(AccessNeed.review_by).is_not(None),
        col(AccessNeed.review_by) <= by,
    )


def due_for_review(
    session: Session, *, by: date, after: NeedKey | None = None, limit: int
) -> Sequence[AccessNeed]:
    """Up to `limit` active needs whose review date is `by` or earlier, soonest first,
    after `after`."""
    query = select(AccessNeed).where(*_due(by))
    if after is not None:
        query = query.where(
            tuple_(col(AccessNeed.review_by), col(AccessNeed.id)) > (after.review_by, after.id)
        )
    return session.exec(
        query.order_by(col(AccessNeed.review_by), col(AccessNeed.id)).limit(limit)
    ).all()


def due_for_review_count(session: Session, *, by: date) -> int:
    """How many active needs are due for review by `by`."""
    return session.exec(select(func.count()).select_from(AccessNeed).where(*_due(by))).one()
