"""Housekeeping the scheduler runs: conversations that were abandoned part way.

An abandoned booking resets after its timeout and the job goes on the staff's list of
unbooked jobs, so nobody is left waiting for a visit that was never agreed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from flows.engine import IDLE_FLOW, START_STATE, FlowRegistry
from storage.db import Database
from storage.enums import TaskKind
from storage.models import Conversation, RepairJob, StaffTask
from storage.repositories import conversations

log = logging.getLogger(__name__)


def expire_conversations(db: Database, flows: FlowRegistry, *, now: datetime) -> int:
    """Reset every conversation past its timeout; returns how many were reset."""
    reset = 0
    with db.session() as session:
        for conversation in conversations.timed_out(session, now=now, idle_flow=IDLE_FLOW):
            flow = flows.flows.get(conversation.flow)
            if flow is not None and flow.on_timeout == "unbooked":
                _unbooked_task(session, conversation, now)
            log.info(
                "conversation timed out conversation_id=%s flow=%s state=%s",
                conversation.id,
                conversation.flow,
                conversation.state,
            )
            conversation.flow, conversation.state = IDLE_FLOW, START_STATE
            conversation.data, conversation.expires_at = {}, None
            conversation.updated_at = now
            session.add(conversation)
            reset += 1
    return reset


def _unbooked_task(session: Session, conversation: Conversation, now: datetime) -> None:
    job_id = conversation.data.get("job_id")
    job = session.get(RepairJob, int(job_id)) if job_id is not None else None
    what = f"{job.reference} ({job.description})" if job else "a repair"
    session.add(
        StaffTask(
            kind=TaskKind.UNBOOKED,
            summary=f"Resident started booking {what} but did not finish: please follow up",
            resident_id=conversation.resident_id,
            conversation_id=conversation.id,
            created_at=now,
        )
    )
