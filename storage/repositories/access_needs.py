"""Residents' recorded access needs as staff review them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from storage.models import AccessNeed


def due_for_review(session: Session, *, by: date) -> Sequence[AccessNeed]:
    """Active needs whose review date is `by` or earlier, soonest first."""
    return session.exec(
        select(AccessNeed)
        .where(
            col(AccessNeed.active).is_(True),
            col(AccessNeed.review_by).is_not(None),
            col(AccessNeed.review_by) <= by,
        )
        .order_by(col(AccessNeed.review_by), col(AccessNeed.id))
    ).all()
