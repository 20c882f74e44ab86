"""Inviting a resident to book a repair the landlord raised (issue 14, item 3): pure rules.

A job from the landlord's system (API or CSV import) that is open, has a resident and no
booked visit goes through these steps, each taken once (the job's `invited_at`,
`invite_followed_up_at` and `unbooked_listed_at` record them):

1. **Invite**: what was reported and "Reply 1 to choose a time" (a button on Telegram).
   "1" then starts booking that very job (the message's `menu`).
2. **Follow-up**: FOLLOW_UP_AFTER after the invite went, if the job is still unbooked.
3. **Unbooked list**: LIST_AFTER after the follow-up went, the job goes on the staff's
   unbooked list. At once, instead, when a message could not reach the resident at all
   (opted out, no mobile, unreachable, failed): nobody is left waiting for a reply that
   cannot come.

An **emergency** job never waits for a reply: staff get an urgent task to call the
resident and arrange it today, the resident is told at once (any hour, as urgent safety
messages are; never past an opt-out) and the job goes straight on the unbooked list.

A job booked meanwhile (by text, or by the landlord's scheduler) leaves the steps: the
contact policy blocks a pending invite or follow-up with `job_booked` at send time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flows.wording import invitations as words
from storage.enums import JobPriority, OutboxStatus, TaskKind

FOLLOW_UP_AFTER = timedelta(days=2)
LIST_AFTER = timedelta(days=2)
#: An invitation not sent within this long (held by caps or hours) is no longer worth it.
USE_BY = timedelta(days=7)
INVITE = "job_invite"
FOLLOW_UP = "job_invite_followup"
EMERGENCY = "job_emergency_call"
#: Message kinds about a job rather than an appointment: their payload names the job.
JOB_KINDS = frozenset({INVITE, FOLLOW_UP, EMERGENCY})
#: The outbox purpose words (flows.policy.Purpose) of these messages.
SERVICE = "service"
URGENT_SAFETY = "urgent_safety"

_GONE = frozenset({OutboxStatus.BLOCKED, OutboxStatus.FAILED, OutboxStatus.EXPIRED})
_WENT = frozenset({OutboxStatus.SENT, OutboxStatus.DELIVERED})


class Step(StrEnum):
    INVITE = "invite"
    FOLLOW_UP = "follow_up"
    EMERGENCY = "emergency"
    LIST = "list"
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of one planned message: its outbox status and when it went."""

    status: OutboxStatus
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class JobFacts:
    """One open, unbooked job of a resident's own, as the steps need it."""

    job_id: int
    reference: str
    description: str
    priority: JobPriority
    resident_first_name: str
    emergency_phone: str
    invited_at: datetime | None = None
    followed_up_at: datetime | None = None
    #: The invite's and the follow-up's outbox rows (None: not planned, or not found).
    invite: Sent | None = None
    follow_up: Sent | None = None
    #: The emergency call message is planned already (a job made an emergency later
    #: still gets one, however far the invitation had gone).
    emergency_planned: bool = False
    #: The landlord's system named no resident to contact: staff must arrange it.
    has_resident: bool = True


@dataclass(frozen=True, slots=True)
class JobMessage:
    kind: str
    key: str
    purpose: str
    text: str
    not_before: datetime
    expires_at: datetime | None
    time_critical: bool
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobTask:
    kind: TaskKind
    summary: str
    urgent: bool


def key(job_id: int, kind: str) -> str:
    """The outbox key: one invite, one follow-up, one emergency call per job, ever."""
    suffix = {INVITE: "invite", FOLLOW_UP: "invite_followup", EMERGENCY: "emergency_call"}[kind]
    return f"job:{job_id}:{suffix}"


def next_step(facts: JobFacts, *, now: datetime) -> Step:
    """What the job needs now; WAIT while a message is on its way or its time has not come."""
    if facts.priority == JobPriority.EMERGENCY:
        return Step.LIST if facts.emergency_planned else Step.EMERGENCY
    if not facts.has_resident:
        return Step.LIST
    if facts.invited_at is None:
        return Step.INVITE
    went = _went(facts.invite, facts.invited_at)
    if went is None:
        return Step.LIST if _gone(facts.invite) else Step.WAIT
    if facts.followed_up_at is None:
        return Step.FOLLOW_UP if now >= went + FOLLOW_UP_AFTER else Step.WAIT
    went = _went(facts.follow_up, facts.followed_up_at)
    if went is None:
        return Step.LIST if _gone(facts.follow_up) else Step.WAIT
    return Step.LIST if now >= went + LIST_AFTER else Step.WAIT


def _went(message: Sent | None, planned_at: datetime) -> datetime | None:
    """When the message went; a row no longer there counts as sent when planned."""
    if message is None:
        return planned_at
    if message.status in _WENT:
        return message.sent_at or planned_at
    return None


def _gone(message: Sent | None) -> bool:
    return message is not None and message.status in _GONE


def gave_up(status: OutboxStatus) -> bool:
    """A message the policy or the provider would not let through: list the job at once."""
    return status in _GONE


def _book_this_job(job_id: int) -> dict[str, Any]:
    """ "1" (or the button) starts booking this very job (bot/outbound/planning.on_sent)."""
    return {
        "job_id": job_id,
        "options": [{"key": "1", "label": words.CHOOSE_A_TIME}],
        "menu": [["1", words.CHOOSE_A_TIME, "book", job_id]],
    }


def invite(facts: JobFacts, *, now: datetime) -> JobMessage:
    return JobMessage(
        kind=INVITE,
        key=key(facts.job_id, INVITE),
        purpose=SERVICE,
        text=words.invite(facts.resident_first_name, facts.description),
        not_before=now,
        expires_at=now + USE_BY,
        time_critical=False,
        payload=_book_this_job(facts.job_id),
    )


def follow_up(facts: JobFacts, *, now: datetime) -> JobMessage:
    return JobMessage(
        kind=FOLLOW_UP,
        key=key(facts.job_id, FOLLOW_UP),
        purpose=SERVICE,
        text=words.follow_up(facts.resident_first_name, facts.description),
        not_before=now,
        expires_at=now + USE_BY,
        time_critical=False,
        payload=_book_this_job(facts.job_id),
    )


def emergency(facts: JobFacts, *, now: datetime) -> tuple[JobMessage, JobTask]:
    """The resident is told at once that we will call today; staff are asked to call."""
    message = JobMessage(
        kind=EMERGENCY,
        key=key(facts.job_id, EMERGENCY),
        purpose=URGENT_SAFETY,
        text=words.emergency_call(
            facts.resident_first_name, facts.description, facts.emergency_phone
        ),
        not_before=now,
        expires_at=now + timedelta(hours=12),
        time_critical=True,
        payload={"job_id": facts.job_id},
    )
    todo = (
        "call the resident and arrange it today"
        if facts.has_resident
        else "no resident named to contact: arrange it today"
    )
    task = JobTask(
        kind=TaskKind.CALLBACK,
        summary=(
            f"EMERGENCY repair {facts.reference} "
            f"({words.short_description(facts.description)}): {todo}"
        ),
        urgent=True,
    )
    return message, task
