"""The outbox as people read it: each message with every decision about it and its reason.

One view for `doorstep outbox list` and the simulator's `/simulator/api/outbox`, so the two
never disagree about what happened to a message.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from storage.models import ContactDecision, OutboxMessage, Resident


def outbox_rows(session: Session, *, mobile: str | None, limit: int) -> list[dict[str, Any]]:
    """The outbox as the simulator's `/simulator/api/outbox` shows it, plus channel and address."""
    query = select(OutboxMessage)
    if mobile is not None:
        resident = session.exec(select(Resident).where(Resident.mobile == mobile)).first()
        if resident is None:
            return []
        query = query.where(OutboxMessage.resident_id == resident.id)
    rows = list(session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(limit)).all())
    rows.reverse()
    decisions: dict[int, list[ContactDecision]] = {}
    ids = [r.id for r in rows if r.id is not None]
    if ids:
        for decision in session.exec(
            select(ContactDecision)
            .where(col(ContactDecision.outbox_id).in_(ids))
            .order_by(col(ContactDecision.id))
        ).all():
            decisions.setdefault(decision.outbox_id, []).append(decision)
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "purpose": row.purpose,
            "channel": str(row.channel) if row.channel else None,
            "address": row.address,
            "text": row.text,
            "status": str(row.status),
            "not_before": row.not_before.isoformat(),
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "decisions": [
                {
                    "decision": str(d.decision),
                    "reason": d.reason_code,
                    "detail": d.detail,
                    "at": d.at.isoformat(),
                }
                for d in decisions.get(row.id or -1, [])
            ],
        }
        for row in rows
    ]
