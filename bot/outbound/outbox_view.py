"""The outbox as people read it: each message with every decision about it and its reason.

One view for `doorstep outbox list` and the simulator's `/simulator/api/outbox`, so the two
never disagree about what happened to a message.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.enums import Channel
from storage.models import ContactDecision
from storage.repositories import outbox
from storage.repositories.people import resident_by_address


def outbox_rows(session: Session, *, mobile: str | None, limit: int) -> list[dict[str, Any]]:
    """The outbox as the simulator's `/simulator/api/outbox` shows it, plus channel and address."""
    resident_id: int | None = None
    if mobile is not None:
        resident = resident_by_address(session, channel=Channel.SMS, address=mobile)
        if resident is None:
            return []
        resident_id = resident.id
    rows = outbox.latest(session, resident_id=resident_id, limit=limit)
    decisions: dict[int, list[ContactDecision]] = {}
    ids = [r.id for r in rows if r.id is not None]
    for decision in outbox.decisions_for(session, outbox_ids=ids):
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
