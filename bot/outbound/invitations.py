"""Inviting residents to book the landlord's jobs (issue 14, item 3): the planner's side.

`plan_invitations` runs inside `bot.outbound.planning.plan` (the scheduler's planner job):
a chunk of due jobs at a time, each chunk in its own transaction (jobs locked SKIP LOCKED
on PostgreSQL), it asks the pure rules (flows.invitations) what each job needs next,
enqueues the message under a per-job key (`job:{id}:invite`, so planning twice adds
nothing) and has the contact policy judge it at once, as every planned message is. The
job's `invited_at`, `invite_followed_up_at` and `unbooked_listed_at` record each step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from flows import invitations as rules
from flows.policy import Verdict
from storage.db import Database
from storage.enums import Decision, JobPriority, OutboxStatus
from storage.models import Landlord, OutboxMessage, RepairJob, Resident
from storage.repositories import invitations as repo
from storage.repositories import outbox
from storage.repositories._batch import by_id

log = logging.getLogger(__name__)

CHUNK = 500
#: The contact policy's first verdict on freshly planned rows, recorded (the planner's
#: `judge_new_rows` with its clock, zone and counts bound): passed in, so this module
#: needs nothing from the planner that calls it.
Judge = Callable[[Session, Sequence[int]], list[tuple[OutboxMessage, Verdict]]]


@dataclass
class InvitationStats:
    jobs: int = 0
    invited: int = 0
    followed_up: int = 0
    emergencies: int = 0
    listed: int = 0


def plan_invitations(
    db: Database, *, now: datetime, judge: Judge, chunk: int = CHUNK
) -> InvitationStats:
    """Take every due job one step on; safe to run as often as you like."""
    done = InvitationStats()
    after = 0
    while True:
        with db.session() as session:
            jobs = repo.due_chunk(
                session,
                now=now,
                after=after,
                size=chunk,
                follow_up_after=rules.FOLLOW_UP_AFTER,
                list_after=rules.LIST_AFTER,
            )
            if not jobs:
                break
            after = max(j.id or 0 for j in jobs)
            done.jobs += len(jobs)
            _step_chunk(session, jobs, now=now, judge=judge, done=done)
        if len(jobs) < chunk:
            break
    if done.invited or done.followed_up or done.emergencies or done.listed:
        log.info(
            "invitations jobs=%d invited=%d followed_up=%d emergencies=%d listed=%d",
            done.jobs,
            done.invited,
            done.followed_up,
            done.emergencies,
            done.listed,
        )
    return done


def _step_chunk(
    session: Session,
    jobs: Sequence[RepairJob],
    *,
    now: datetime,
    judge: Judge,
    done: InvitationStats,
) -> None:
    residents = by_id(session, Resident, {j.resident_id for j in jobs})
    landlords = by_id(session, Landlord, {j.landlord_id for j in jobs})
    keys = [
        rules.key(j.id, kind)
        for j in jobs
        if j.id is not None
        for kind in (rules.INVITE, rules.FOLLOW_UP, rules.EMERGENCY)
    ]
    sent = {
        k: rules.Sent(status, at) for k, (status, at) in repo.outcomes(session, keys=keys).items()
    }
    wanted: list[tuple[RepairJob, rules.JobMessage]] = []
    for job in jobs:
        resident = residents.get(job.resident_id or -1)
        if job.id is None:
            continue
        landlord = landlords.get(job.landlord_id)
        facts = rules.JobFacts(
            job_id=job.id,
            reference=job.reference,
            description=job.description,
            priority=JobPriority(job.priority),
            resident_first_name=(resident.name.split() or ["there"])[0] if resident else "there",
            emergency_phone=landlord.emergency_phone if landlord else "",
            invited_at=job.invited_at,
            followed_up_at=job.invite_followed_up_at,
            invite=sent.get(rules.key(job.id, rules.INVITE)),
            follow_up=sent.get(rules.key(job.id, rules.FOLLOW_UP)),
            emergency_planned=rules.key(job.id, rules.EMERGENCY) in sent,
            has_resident=resident is not None,
        )
        match rules.next_step(facts, now=now):
            case rules.Step.INVITE:
                job.invited_at = now
                wanted.append((job, rules.invite(facts, now=now)))
                done.invited += 1
            case rules.Step.FOLLOW_UP:
                job.invite_followed_up_at = now
                wanted.append((job, rules.follow_up(facts, now=now)))
                done.followed_up += 1
            case rules.Step.EMERGENCY:
                message, task = rules.emergency(facts, now=now)
                repo.add_task(
                    session,
                    kind=task.kind,
                    summary=task.summary,
                    urgent=task.urgent,
                    resident_id=job.resident_id,
                    now=now,
                )
                job.invited_at = job.invited_at or now
                job.unbooked_listed_at = now
                if resident is not None:
                    wanted.append((job, message))
                done.emergencies += 1
            case rules.Step.LIST:
                job.unbooked_listed_at = now
                done.listed += 1
            case rules.Step.WAIT:
                pass
        session.add(job)
    _enqueue(session, wanted, now=now, judge=judge, done=done)


def _enqueue(
    session: Session,
    wanted: Sequence[tuple[RepairJob, rules.JobMessage]],
    *,
    now: datetime,
    judge: Judge,
    done: InvitationStats,
) -> None:
    """Insert the messages not yet in the outbox and judge each new row once; a job whose
    message can never reach the resident (blocked) goes on the unbooked list at once."""
    if not wanted:
        return
    session.flush()
    jobs = {m.key: job for job, m in wanted}
    new_ids = outbox.insert_many(
        session, rows=[_outbox_values(job, m, now=now) for job, m in wanted]
    )
    for row, verdict in judge(session, new_ids):
        job = jobs[row.idempotency_key]
        if verdict.decision == Decision.BLOCK and job.unbooked_listed_at is None:
            job.unbooked_listed_at = now
            session.add(job)
            done.listed += 1


def _outbox_values(job: RepairJob, message: rules.JobMessage, *, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": message.key,
        "kind": message.kind,
        "purpose": message.purpose,
        "text": message.text,
        "not_before": message.not_before,
        "created_at": now,
        "channel": None,  # the dispatcher routes: the resident's channel, SMS as fall-back
        "address": None,
        "resident_id": job.resident_id,
        "operative_id": None,
        "appointment_id": None,
        "appointment_version": None,
        "conversation_id": None,
        "expires_at": message.expires_at,
        "time_critical": message.time_critical,
        "payload": dict(message.payload),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
    }
