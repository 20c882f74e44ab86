"""The morning briefing: each linked operative's day, queued in the outbox at 07:00 UK.

It goes through the outbox like every other message, so the contact policy judges it and
the dispatcher's record shows it was sent. The key is per operative per day, so running
the job twice (two instances, a restart) queues one briefing. Operatives without a
visit that day get nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.operatives.briefing import briefing_text, load_day, record_disclosures
from storage.db import Database
from storage.enums import Channel
from storage.models import Appointment
from storage.repositories.operatives import linked_and_active
from storage.repositories.outbox import enqueue

log = logging.getLogger(__name__)

PURPOSE = "operative_briefing"
KIND = "briefing"


@dataclass(frozen=True, slots=True)
class BriefingStats:
    queued: int
    already_queued: int


def briefing_key(operative_id: int, day: object) -> str:
    return f"briefing:{operative_id}:{day}"


def send_morning_briefings(db: Database, *, now: datetime) -> BriefingStats:
    queued = already = 0
    with db.session() as session:
        for operative in linked_and_active(session):
            assert operative.id is not None
            brief = load_day(session, operative, now=now)
            if not brief.visits:
                continue
            last = session.get(Appointment, brief.visits[-1].appointment_id)
            assert last is not None
            row_id = enqueue(
                session,
                key=briefing_key(operative.id, brief.day),
                kind=KIND,
                purpose=PURPOSE,
                text=briefing_text(brief),
                not_before=now,
                now=now,
                channel=Channel.TELEGRAM,
                address=str(operative.telegram_id),
                operative_id=operative.id,
                # Of no use once the day's last visit is over.
                expires_at=last.ends_at,
                time_critical=True,
                payload={"options": [], "photo_path": None, "day": brief.day.isoformat()},
            )
            if row_id is None:
                already += 1
                continue
            record_disclosures(session, brief, now=now)
            queued += 1
    log.info("morning briefings queued=%s already=%s", queued, already)
    return BriefingStats(queued=queued, already_queued=already)
