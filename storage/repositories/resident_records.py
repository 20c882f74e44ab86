"""What a resident's own messages change on their record: their access needs (recorded
without copies, retired when replaced, reviewed when confirmed, shared or not as they
decide), the language they want our messages in, repair requests they report by text (the
next job's reference number) and the feedback they give on a visit.

The staff's side of the same tables (review lists, filters) is in access_needs.py and
feedback.py.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.enums import AccessNeedCategory
from storage.models import AccessNeed, Feedback, RepairJob, Resident
from storage.repositories import landlord_events


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def record_need(
    session: Session,
    *,
    resident_id: int,
    category: AccessNeedCategory,
    own_words: str,
    consent: bool,
    at: datetime,
    review_by: date,
    source: str,
    replace_all: bool = False,
) -> AccessNeed:
    """Record a need in the resident's own words, and return it.

    A need already active in the same words (case and spacing ignored) is that record,
    updated in place (its consent, category and review date): telling us again, or
    changing only whether it is shared, never adds a second copy. `replace_all` retires
    every other active need; retired needs are kept, not deleted, until retention's grace
    period after `withdrawn_at` runs out (docs/retention.md).
    """
    active = session.exec(
        select(AccessNeed)
        .where(col(AccessNeed.resident_id) == resident_id, col(AccessNeed.active).is_(True))
        .order_by(col(AccessNeed.id))
    ).all()
    same = next((need for need in active if _same_words(need.own_words, own_words)), None)
    if replace_all:
        for need in active:
            if need is not same:
                need.active = False
                need.withdrawn_at = at  # retention deletes it a grace period later
                session.add(need)
    if same is not None:
        same.consent_to_share = consent
        same.category = category
        same.review_by = review_by
        session.add(same)
        return same
    need = AccessNeed(
        resident_id=resident_id,
        category=category,
        own_words=own_words,
        consent_to_share=consent,
        recorded_at=at,
        review_by=review_by,
        source=source,
    )
    session.add(need)
    return need


def share_active_needs(session: Session, *, resident_id: int, consent: bool) -> int:
    """The resident's active needs are shared with operatives from now on (or no longer),
    on the same records. Returns how many needs that covers."""
    result = session.execute(
        update(AccessNeed)
        .where(col(AccessNeed.resident_id) == resident_id, col(AccessNeed.active).is_(True))
        .values(consent_to_share=consent)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_language(session: Session, *, resident_id: int, language: str, at: datetime) -> bool:
    """The language the resident wants our messages in (an ISO 639-1 code). A change is an
    event for their landlord, whose system holds the language too (by the landlord's
    reference for the resident, never the number). Returns whether it changed."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.language == language:
        return False
    resident.language = language
    session.add(resident)
    landlord_events.record(
        session,
        landlord_id=resident.landlord_id,
        kind=landlord_events.RESIDENT_LANGUAGE_CHANGED,
        now=at,
        data={"resident": resident.reference, "language": language},
    )
    return True


def review_active_needs_by(session: Session, *, resident_id: int, review_by: date) -> None:
    """The resident confirmed their active needs: check them again on `review_by`."""
    session.execute(
        update(AccessNeed)
        .where(col(AccessNeed.resident_id) == resident_id, col(AccessNeed.active).is_(True))
        .values(review_by=review_by)
    )


def repair_job_count(session: Session) -> int:
    """How many repair jobs exist, for the next text-reported job's reference."""
    return len(session.exec(select(RepairJob.id)).all())


def feedback_for_visit(session: Session, *, appointment_id: int) -> Feedback | None:
    """The feedback on a visit, if any was started (there is at most one per visit)."""
    return session.exec(select(Feedback).where(Feedback.appointment_id == appointment_id)).first()
